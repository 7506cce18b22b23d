"""Misbehaviour: the bad provider answers a relying party must refuse.

The harness asks for one with ``POST /_meshcert/idp/misbehave {client_id, fault, count}``; the
next ``count`` answers of that kind to that client are altered. ID-token faults alter the ID
token of the token answer; authorization faults alter the redirect back after the decision.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable
from typing import Any, Literal

from joserfc.jwk import Key

from meshcert_simulators.authz.tokens import hmac_token, sign, unsigned_token
from meshcert_simulators.common.jwks import generate_key

IdTokenFault = Literal["wrong-iss", "wrong-aud", "expired", "iat-future", "unknown-kid",
                       "bad-signature", "alg-none", "hmac-public-key", "wrong-nonce"]
AuthorizationFault = Literal["wrong-state", "error-answer", "code-for-other-client"]
Fault = Literal[IdTokenFault, AuthorizationFault]
ID_TOKEN_FAULTS = frozenset(IdTokenFault.__args__)  # type: ignore[attr-defined]
AUTHORIZATION_FAULTS = frozenset(AuthorizationFault.__args__)  # type: ignore[attr-defined]
ID_TOKEN_HEADER = {"typ": "JWT"}
FUTURE_S = 3600


class Misbehaviour:
    """Pending faults per client, taken in the order they were asked for."""

    def __init__(self) -> None:
        self._pending: dict[str, list[list[Any]]] = {}
        self._lock = threading.Lock()

    def add(self, client_id: str, fault: str, count: int) -> None:
        with self._lock:
            self._pending.setdefault(client_id, []).append([fault, count])

    def take(self, client_id: str, kinds: frozenset[str]) -> str | None:
        """The next pending fault of ``kinds`` for the client (its count used by one)."""
        with self._lock:
            for entry in self._pending.get(client_id, []):
                if entry[0] in kinds and entry[1] > 0:
                    entry[1] -= 1
                    return str(entry[0])
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"client_id": c, "fault": f, "remaining": n}
                    for c, entries in self._pending.items() for f, n in entries if n > 0]

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


def _flip_signature(token: str) -> str:
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0xFF
    return f"{head}.{payload}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def _public_pem(key: Key) -> bytes:
    pem = key.as_pem(private=False)  # type: ignore[attr-defined]
    return pem if isinstance(pem, bytes) else str(pem).encode()


def _claims_fault(fault: str, claims: dict[str, Any], now: int) -> dict[str, Any]:
    life = int(claims["exp"]) - int(claims["iat"])
    changes: dict[str, Callable[[], dict[str, Any]]] = {
        "wrong-iss": lambda: {"iss": f"{claims['iss']}/not-this-provider"},
        "wrong-aud": lambda: {"aud": f"{claims['aud']}-other"},
        "expired": lambda: {"iat": now - 2 * life, "auth_time": now - 2 * life,
                            "exp": now - life},
        "iat-future": lambda: {"iat": now + FUTURE_S, "exp": now + FUTURE_S + life},
        "wrong-nonce": lambda: {"nonce": secrets.token_urlsafe(16)},
    }
    return {**claims, **changes[fault]()} if fault in changes else claims


def id_token(claims: dict[str, Any], key: Key, fault: str | None, now: int) -> str:
    """The ID token of ``claims`` signed with ``key``, altered as ``fault`` names (None: as
    it should be)."""
    claims = _claims_fault(fault, claims, now) if fault else claims
    key.ensure_kid()
    header = {**ID_TOKEN_HEADER, "kid": key.kid}
    if fault == "unknown-kid":
        return sign(claims, generate_key(), ID_TOKEN_HEADER)  # a key nobody published
    if fault == "bad-signature":
        return _flip_signature(sign(claims, key, header))
    if fault == "alg-none":
        return unsigned_token(claims, header)
    if fault == "hmac-public-key":
        # HS256 keyed with the provider's public key (PEM): the algorithm-confusion attack.
        return hmac_token(claims, _public_pem(key), header)
    return sign(claims, key, header)
