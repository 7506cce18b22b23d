"""Recording a person's consent: the client may be given the scopes, the signed text is this
consent, the JPKI evidence holds (meshcert_simulators.gateway.evidence) and the certificate is
the registry's person of the consent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from meshcert_simulators.common import faults
from meshcert_simulators.gateway.evidence import check_evidence, check_person, check_signed_text
from meshcert_simulators.gateway.models import ConsentRequest
from meshcert_simulators.gateway.store import GatewayStore


class ConsentRecorder:
    """Checks and records consents, with ``state.clients``, ``state.jpki`` (the CA over HTTP),
    ``state.people`` and ``state.store``, all read at the time of each request; a consent
    lasts ``lifetime``."""

    def __init__(self, state: Any, lifetime: timedelta) -> None:
        self.state = state
        self.lifetime = lifetime

    async def record(self, body: ConsentRequest) -> dict[str, Any]:
        """The recorded consent (422 with its own type for each check that fails)."""
        client = self.state.clients.for_consent(body.client_id, body.scopes)
        check_signed_text(body.signed_text, body.client_id, body.sub, body.scopes)
        certificate, evidence = await check_evidence(self.state.jpki, body.certificate,
                                                     body.signed_text, body.signature,
                                                     faults.now())
        check_person(certificate, await self.state.people.person(body.juminhyo_code))
        store: GatewayStore = self.state.store
        return store.add_consent(client, body.sub, body.juminhyo_code,
                                 sorted(set(body.scopes)), evidence, self.lifetime)
