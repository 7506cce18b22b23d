"""Providing a person's basic facts to a relying party: within its rate limit, under the
person's live consent, of the scopes the consent, the access token and the client's
registration all allow, read from the registry now; each provision is recorded."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from meshcert_simulators.common import faults
from meshcert_simulators.common.auth import REALM
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.contracts.basic_facts import FACT_SCOPES, basic_facts, facts_for_scopes
from meshcert_simulators.gateway.limits import RateLimits
from meshcert_simulators.gateway.store import GatewayStore, stamp


def live_consent(store: GatewayStore, client_id: str, sub: str) -> Any:
    """The pair's live consent, or the 403 that says why there is none."""
    consent = store.latest_consent(client_id, sub)
    if consent is None:
        raise Problem(403, "no-consent", "No consent",
                      "the person has not consented to this client")
    if consent["revoked_at"] is not None:
        raise Problem(403, "consent-revoked", "Consent revoked",
                      f"the consent was revoked at {consent['revoked_at']}",
                      consent_id=consent["id"])
    if consent["expires_at"] <= stamp(faults.now()):
        raise Problem(403, "consent-expired", "Consent expired",
                      f"the consent expired at {consent['expires_at']}",
                      consent_id=consent["id"])
    return consent


class FactsProvider:
    """Provides facts with ``state.clients``, ``state.limits``, ``state.store`` and
    ``state.people``, all read at the time of each request."""

    def __init__(self, state: Any) -> None:
        self.state = state

    async def provide(self, claims: dict[str, Any], requested_at: datetime) -> dict[str, Any]:
        """The facts for the access token ``claims`` (403/404/429 problems when none may be
        given), recorded as provided."""
        client = self.state.clients.registered(claims["client_id"])
        self._within_rate(client)
        store: GatewayStore = self.state.store
        consent = live_consent(store, client["client_id"], claims["sub"])
        scopes = sorted(set(json.loads(consent["scopes"])) & set(client["scopes"])
                        & set(str(claims.get("scope", "")).split()) & set(FACT_SCOPES))
        if not scopes:
            raise Problem(403, "insufficient-scope", "No consented scope in the token",
                          "the access token carries none of the consent's fact scopes",
                          headers={"WWW-Authenticate": f'Bearer realm="{REALM}", '
                                                       'error="insufficient_scope"'})
        person = await self.state.people.person(consent["juminhyo_code"])
        if person is None:
            raise Problem(404, "person-not-found", "The person is not in the registry",
                          "the registry no longer has the consent's person")
        facts = facts_for_scopes(basic_facts(person), set(scopes))
        record = store.record_provision(consent, scopes, sorted(facts), claims["jti"],
                                        requested_at)
        return {"sub": consent["sub"], "consent_id": consent["id"], "scopes": scopes,
                "facts": facts, "provided_at": record["provided_at"]}

    def _within_rate(self, client: dict[str, Any]) -> None:
        limits: RateLimits = self.state.limits
        wait = limits.take(client["client_id"], client["rate_limit_per_s"])
        if wait is not None:
            raise Problem(429, "too-many-requests", "Too many requests",
                          f"client {client['client_id']!r} may make "
                          f"{client['rate_limit_per_s']} request(s) a second",
                          headers={"Retry-After": str(wait)}, retry_after=wait)
