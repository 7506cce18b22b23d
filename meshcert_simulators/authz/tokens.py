"""Minting JWTs: access tokens (RFC 9068) and client assertions (RFC 7523, ``private_key_jwt``).

The authorization-server simulator issues tokens with these functions, and the harness uses them
directly to make valid tokens and deliberately broken ones: any claim can be overridden (a value
of ``None`` removes it), the header changed, or the token signed with another key, with HS256
and an arbitrary secret (:func:`hmac_token`) or not at all (:func:`unsigned_token`).

Keys are JWK files; everything is ES256 (ECDSA P-256, SHA-256).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

from joserfc import jwt
from joserfc.jwk import Key

from meshcert_simulators.common.jwks import (  # re-exported: the harness finds everything here
    ACCESS_TOKEN_TYPE,
    ALGORITHM,
    KeyFileError,
    generate_key,
    load_key_set,
    load_public_key,
    load_signing_key,
    public_jwk,
    public_jwks,
)

__all__ = [
    "ACCESS_TOKEN_LIFETIME_S", "ACCESS_TOKEN_TYPE", "ALGORITHM", "CLIENT_ASSERTION_LIFETIME_S",
    "CLIENT_ASSERTION_TYPE", "KeyFileError", "access_token_claims", "generate_key",
    "hmac_token", "load_key_set", "load_public_key", "load_signing_key", "make_client_assertion",
    "mint_access_token", "public_jwk", "public_jwks", "sign", "unsigned_token",
]

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ACCESS_TOKEN_LIFETIME_S = 300
CLIENT_ASSERTION_LIFETIME_S = 60

Claims = dict[str, Any]


# -- claims --------------------------------------------------------------------------------


def _apply(claims: Claims, overrides: dict[str, Any]) -> Claims:
    """Overrides replace claims; ``None`` removes one (to make a token that lacks it)."""
    out = {**claims, **overrides}
    return {k: v for k, v in out.items() if v is not None}


def _now(now: float | None) -> int:
    return int(time.time() if now is None else now)


def access_token_claims(*, issuer: str, audience: str | list[str], subject: str,
                        scopes: Iterable[str], lifetime: int = ACCESS_TOKEN_LIFETIME_S,
                        now: float | None = None, client_id: str | None = None,
                        municipalities: Iterable[str] | None = None,
                        **overrides: Any) -> Claims:
    """The claims of an RFC 9068 access token (``client_id`` defaults to ``subject``)."""
    issued = _now(now)
    claims: Claims = {
        "iss": issuer, "sub": subject, "aud": audience, "client_id": client_id or subject,
        "scope": " ".join(scopes), "iat": issued, "nbf": issued, "exp": issued + lifetime,
        "jti": uuid.uuid4().hex,
    }
    if municipalities is not None:
        claims["municipalities"] = list(municipalities)
    return _apply(claims, overrides)


def sign(claims: Claims, key: Key, header: dict[str, Any] | None = None) -> str:
    """A compact JWS of ``claims`` signed with ``key`` (ES256, its ``kid`` in the header)."""
    key.ensure_kid()
    full = {"alg": ALGORITHM, "kid": key.kid, **(header or {})}
    full = {k: v for k, v in full.items() if v is not None}
    return jwt.encode(full, claims, key, algorithms=[full["alg"]], default_type=None)


def mint_access_token(signing_key: Key, *, issuer: str, audience: str | list[str],
                      subject: str, scopes: Iterable[str],
                      lifetime: int = ACCESS_TOKEN_LIFETIME_S, now: float | None = None,
                      client_id: str | None = None,
                      municipalities: Iterable[str] | None = None,
                      header: dict[str, Any] | None = None, **overrides: Any) -> str:
    """A signed access token (typ ``at+jwt``); ``overrides``/``header`` break it on purpose."""
    claims = access_token_claims(issuer=issuer, audience=audience, subject=subject,
                                 scopes=scopes, lifetime=lifetime, now=now,
                                 client_id=client_id, municipalities=municipalities,
                                 **overrides)
    return sign(claims, signing_key, {"typ": ACCESS_TOKEN_TYPE, **(header or {})})


def make_client_assertion(client_key: Key, client_id: str, audience: str, *,
                          lifetime: int = CLIENT_ASSERTION_LIFETIME_S, now: float | None = None,
                          header: dict[str, Any] | None = None, **overrides: Any) -> str:
    """A ``private_key_jwt`` client assertion: iss = sub = client_id, aud = the token endpoint
    (or the issuer), a short life and a unique ``jti`` (``jti="..."`` to choose it)."""
    issued = _now(now)
    claims = _apply({"iss": client_id, "sub": client_id, "aud": audience, "iat": issued,
                     "exp": issued + lifetime, "jti": uuid.uuid4().hex}, overrides)
    return sign(claims, client_key, {"typ": "JWT", **(header or {})})


# -- deliberately insecure tokens (for the suites' negative cases) -------------------------


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unsigned_token(claims: Claims, header: dict[str, Any] | None = None) -> str:
    """An ``alg: none`` token (RFC 7519 §6): no signature at all. Never accept one."""
    full = {"alg": "none", "typ": ACCESS_TOKEN_TYPE, **(header or {})}
    return f"{_b64(full)}.{_b64(claims)}."


def hmac_token(claims: Claims, secret: bytes, header: dict[str, Any] | None = None) -> str:
    """An HS256 token keyed with ``secret`` — e.g. the issuer's *public* key, the classic
    algorithm-confusion attack on verifiers that let the token choose the algorithm."""
    # By hand: joserfc (rightly) refuses a public key as an HMAC secret.
    full = {"alg": "HS256", "typ": ACCESS_TOKEN_TYPE, **(header or {})}
    signing_input = f"{_b64(full)}.{_b64(claims)}"
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode('ascii')}"
