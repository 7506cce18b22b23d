"""The gateway's clients: relying parties registered with a purpose, the scopes they may be
given and their rate limit — from the topology at start, or by the harness's control plane."""

from __future__ import annotations

from typing import Any

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.contracts.basic_facts import FACT_SCOPES
from meshcert_simulators.gateway.store import GatewayStore


class Clients:
    """Registrations kept in ``state.store``; a new registration empties the client's bucket
    in ``state.limits``. Both are read at the time of use."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def registered(self, client_id: str) -> dict[str, Any]:
        """The registration of the client an access token was issued to (403 when none)."""
        store: GatewayStore = self.state.store
        client = store.client(client_id)
        if client is None:
            raise Problem(403, "unknown-client", "Not a client of the gateway",
                          f"client {client_id!r} is not registered at the gateway")
        return client

    def for_consent(self, client_id: str, scopes: list[str]) -> dict[str, Any]:
        """The registration a consent is recorded for; 422 when the client is unknown or the
        consent asks for scopes outside its registration."""
        store: GatewayStore = self.state.store
        client = store.client(client_id)
        if client is None:
            raise Problem(422, "unknown-client", "Not a client of the gateway",
                          f"client {client_id!r} is not registered at the gateway")
        outside = sorted(set(scopes) - set(client["scopes"]) - {"openid"})
        if outside:
            raise Problem(422, "scope-not-allowed", "Scopes outside the client's registration",
                          f"client {client_id!r} may not ask for {outside}", scopes=outside)
        return client

    def register(self, client_id: str, purpose: str, scopes: list[str],
                 rate_limit_per_s: int) -> dict[str, Any]:
        """Register (or replace) a client; its rate limit starts afresh."""
        self.state.limits.reset(client_id)
        store: GatewayStore = self.state.store
        return store.put_client(client_id, purpose, sorted(set(scopes)), rate_limit_per_s)

    def register_topology(self, settings: Settings, rate_limit: int) -> None:
        """Register the topology's clients that state a purpose (relying parties), unless the
        control plane has registered them already."""
        store: GatewayStore = self.state.store
        for client in settings.topology.clients:
            purpose = getattr(client, "purpose", None)  # a relying party's field
            if purpose and store.client(client.id) is None:
                scopes = [s for s in client.registered_scopes if s in (*FACT_SCOPES, "openid")]
                store.put_client(client.id, str(purpose), scopes,
                                 int(getattr(client, "rate_limit_per_s", None) or rate_limit))
