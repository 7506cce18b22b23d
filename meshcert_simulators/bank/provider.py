"""The bank's view of the OpenID provider (digital authentication): its metadata from discovery,
its keys (JWKS, cached, fetched again on demand), and the token request authenticated with
``private_key_jwt``."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import Key, KeySet

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 60
DISCOVERY = "/.well-known/openid-configuration"


class ProviderError(Exception):
    """The provider could not be reached or answered something unusable."""


@dataclass
class Provider:
    issuer: str
    client_id: str
    client_key: Key
    http: httpx.AsyncClient
    _metadata: dict[str, Any] | None = None
    _keys: KeySet | None = field(default=None, repr=False)

    async def metadata(self) -> dict[str, Any]:
        """The discovery document, fetched once; its issuer must be the configured one."""
        if self._metadata is None:
            data = await self._get_json(self.issuer.rstrip("/") + DISCOVERY)
            if data.get("issuer") != self.issuer:
                raise ProviderError(f"discovery names issuer {data.get('issuer')!r}, not "
                                    f"{self.issuer!r}")
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(data.get(name), str):
                    raise ProviderError(f"discovery lacks {name}")
            self._metadata = data
        return self._metadata

    async def key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            jwks_uri = (await self.metadata())["jwks_uri"]
            try:
                self._keys = KeySet.import_key_set(await self._get_json(jwks_uri))
            except (ValueError, TypeError, KeyError) as exc:
                raise ProviderError(f"the provider's JWKS is unusable: {exc}") from None
        return self._keys

    def client_assertion(self, audience: str) -> str:
        """A ``private_key_jwt`` assertion for the token endpoint (RFC 7523 §3)."""
        now = int(time.time())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": audience, "iat": now,
                  "exp": now + ASSERTION_LIFETIME_S, "jti": uuid.uuid4().hex}
        header = {"alg": self.client_key.alg or "ES256", "kid": self.client_key.kid,
                  "typ": "JWT"}
        return jwt.encode(header, claims, self.client_key)

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> httpx.Response:
        """The token request of the authorization code flow (the raw answer)."""
        endpoint = (await self.metadata())["token_endpoint"]
        return await self.http.post(endpoint, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier, "client_id": self.client_id,
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.client_assertion(endpoint)})

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            answer = await self.http.get(url)
            answer.raise_for_status()
            data = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"GET {url}: {exc}") from None
        if not isinstance(data, dict):
            raise ProviderError(f"GET {url}: not a JSON object")
        return data
