"""Who is calling: the person behind an idp access token.

The token is checked as the gateway checks it (meshcert_simulators.gateway.tokens: signature
with the idp's keys, issuer, lifetime, ``aud`` naming the portal); then the idp's introspection
says whether it is still live and — the portal holding ``idp:person-link`` — which person
(住民票コード) it is about, since ``sub`` is pairwise and differs per client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from meshcert_simulators.common.auth import (
    REALM,
    KeysUnavailable,
    TokenRejected,
    invalid_token,
)
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.gateway.tokens import AccessTokenVerifier, PersonLink
from meshcert_simulators.portal.models import JUMINHYO


@dataclass(frozen=True)
class Person:
    juminhyo_code: str
    client_id: str          # the front service (or the portal) the token was issued to
    sub: str


def bearer_of(request: Any) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class PersonTokens:
    def __init__(self, verifier: AccessTokenVerifier | None, link: PersonLink | None) -> None:
        self.verifier = verifier
        self.link = link

    async def person(self, request: Any) -> Person:
        """The person of the request's access token; a 401/503 problem otherwise."""
        token = bearer_of(request)
        if not token:
            raise Problem(401, "unauthorized", "Authentication required",
                          "send 'Authorization: Bearer <access token>' from the idp",
                          headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'})
        if self.verifier is None or self.link is None:
            raise Problem(503, "idp-not-configured", "No provider to trust",
                          "the portal needs an idp and a credential with idp:introspect and "
                          "idp:person-link")
        try:
            claims = await self.verifier.claims(token)
            linked = await self.link.person(token)
        except TokenRejected as rejected:
            raise invalid_token(rejected) from None
        except KeysUnavailable as exc:
            raise Problem(503, "idp-unavailable", "Cannot verify tokens now", str(exc)) from None
        code = linked.get("juminhyo_code")
        if not isinstance(code, str) or not _is_code(code):
            raise Problem(503, "person-link-unavailable", "The provider does not name the person",
                          "the idp's introspection gave no juminhyo_code: the portal's "
                          "credential needs the role idp:person-link")
        if linked.get("sub") not in (None, claims["sub"]):
            raise invalid_token(TokenRejected("invalid-claim", "the provider knows this token "
                                                               "for another subject"))
        request.scope.setdefault("state", {})["client_id"] = claims["client_id"]
        return Person(code, str(claims["client_id"]), str(claims["sub"]))


def _is_code(value: str) -> bool:
    return re.fullmatch(JUMINHYO, value) is not None
