"""The simulated cards: each person's two keys and certificates, issued on first use (the
first signature with that key, or the first after a revocation), and the signatures they make.

Before it signs, the card has the CA follow the registry's feed (meshcert_simulators.jpki.feed),
so a move recorded at the registry is seen on the very next signature.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.registry_client import find_person
from meshcert_simulators.contracts.basic_facts import basic_facts
from meshcert_simulators.contracts.jpki_profile import SIGNATURE_ALGORITHM
from meshcert_simulators.jpki import feed
from meshcert_simulators.jpki.ca import (
    CertificateAuthority,
    cert_pem,
    key_pem,
    load_key,
    new_key,
    serial_hex,
)
from meshcert_simulators.jpki.models import MAX_SIGNED_BYTES
from meshcert_simulators.jpki.store import JpkiStore


def decode_data(data: str) -> bytes:
    """The base64 bytes a card is asked to sign (422 when not base64 or too long)."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Problem(422, "invalid-base64", "The data is not base64",
                      "send the bytes to sign as standard base64 (RFC 4648 §4)") from None
    if not raw or len(raw) > MAX_SIGNED_BYTES:
        raise Problem(422, "invalid-data-length", "Nothing to sign, or too much",
                      f"sign between 1 and {MAX_SIGNED_BYTES} bytes")
    return raw


class Cards:
    """The card signer: signs with a person's key, issuing the certificate on first use from
    the registry's record of the person. Its peers are read from ``state`` at the time of use:
    ``feed`` (followed before signing), ``ca``, ``store``, ``registry_access`` and
    ``registry_transport``."""

    def __init__(self, state: Any) -> None:
        self.state = state

    @property
    def transport(self) -> httpx.AsyncBaseTransport | None:
        """The registry's transport (``state.registry_transport``; tests: in-process)."""
        transport: httpx.AsyncBaseTransport | None = self.state.registry_transport
        return transport

    @transport.setter
    def transport(self, value: httpx.AsyncBaseTransport | None) -> None:
        self.state.registry_transport = value

    async def sign(self, juminhyo_code: str, data: bytes, kind: str) -> dict[str, Any]:
        """Sign ``data`` with the person's ``kind`` key, issuing the certificate if none is
        live."""
        store: JpkiStore = self.state.store
        async with self.state.feed.current():
            row = store.live(juminhyo_code, kind)
            if row is None:
                row = await self._issue(juminhyo_code, kind)
        signature = load_key(row["private_key_pem"]).sign(data, ec.ECDSA(hashes.SHA256()))
        return {"signature": base64.b64encode(signature).decode("ascii"),
                "algorithm": SIGNATURE_ALGORITHM, "certificate": row["certificate_pem"],
                "serial": row["serial"], "key": kind}

    async def _issue(self, juminhyo_code: str, kind: str) -> Any:
        access = feed.registry_of(self.state)
        async with access.client(self.transport) as http:
            person = await find_person(access, http, juminhyo_code)
        if person is None:
            raise Problem(404, "card-not-found", "No card for this person",
                          f"no hosted municipality has a resident with 住民票コード "
                          f"{juminhyo_code}", juminhyo_code=juminhyo_code)
        if person.get("status") != "resident":
            raise Problem(409, "card-not-usable", "The card cannot be used",
                          f"the person is {person.get('status')} at the registry: no "
                          f"{kind} certificate is issued", status_at_registry=person.get("status"))
        key = new_key()
        serial = x509.random_serial_number()
        facts = basic_facts(person) if kind == "signing" else None
        store: JpkiStore = self.state.store
        ca: CertificateAuthority = self.state.ca
        now: datetime = store.clock()
        certificate = ca.issue(key.public_key(), kind, serial, facts, now)
        store.add(serial_hex(serial), juminhyo_code, kind, cert_pem(certificate),
                  key_pem(key), facts, certificate.not_valid_after_utc)
        row = store.get(serial_hex(serial))
        assert row is not None
        return row
