"""Who calls the gateway: a caller of the topology holding a role (the provider, the portal,
the harness), or a relying party with the provider's access token (checked for signature,
lifetime and audience, and — when the gateway may introspect — still live at the provider)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from meshcert_simulators.common.auth import (
    REALM,
    Caller,
    KeysUnavailable,
    TokenRejected,
    invalid_token,
    require,
)
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.gateway.tokens import AccessTokenVerifier, Introspection


def bearer(request: Request) -> str:
    """The request's bearer token ("" when it carries none)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class Callers:
    """Authenticates requests with ``state.authenticator``, ``state.verifier`` (the provider's
    access tokens; None without a provider) and ``state.introspection`` (None: tokens are
    judged by signature and lifetime alone), all read at the time of each request."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def with_role(self, request: Request, role: str) -> Caller:
        """The authenticated caller, holding ``role`` (401/403 otherwise)."""
        who: Caller = self.state.authenticator.authenticate(request)
        require(who, role)
        return who

    def carries_access_token(self, request: Request) -> bool:
        """Whether the request's token claims to be the provider's, before any check."""
        verifier: AccessTokenVerifier | None = self.state.verifier
        return verifier is not None and verifier.is_its_token(bearer(request))

    async def access_token(self, request: Request) -> dict[str, Any]:
        """The claims of the provider's access token the request carries (401 otherwise)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "unauthorized", "Authentication required",
                          "send 'Authorization: Bearer <access token>' from the provider",
                          headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'})
        verifier: AccessTokenVerifier | None = self.state.verifier
        if verifier is None:
            raise Problem(503, "idp-not-configured", "No provider to trust",
                          "the topology has no idp simulator and no idp_jwks is configured")
        introspection: Introspection | None = self.state.introspection
        try:
            claims = await verifier.claims(token.strip())
            if introspection is not None and not await introspection.active(token.strip()):
                raise TokenRejected("revoked", "the provider says this access token is no "
                                               "longer active (revoked)")
        except TokenRejected as rejected:
            raise invalid_token(rejected) from None
        except KeysUnavailable as exc:
            raise Problem(503, "idp-keys-unavailable", "Cannot verify tokens now",
                          str(exc)) from None
        # Fault plans and the exchange capture match the relying party by its client_id.
        request.scope.setdefault("state", {})["client_id"] = claims["client_id"]
        return claims
