"""Recording a consent at the gov-private API gateway, with the card's signature over it.

On consent the card (the jpki simulator) signs the consent text, and the provider sends it
with the signature and certificate to ``POST {gateway}/v1/consents``. A topology without a
gateway or a jpki simulator records nothing (and says so in the log), so the provider also runs
alone.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.tls import trust_for

LOG = logging.getLogger("meshcert.idp")


class ConsentNotRecorded(Exception):
    """The gateway or the card refused or could not be reached; the login cannot complete."""


@dataclass(frozen=True)
class ConsentTargets:
    gateway: str | None
    jpki: str | None
    token: str | None  # the provider's bearer credential towards both


def consent_targets(settings: Settings, token: str | None) -> ConsentTargets:
    topology = settings.topology

    def first(kind: str) -> str | None:
        name = next((n for n, s in topology.simulators.items() if s.kind == kind), None)
        return topology.url(name) if name else None

    return ConsentTargets(first("gateway"), first("jpki"), token)


def consent_text(*, client_id: str, purpose: str, scopes: list[str], sub: str,
                 at: datetime) -> str:
    """The text the person's card signs: who gets which facts, why, and when (canonical JSON,
    so the gateway can read back exactly what was signed)."""
    return json.dumps({"client_id": client_id, "purpose": purpose, "scopes": scopes,
                       "sub": sub, "consented_at": at.isoformat(timespec="seconds")},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))


async def record_consent(targets: ConsentTargets, transport: httpx.AsyncBaseTransport | None,
                         tls_dir: Any, *, juminhyo_code: str, client_id: str, purpose: str,
                         scopes: list[str], sub: str) -> dict[str, Any] | None:
    """The gateway's consent record, or None when the topology has no gateway/jpki."""
    if targets.gateway is None or targets.jpki is None:
        LOG.warning("consent of %s for %s not recorded: the topology has no %s", sub[:12],
                 client_id, "gateway" if targets.gateway is None else "jpki simulator")
        return None
    text = consent_text(client_id=client_id, purpose=purpose, scopes=scopes, sub=sub,
                        at=datetime.now(UTC))
    headers = {"Authorization": f"Bearer {targets.token}"} if targets.token else {}
    async with httpx.AsyncClient(transport=transport, verify=trust_for(tls_dir), timeout=10.0,
                                 headers=headers) as http:
        try:
            signed = await http.post(f"{targets.jpki}/v1/cards/{juminhyo_code}/sign",
                                     json={"data": base64.b64encode(text.encode()).decode()})
            if signed.status_code != 200:
                raise ConsentNotRecorded(f"the card did not sign: jpki answered "
                                         f"{signed.status_code}")
            evidence = signed.json()
            recorded = await http.post(f"{targets.gateway}/v1/consents", json={
                "sub": sub, "juminhyo_code": juminhyo_code, "client_id": client_id,
                "scopes": scopes, "signed_text": text, "signature": evidence["signature"],
                "certificate": evidence["certificate"]})
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise ConsentNotRecorded(f"{type(exc).__name__}: {exc}") from None
    if recorded.status_code not in (200, 201):
        raise ConsentNotRecorded(f"the gateway answered {recorded.status_code}: "
                                 f"{recorded.text[:300]}")
    record: dict[str, Any] = recorded.json()
    return record
