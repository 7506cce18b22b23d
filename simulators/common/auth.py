"""Zero-trust caller identification: every request names its client; roles gate every action."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from starlette.requests import Request

from simulators.common.problems import Problem
from simulators.common.topology import Topology

ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class Caller:
    client_id: str
    roles: frozenset[str]
    municipalities: frozenset[str]  # empty: every hosted municipality

    def has(self, role: str) -> bool:
        return role in self.roles or ADMIN_ROLE in self.roles

    def serves(self, municipality: str) -> bool:
        return not self.municipalities or municipality in self.municipalities


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class Authenticator:
    """Maps bearer tokens from the topology to callers (compared by digest, not by value)."""

    def __init__(self, topology: Topology) -> None:
        self._callers = {
            _digest(c.token): Caller(c.id, frozenset(c.roles), frozenset(c.municipalities))
            for c in topology.clients
        }
        self._callers[_digest(topology.admin_token)] = Caller(
            "admin", frozenset({ADMIN_ROLE}), frozenset())

    def authenticate(self, request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "unauthorized", "Authentication required",
                          "send 'Authorization: Bearer <token>' with a token registered in the "
                          "topology", headers={"WWW-Authenticate": 'Bearer realm="meshcert"'})
        caller = self._callers.get(_digest(token.strip()))
        if caller is None:
            raise Problem(401, "invalid-token", "Unknown or invalid token",
                          headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        request.scope.setdefault("state", {})["client_id"] = caller.client_id
        return caller


def require(caller: Caller, role: str, municipality: str | None = None) -> None:
    """Raise 403 unless the caller holds ``role`` (for ``municipality``, when given)."""
    if not caller.has(role):
        raise Problem(403, "forbidden", "Not allowed for this client",
                      f"client {caller.client_id!r} lacks the role {role!r}", required_role=role)
    if municipality is not None and not caller.serves(municipality):
        raise Problem(403, "forbidden", "Not allowed for this client",
                      f"client {caller.client_id!r} is not registered for municipality "
                      f"{municipality}")
