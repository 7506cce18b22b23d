"""Revoking consents: by the person (with the provider's access token of the consent's client
and subject), by the provider acting for the person, or by the harness's control plane (as the
portal would). A revocation counts from the next request on."""

from __future__ import annotations

from typing import Any

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.gateway.store import GatewayStore


class Revocation:
    """Revokes in ``state.store``, read at the time of each request."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def by_person(self, consent_id: str, claims: dict[str, Any]) -> None:
        """The person of the access token ``claims`` revokes their consent (404 when it is not
        theirs, as when there is none: a person learns nothing of others' consents)."""
        store: GatewayStore = self.state.store
        row = store.consent(consent_id)
        if row is None or (claims["client_id"], claims["sub"]) != (row["client_id"],
                                                                   row["sub"]):
            raise Problem(404, "consent-not-found", "No such consent of this person",
                          consent_id)
        store.revoke_consent(consent_id, "person")

    def via_provider(self, consent_id: str) -> None:
        """The provider revokes a consent for its person."""
        store: GatewayStore = self.state.store
        if store.consent(consent_id) is None:
            raise Problem(404, "consent-not-found", "No such consent", consent_id)
        store.revoke_consent(consent_id, "person-via-provider")

    def by_harness(self, client_id: str, juminhyo_code: str) -> list[str]:
        """Revoke the person's live consents to the client; their ids."""
        store: GatewayStore = self.state.store
        return store.revoke_pair(client_id, juminhyo_code, "harness")
