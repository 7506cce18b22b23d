"""Bearer access tokens (RFC 9068, ES256) verified against the trusted issuer's JWKS."""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

LEEWAY_S = 60
REFETCH_AFTER_S = 30  # an unknown kid refetches the JWKS at most this often


@dataclass(frozen=True)
class Caller:
    operator: str
    scopes: frozenset[str]
    municipalities: frozenset[str] | None  # None: every municipality the system hosts

    @property
    def sees_my_number(self) -> bool:
        return "registry:read-mynumber" in self.scopes


class Refused(Exception):
    """Why a token is refused (the challenge's error_description)."""


class Verifier:
    def __init__(self, issuer: str, audience: str, ca_file: str | None) -> None:
        self.issuer, self.audience = issuer, audience
        self.context = ssl.create_default_context(cafile=ca_file)
        self.keys: KeySet | None = None
        self.fetched = 0.0
        self.known: dict[str, tuple[Caller, float]] = {}

    def _jwks(self, refresh: bool = False) -> KeySet:
        stale = refresh and time.monotonic() - self.fetched > REFETCH_AFTER_S
        if self.keys is None or stale:
            url = self.issuer.rstrip("/") + "/.well-known/jwks.json"
            with urllib.request.urlopen(url, context=self.context, timeout=10) as answer:
                self.keys = KeySet.import_key_set(json.loads(answer.read()))
            self.fetched = time.monotonic()
        return self.keys

    def _key(self, kid: str | None) -> list[Any]:
        keys = self._jwks().keys
        if kid is not None and not any(k.kid == kid for k in keys):
            keys = self._jwks(refresh=True).keys
        return [k for k in keys if isinstance(k, ECKey) and (kid is None or k.kid == kid)]

    def caller(self, token: str) -> Caller:
        now = time.time()
        remembered = self.known.get(token)
        if remembered and remembered[1] + LEEWAY_S > now:
            return remembered[0]
        header = _header(token)
        if header.get("alg") != "ES256":
            raise Refused(f"unsupported-alg: {header.get('alg')!r}; only ES256 is accepted")
        if str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            raise Refused("wrong-type: typ must be at+jwt (RFC 9068)")
        claims = None
        for key in self._key(header.get("kid")):
            try:
                claims = json.loads(jws.deserialize_compact(token, key, ["ES256"]).payload)
                break
            except (JoseError, ValueError):
                continue
        if not isinstance(claims, dict):
            raise Refused("bad-signature: not signed by a key of the issuer")
        caller, exp = _checked(claims, self.issuer, self.audience, now)
        if len(self.known) > 10_000:
            self.known.clear()
        self.known[token] = (caller, exp)
        return caller


def _header(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except ValueError:
        raise Refused("malformed: not a compact JWS") from None
    if not isinstance(value, dict) or token.count(".") != 2:
        raise Refused("malformed: not a compact JWS")
    return value


def _checked(claims: dict[str, Any], issuer: str, audience: str, now: float
             ) -> tuple[Caller, float]:
    if claims.get("iss") != issuer:
        raise Refused(f"unknown-issuer: {claims.get('iss')!r}")
    aud = claims.get("aud")
    if audience not in (aud if isinstance(aud, list) else [aud]):
        raise Refused(f"wrong-audience: {aud!r}")
    exp, starts = claims.get("exp"), [claims.get("nbf", 0), claims.get("iat", 0)]
    if not all(isinstance(t, int | float) for t in (exp, *starts)):
        raise Refused("malformed: exp, nbf and iat must be numbers")
    if exp + LEEWAY_S <= now:
        raise Refused("expired")
    if max(starts) - LEEWAY_S > now:
        raise Refused("not-yet-valid")
    operator = claims.get("client_id") or claims.get("sub")
    scope = claims.get("scope", "")
    places = claims.get("municipalities")
    if not isinstance(operator, str) or not isinstance(scope, str) or not (
            places is None or isinstance(places, list)):
        raise Refused("malformed: client_id, scope or municipalities of the wrong type")
    return Caller(operator, frozenset(scope.split()),
                  None if places is None else frozenset(map(str, places))), float(exp)
