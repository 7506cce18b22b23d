"""Checking an ID token as OpenID Connect Core §3.1.3.7 says a relying party must.

Each check is one method, so a negative control (meshcert_simulators/defects/private_service.py)
overrides exactly one of them. The provider's keys come from its JWKS, fetched again once when
a token names a ``kid`` the cached set lacks (the provider rotated its keys).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from meshcert_simulators.bank.provider import Provider

# Asymmetric only: an HMAC "signed" with the provider's public key proves nothing.
ALGORITHMS = frozenset({"RS256", "ES256"})
SKEW_S = 60  # clock difference tolerated between the provider and this service


class Rejected(Exception):
    """The provider's answer is not trusted; ``reason`` names the check that failed."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Expected:
    """What the ID token of one login must say."""

    issuer: str
    client_id: str
    nonce: str


class IdTokenValidator:
    """``validate(token, expected)`` returns the verified claims or raises :class:`Rejected`."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    async def validate(self, token: str, expected: Expected) -> dict[str, Any]:
        signed = self.parse(token)
        header = signed.headers()
        claims = self.claims_of(signed)
        self.check_algorithm(header)
        key = await self.key_for(header)
        self.check_signature(signed, key, header)
        self.check_issuer(claims, expected)
        self.check_audience(claims, expected)
        self.check_authorized_party(claims, expected)
        self.check_expiry(claims)
        self.check_issued_at(claims)
        self.check_nonce(claims, expected)
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise Rejected("missing-sub", "the ID token names no subject")
        return claims

    @staticmethod
    def parse(token: str) -> jws.CompactSignature:
        try:
            return jws.extract_compact(token.encode("ascii"))
        except (JoseError, ValueError, TypeError, UnicodeError) as exc:
            raise Rejected("malformed", f"not a well-formed JWS: {exc}") from None

    @staticmethod
    def claims_of(signed: jws.CompactSignature) -> dict[str, Any]:
        try:
            claims = json.loads(signed.payload or b"")
        except ValueError:
            claims = None
        if not isinstance(claims, dict):
            raise Rejected("malformed", "the payload is not a JSON object of claims")
        return claims

    def check_algorithm(self, header: dict[str, Any]) -> None:
        if header.get("alg") not in ALGORITHMS:
            raise Rejected("algorithm", f"alg {header.get('alg')!r} is not accepted "
                                        f"(only {', '.join(sorted(ALGORITHMS))})")

    async def key_for(self, header: dict[str, Any]) -> Key:
        """The provider's key the header names, refetching the JWKS once for an unknown kid."""
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Rejected("unknown-kid", "the ID token names no kid")
        key = self._find(await self.provider.key_set(), kid)
        if key is None:
            key = self._find(await self.provider.key_set(refresh=True), kid)
        if key is None:
            raise Rejected("unknown-kid", f"the provider publishes no key {kid!r}")
        return key

    @staticmethod
    def _find(keys: KeySet, kid: str) -> Key | None:
        return next((k for k in keys.keys if k.kid == kid), None)

    def check_signature(self, signed: jws.CompactSignature, key: Key | None,
                        header: dict[str, Any]) -> None:
        try:
            valid = key is not None and jws.validate_compact(signed, key,
                                                             algorithms=[header["alg"]])
        except (JoseError, ValueError, TypeError, KeyError):
            valid = False
        if not valid:
            raise Rejected("signature", "the signature does not verify with the provider's key")

    def check_issuer(self, claims: dict[str, Any], expected: Expected) -> None:
        if claims.get("iss") != expected.issuer:
            raise Rejected("issuer", f"iss {claims.get('iss')!r} is not {expected.issuer!r}")

    def check_audience(self, claims: dict[str, Any], expected: Expected) -> None:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if expected.client_id not in audiences:
            raise Rejected("audience", f"aud {aud!r} does not name {expected.client_id!r}")

    def check_authorized_party(self, claims: dict[str, Any], expected: Expected) -> None:
        aud = claims.get("aud")
        several = isinstance(aud, list) and len(aud) > 1
        azp = claims.get("azp")
        if (several or azp is not None) and azp != expected.client_id:
            raise Rejected("authorized-party", f"azp {azp!r} is not {expected.client_id!r}")

    def check_expiry(self, claims: dict[str, Any]) -> None:
        exp = claims.get("exp")
        if not _is_number(exp) or exp + SKEW_S <= time.time():
            raise Rejected("expired", f"the ID token expired (exp {exp!r})")

    def check_issued_at(self, claims: dict[str, Any]) -> None:
        iat = claims.get("iat")
        if not _is_number(iat) or iat > time.time() + SKEW_S:
            raise Rejected("issued-in-future", f"iat {iat!r} is in the future")

    def check_nonce(self, claims: dict[str, Any], expected: Expected) -> None:
        if claims.get("nonce") != expected.nonce:
            raise Rejected("nonce", "the nonce is not the one this login sent")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
