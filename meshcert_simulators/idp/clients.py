"""The relying parties the provider knows, and how they authenticate at its token endpoint.

Clients come from the topology (a client with ``redirect_uris`` and a ``public_jwk``) and from
the control plane at run time. Client authentication is ``private_key_jwt`` only, verified by
the authorization-server simulator's own checks (meshcert_simulators.authz.server): the same
rules for assertions everywhere in the mesh (signature by the registered key, aud, exp, jti
single use).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import Key

from meshcert_simulators.authz.server import AuthorizationServer, RegisteredClient
from meshcert_simulators.authz.tokens import load_public_key
from meshcert_simulators.common.topology import Topology
from meshcert_simulators.contracts.basic_facts import FACT_SCOPES

ALL_SCOPES = ("openid", *FACT_SCOPES)


@dataclass(frozen=True)
class RelyingParty:
    client_id: str
    redirect_uris: tuple[str, ...]
    key: Key
    scopes: frozenset[str]
    purpose: str


def topology_clients(topology: Topology) -> list[RelyingParty]:
    """The topology's relying parties (raises KeyFileError for an unreadable public key)."""
    return [RelyingParty(c.id, c.redirect_uris, load_public_key(Path(c.public_jwk)),
                         frozenset(c.scopes or ALL_SCOPES), c.purpose or c.id)
            for c in topology.clients if c.redirect_uris and c.public_jwk is not None]


class ClientAssertions(AuthorizationServer):
    """``private_key_jwt`` checks of the authorization server, for this provider's token
    endpoint. Only :meth:`authenticate_client` is used; the rest of the server is unused."""

    def __init__(self, issuer: str, token_endpoint: str, signing_key: Key,
                 clock: Callable[[], float]) -> None:
        super().__init__(issuer=issuer, signing_key=signing_key, clients=(), resources=(),
                         clock=clock)
        self._token_endpoint = token_endpoint

    @property
    def token_endpoint(self) -> str:
        return self._token_endpoint


class Clients:
    """The registered relying parties, by client id."""

    def __init__(self, assertions: ClientAssertions) -> None:
        self.assertions = assertions
        self.known: dict[str, RelyingParty] = {}

    def register(self, party: RelyingParty) -> None:
        """Add or replace a relying party (its assertions are then checked with its key)."""
        self.known[party.client_id] = party
        self.assertions.clients[party.client_id] = RegisteredClient(
            party.client_id, party.key, party.scopes, ())

    def get(self, client_id: str) -> RelyingParty | None:
        return self.known.get(client_id)

    def authenticate(self, form: dict[str, str]) -> RelyingParty:
        """The client a token request's assertion proves; raises the authz OAuthError
        (``invalid_client``) otherwise."""
        registered = self.assertions.authenticate_client(form)
        return self.known[registered.id]

    def other_than(self, client_id: str) -> str:
        """Some other client's id (a made-up one when there is no other): what a code
        issued to another client is bound to."""
        return next((c for c in self.known if c != client_id), "urn:meshcert:idp:other-client")

    def describe(self, party: RelyingParty) -> dict[str, Any]:
        return {"client_id": party.client_id, "redirect_uris": list(party.redirect_uris),
                "scopes": sorted(party.scopes), "purpose": party.purpose}
