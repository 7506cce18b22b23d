"""Who a person's request is from: the provider's (idp's) access token, verified as the gateway
verifies one (meshcert_simulators.gateway.tokens) but for the portal's audience, and the person
it is about, learnt from the provider's introspection (the ``juminhyo_code`` it tells a client
holding ``idp:person-link``) — the ``sub`` is pairwise per client and names nobody here."""

from __future__ import annotations

from starlette.requests import Request

from meshcert_simulators.accounts.config import AccountsConfig
from meshcert_simulators.common.auth import REALM, KeysUnavailable, TokenRejected, invalid_token
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.registry_client import own_client
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.tls import trust_for
from meshcert_simulators.gateway.tokens import (
    INTROSPECT_ROLE,
    AccessTokenVerifier,
    IdpKeys,
    PersonLink,
)


class PersonAuth:
    """Verifies a person's bearer token and answers the 住民票コード it is about. Tests may
    replace ``link`` (and set ``keys.transport``/``link.transport`` to serve the provider
    in-process)."""

    def __init__(self, settings: Settings, config: AccountsConfig) -> None:
        self.clients = config.person_clients
        self.verifier: AccessTokenVerifier | None = None
        self.link: PersonLink | None = None
        if config.issuer is None:
            return
        keys = (IdpKeys.from_file(config.jwks_file) if config.jwks_file
                else IdpKeys(config.jwks_url, verify=trust_for(settings.tls_dir)))
        self.verifier = AccessTokenVerifier(config.issuer, config.audience, keys)
        client = own_client(settings)
        if client is not None and client.token and INTROSPECT_ROLE in client.roles:
            self.link = PersonLink(f"{config.issuer}/introspect", client.token,
                                   verify=trust_for(settings.tls_dir))

    async def person(self, request: Request) -> str:
        """The 住民票コード of the person the request's access token is about (401/503)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Problem(401, "unauthorized", "Authentication required",
                          "send 'Authorization: Bearer <the person's access token>'",
                          headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'})
        if self.verifier is None:
            raise Problem(503, "idp-not-configured", "No provider to trust",
                          "the topology has no idp simulator and no idp_jwks is configured")
        if self.link is None:
            raise Problem(503, "person-link-not-configured", "Cannot tell who a token is about",
                          "this registry needs a client with idp:introspect and "
                          "idp:person-link at the provider")
        try:
            claims = await self.verifier.claims(token)
            request.scope.setdefault("state", {})["client_id"] = claims["client_id"]
            person = (await self.link.person(token)).get("juminhyo_code")
            if not isinstance(person, str):
                raise KeysUnavailable("the provider's introspection names no juminhyo_code: "
                                      "this registry's client needs the provider role "
                                      "idp:person-link")
        except TokenRejected as rejected:
            raise invalid_token(rejected) from None
        except KeysUnavailable as exc:
            raise Problem(503, "idp-unavailable", "Cannot verify tokens now", str(exc)) from None
        if claims["client_id"] not in self.clients:
            raise Problem(403, "client-not-trusted", "Not a national or front service",
                          f"a token issued to {claims['client_id']!r} does not reach the "
                          "public-fund account registry: only the portal and front services")
        return person
