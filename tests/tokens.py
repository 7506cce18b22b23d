"""Keys and tokens for the project's own tests: the embedded topology's issuer and clients."""

from __future__ import annotations

from functools import cache
from typing import Any

from joserfc.jwk import Key

from meshcert_simulators.authz import tokens
from meshcert_simulators.authz.keys import private_key_file
from meshcert_simulators.common.topology import Topology

MUNICIPAL_AUDIENCE = "urn:meshcert:municipal"


@cache
def authz_key() -> Key:
    """The embedded authz simulator's signing key (fixtures/keys/, local only)."""
    return tokens.load_signing_key(private_key_file("authz"))


@cache
def client_key(client_id: str) -> Key:
    return tokens.load_signing_key(private_key_file(client_id))


def access_token(topology: Topology, scopes: list[str], *, subject: str = "demo-clerk",
                 key: Key | None = None, **overrides: Any) -> str:
    """A token as the topology's issuer would mint it for the municipal simulator."""
    fields: dict[str, Any] = {"issuer": topology.issuer_url(), "audience": MUNICIPAL_AUDIENCE,
                              "subject": subject, "scopes": scopes}
    header = overrides.pop("header", None)
    for name in ("issuer", "audience", "subject", "now", "lifetime", "municipalities"):
        if name in overrides:
            fields[name] = overrides.pop(name)
    return tokens.mint_access_token(key or authz_key(), header=header, **fields, **overrides)


def bearer_jwt(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
