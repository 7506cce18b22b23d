"""Access tokens presented back to the provider (UserInfo, introspection): verified with the
resource-server checks every simulator uses (meshcert_simulators.common.auth.JwtVerifier),
against the provider's own published keys, then looked up: a revoked token is refused."""

from __future__ import annotations

from typing import Any

from meshcert_simulators.common.auth import JwtVerifier, TokenRejected, invalid_token
from meshcert_simulators.idp.provider import AccessGrant, Provider


class AccessTokens:
    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        # aud must name the provider itself (its tokens name the gateway and the provider).
        self.verifier = JwtVerifier(provider.issuer, provider.issuer, provider.keys)

    def grant(self, token: str) -> AccessGrant:
        """The grant of a valid, live token; raises TokenRejected otherwise."""
        self.verifier.verify_uncached(token)
        claims = self.verifier.claims_of(self.verifier.parse(token))
        grant = self.provider.grant_of(str(claims["jti"]))
        if grant is None:
            raise TokenRejected("unknown-token", "this provider did not issue the token")
        if grant.revoked:
            raise TokenRejected("revoked", "the token was revoked (its code was replayed)")
        return grant

    def live(self, token: str) -> AccessGrant:
        """As :meth:`grant`, a refusal raised as a 401 problem with a Bearer challenge."""
        try:
            return self.grant(token)
        except TokenRejected as rejected:
            raise invalid_token(rejected) from None

    def introspect(self, token: str, person_link: bool = False) -> dict[str, Any]:
        """RFC 7662 §2.2: ``active`` false for anything not live, with no other member. With
        ``person_link`` (the portal), also the 住民票コード of the token's person."""
        try:
            grant = self.grant(token)
        except TokenRejected:
            return {"active": False}
        answer = {"active": True, "sub": grant.sub, "client_id": grant.client_id,
                  "scope": " ".join(grant.scopes), "exp": int(grant.exp)}
        return {**answer, "juminhyo_code": grant.juminhyo_code} if person_link else answer
