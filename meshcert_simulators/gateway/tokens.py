"""The provider's (idp's) access tokens at the gateway: JWTs whose ``aud`` includes the
gateway (``urn:meshcert:gateway``), signed by a key of the provider's JWKS.

The checks are those of :class:`meshcert_simulators.common.auth.JwtVerifier` (algorithm —
asymmetric only —, issuer, signature, lifetime with 60 s leeway, audience), with the claims an
access token of a person carries (``sub``, ``client_id``, ``scope``, ``jti``). The JWKS is
fetched from the provider (``<issuer>/jwks``) and kept; a token naming a ``kid`` the kept set
lacks makes the gateway fetch it again (at most once a second), so a rotated key is followed.
A static JWKS file may be configured instead (tests, an external provider).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from meshcert_simulators.common.auth import (
    Authenticator,
    Caller,
    JwtVerifier,
    KeysUnavailable,
    TokenRejected,
)
from meshcert_simulators.common.jwks import load_key_set

REFETCH_INTERVAL_S = 1.0
INTROSPECT_ROLE = "idp:introspect"


class IdpKeys:
    """The provider's public keys: from ``url`` (fetched, refetched on an unknown kid) or a
    fixed ``key_set`` (a JWKS file)."""

    def __init__(self, url: str | None, key_set: KeySet | None = None,
                 verify: Any = True) -> None:
        self.url = url
        self._keys = key_set
        self.verify = verify
        self.transport: httpx.AsyncBaseTransport | None = None  # tests: in-process provider
        self._fetched_at = float("-inf")

    @classmethod
    def from_file(cls, path: str) -> IdpKeys:
        return cls(None, load_key_set(path))  # type: ignore[arg-type]

    def key_set(self) -> KeySet:
        if self._keys is None:
            raise KeysUnavailable(f"the provider's keys have not been fetched from {self.url}")
        return self._keys

    def knows(self, kid: str | None) -> bool:
        if self._keys is None:
            return False
        try:
            self._keys.get_by_kid(kid)
        except (JoseError, ValueError, KeyError):
            return False
        return True

    async def ensure(self, kid: str | None) -> None:
        """Have a key set that names ``kid`` if the provider publishes one."""
        if self.url is None or self.knows(kid):
            return
        if self._keys is not None and time.monotonic() - self._fetched_at < REFETCH_INTERVAL_S:
            return
        try:
            async with httpx.AsyncClient(transport=self.transport, verify=self.verify,
                                         timeout=5.0) as http:
                answer = await http.get(self.url)
            answer.raise_for_status()
            self._keys = KeySet.import_key_set(answer.json())
        except (httpx.HTTPError, ValueError, TypeError, KeyError, JoseError) as exc:
            if self._keys is None:
                raise KeysUnavailable(f"cannot get the provider's keys from {self.url}: "
                                      f"{type(exc).__name__}: {exc}") from None
        self._fetched_at = time.monotonic()


class AccessTokenVerifier(JwtVerifier):
    """Verifies a provider's access token and answers its claims."""

    required_claims = ("iss", "sub", "aud", "exp", "jti", "client_id")
    keys: IdpKeys

    def check_type(self, header: dict[str, Any]) -> None:
        # RFC 9068 ``at+jwt``, or a plain JWT: the provider's tokens are told apart from its ID
        # tokens by ``aud`` (an ID token is for the client, never for the gateway).
        typ = header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.lower() not in {
                *self.token_types, "jwt"}):
            raise TokenRejected("wrong-type", f"the token type (typ) {typ!r} is not an "
                                              "access token's")

    async def claims(self, token: str) -> dict[str, Any]:
        """The token's claims after every check (the provider's keys fetched if need be);
        raises TokenRejected or KeysUnavailable."""
        try:
            kid = self.parse(token).headers().get("kid")
        except TokenRejected:
            kid = None
        await self.keys.ensure(kid)
        return self.checked_claims(token)

    def checked_claims(self, token: str) -> dict[str, Any]:
        """The token's claims after every check, with the keys already at hand."""
        signed = self.parse(token)
        header = signed.headers()
        claims = self.claims_of(signed)
        self.check_algorithm(header)
        self.check_type(header)
        self.check_issuer(claims)
        self.check_signature(signed)
        self.check_required(claims)
        self.check_lifetime(claims)
        self.check_audience(claims)
        self.caller(claims)  # client_id and scope well formed
        if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
            raise TokenRejected("invalid-claim", "sub and jti must be strings")
        return claims

    def is_its_token(self, token: str) -> bool:
        """Whether ``token`` claims to be the provider's (its ``iss``), before any check."""
        try:
            return self.claims_of(self.parse(token)).get("iss") == self.issuer
        except TokenRejected:
            return False


class GatewayAuthenticator(Authenticator):
    """The topology's callers (static tokens, the mesh issuer's JWTs) and, told apart by their
    ``iss``, the provider's access tokens — so fault plans matching a ``client_id`` and the
    exchange capture see the relying party an access token was issued to."""

    def __init__(self, base: Authenticator, access: AccessTokenVerifier | None) -> None:
        self.static = base.static
        self.verifier = base.verifier
        self.access = access

    def identify(self, token: str) -> Caller:
        if self.access is not None and self.access.is_its_token(token):
            return self.access.caller(self.access.checked_claims(token))
        return super().identify(token)


class Introspection:
    """Whether the provider still holds an access token live (RFC 7662 ``active``): a token
    whose code was replayed is revoked there, and refused here from the next request on."""

    def __init__(self, url: str, credential: str, verify: Any = True) -> None:
        self.url = url
        self.credential = credential
        self.verify = verify
        self.transport: httpx.AsyncBaseTransport | None = None  # tests: in-process provider

    async def active(self, token: str) -> bool:
        return (await self.answer(token, "whether the token is live")).get("active") is True

    async def answer(self, token: str, asking: str) -> dict[str, Any]:
        """The provider's introspection answer (a JSON object); KeysUnavailable, saying what
        was ``asking``, when it cannot be had."""
        try:
            async with httpx.AsyncClient(transport=self.transport, verify=self.verify,
                                         timeout=5.0) as http:
                answer = await http.post(self.url, data={"token": token}, headers={
                    "Authorization": f"Bearer {self.credential}"})
            answer.raise_for_status()
            body = answer.json()
            if not isinstance(body, dict):
                raise ValueError(f"the answer is a JSON {type(body).__name__}, not an object")
            return body
        except (httpx.HTTPError, ValueError) as exc:
            raise KeysUnavailable(f"cannot ask the provider {asking} ({self.url}): "
                                  f"{type(exc).__name__}: {exc}") from None


class PersonLink(Introspection):
    """The provider's introspection read for the person a token is about: a client holding
    ``idp:person-link`` is told the ``juminhyo_code`` (the ``sub`` is pairwise per client and
    names nobody to the client's peers)."""

    async def person(self, token: str) -> dict[str, Any]:
        """The introspection answer of a live token; TokenRejected when it is not active,
        KeysUnavailable when the provider cannot be asked."""
        body = await self.answer(token, "who the token is about")
        if body.get("active") is not True:
            raise TokenRejected("revoked", "the provider says this access token is no longer "
                                           "active")
        return body
