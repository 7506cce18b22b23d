"""Zero-trust caller identification: every request names its client; roles gate every action.

A caller proves who it is with a bearer token of one of two kinds:

- a **static token** registered in the topology (the local demo), mapped to the client's roles;
- a **JWT access token** (RFC 9068) from the topology's issuer, got with OAuth2 client
  credentials: its signature, issuer, audience, lifetime and type are checked, and its ``scope``
  claim gives the roles; a ``municipalities`` claim limits where it applies.

The app calls ``app.state.authenticator``; the authenticator calls its ``static`` and
``verifier`` objects. Each check of :class:`JwtVerifier` is its own method, so a defect can
replace one behaviour from outside (a subclass put in place of the verifier), with no branch in
here.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from joserfc import jws
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode
from starlette.requests import Request

from meshcert_simulators.common.jwks import (
    ACCESS_TOKEN_TYPE,
    ASYMMETRIC_ALGORITHMS,
    KeyFileError,
    load_key_set,
)
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.tls import trust_for
from meshcert_simulators.common.topology import Topology

if TYPE_CHECKING:
    import ssl

    from meshcert_simulators.common.settings import Settings

ADMIN_ROLE = "admin"
REALM = "meshcert"
LEEWAY_S = 60
_JWS_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Caller:
    client_id: str
    roles: frozenset[str]
    municipalities: frozenset[str]  # empty: every hosted municipality
    via: str = "token"  # how it proved itself: "token" (static) or "jwt" (access token)

    def has(self, role: str) -> bool:
        return role in self.roles or ADMIN_ROLE in self.roles

    def serves(self, municipality: str) -> bool:
        return not self.municipalities or municipality in self.municipalities


class TokenRejected(Exception):
    """A bearer token is not accepted. ``reason`` is a stable slug (expired, wrong-audience,
    bad-signature, unknown-issuer, unsupported-alg, ...); ``detail`` says it for a person."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class KeysUnavailable(Exception):
    """The issuer's public keys cannot be had (file unreadable, endpoint not answering)."""


class TokenCheck(Protocol):
    def verify(self, token: str) -> Caller: ...


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


# -- static tokens -------------------------------------------------------------------------


class StaticTokens:
    """Bearer tokens from the topology mapped to callers (compared by digest, not by value)."""

    def __init__(self, topology: Topology) -> None:
        self._callers = {
            _digest(c.token): Caller(c.id, frozenset(c.roles), frozenset(c.municipalities))
            for c in topology.clients if c.token is not None
        }
        self._callers[_digest(topology.admin_token)] = Caller(
            "admin", frozenset({ADMIN_ROLE}), frozenset())

    def verify(self, token: str) -> Caller:
        caller = self._callers.get(_digest(token))
        if caller is None:
            raise TokenRejected("unknown-token", "the token is not registered in the topology")
        return caller


class Refused:
    """A kind of credential this simulator does not take (said plainly, not as a bad token)."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail

    def verify(self, token: str) -> Caller:
        raise TokenRejected(self.reason, self.detail)


# -- the issuer's keys ---------------------------------------------------------------------


class JwksFile:
    """Public keys from a JWKS file, read on first use."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._keys: KeySet | None = None

    def key_set(self) -> KeySet:
        if self._keys is None:
            try:
                self._keys = load_key_set(self.path)
            except KeyFileError as exc:
                raise KeysUnavailable(str(exc)) from None
        return self._keys


class JwksEndpoint:
    """Public keys fetched from the issuer's ``jwks_uri`` once, then kept (a failed fetch is
    not kept: the next request tries again)."""

    def __init__(self, url: str, verify: ssl.SSLContext | bool = True,
                 timeout: float = 5.0) -> None:
        self.url = url
        self.verify = verify
        self.timeout = timeout
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def key_set(self) -> KeySet:
        with self._lock:
            if self._keys is None:
                self._keys = self._fetch()
            return self._keys

    def _fetch(self) -> KeySet:
        try:
            response = httpx.get(self.url, verify=self.verify, timeout=self.timeout)
            response.raise_for_status()
            return KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, TypeError, KeyError, JoseError) as exc:
            raise KeysUnavailable(f"cannot get the issuer's keys from {self.url}: "
                                  f"{type(exc).__name__}: {exc}") from None


class KeySource(Protocol):
    def key_set(self) -> KeySet: ...


# -- JWT access tokens ---------------------------------------------------------------------


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class JwtVerifier:
    """Verifies RFC 9068 JWT access tokens of one issuer for one resource server.

    Steps, each a method: :meth:`parse`, :meth:`check_algorithm`, :meth:`check_type`,
    :meth:`check_issuer`, :meth:`check_signature`, :meth:`check_required`,
    :meth:`check_lifetime`, :meth:`check_audience`, then :meth:`caller` reads who it is.
    """

    algorithms: frozenset[str] = ASYMMETRIC_ALGORITHMS
    token_types: frozenset[str] = frozenset({ACCESS_TOKEN_TYPE, f"application/{ACCESS_TOKEN_TYPE}"})
    required_claims: tuple[str, ...] = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id")

    def __init__(self, issuer: str, audience: str, keys: KeySource, *,
                 leeway: int = LEEWAY_S, clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
        self.leeway = leeway
        self.clock = clock

    @classmethod
    def for_settings(cls, settings: Settings) -> JwtVerifier | None:
        """The verifier for the simulator ``settings`` describes (None: no issuer)."""
        topology = settings.topology
        issuer = topology.issuer_url()
        if topology.issuer is None or issuer is None:
            return None
        keys: KeySource
        if topology.issuer.jwks is not None:
            keys = JwksFile(Path(topology.issuer.jwks))
        else:
            keys = JwksEndpoint(str(topology.jwks_url()), trust_for(settings.tls_dir))
        return cls(issuer, topology.audience(settings.name), keys)

    def verify(self, token: str) -> Caller:
        """The caller ``token`` names, after every check (a success is remembered briefly:
        see :class:`VerifiedTokens`)."""
        verified = self.__dict__.get("verified")
        if verified is None:
            verified = self.__dict__.setdefault("verified", VerifiedTokens())
        remembered = verified.get(self, token)
        if remembered is not None:
            return remembered
        caller = self.verify_uncached(token)
        verified.put(self, token, caller)
        return caller

    def verify_uncached(self, token: str) -> Caller:
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
        return self.caller(claims)

    def parse(self, token: str) -> jws.CompactSignature:
        try:
            return jws.extract_compact(token.encode("ascii"))
        except (JoseError, ValueError, TypeError, UnicodeError) as exc:
            raise TokenRejected("malformed", f"not a well-formed JWS: {exc}") from None

    def claims_of(self, signed: jws.CompactSignature) -> dict[str, Any]:
        try:
            claims = json.loads(signed.payload or b"")
        except ValueError:
            claims = None
        if not isinstance(claims, dict):
            raise TokenRejected("malformed", "the payload is not a JSON object of claims")
        return claims

    def check_algorithm(self, header: dict[str, Any]) -> None:
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenRejected("unsupported-alg",
                                f"the algorithm {alg!r} is not accepted (accepted: "
                                f"{', '.join(sorted(self.algorithms))})")

    def check_type(self, header: dict[str, Any]) -> None:
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in self.token_types:
            raise TokenRejected("wrong-type", f"the token type (typ) is {typ!r}, not "
                                              f"{ACCESS_TOKEN_TYPE!r}: not an access token")

    def check_issuer(self, claims: dict[str, Any]) -> None:
        if claims.get("iss") != self.issuer:
            raise TokenRejected("unknown-issuer", f"the issuer {claims.get('iss')!r} is not "
                                                  f"trusted here (trusted: {self.issuer!r})")

    def check_signature(self, signed: jws.CompactSignature) -> None:
        keys = self.keys.key_set()  # KeysUnavailable: not the token's fault (503)
        try:
            valid = jws.validate_compact(signed, keys, algorithms=[signed.headers()["alg"]])
        except InvalidKeyIdError:
            raise TokenRejected("bad-signature", f"the issuer has no key with kid "
                                                 f"{signed.headers().get('kid')!r}") from None
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise TokenRejected("bad-signature", f"the signature cannot be verified: "
                                                 f"{exc}") from None
        if not valid:
            raise TokenRejected("bad-signature", "the signature does not verify with the "
                                                 "issuer's key")

    def check_required(self, claims: dict[str, Any]) -> None:
        missing = [c for c in self.required_claims if c not in claims]
        if missing:
            raise TokenRejected("missing-claim", f"the token lacks the claim(s) "
                                                 f"{', '.join(missing)} (RFC 9068 §2.2)")

    def check_lifetime(self, claims: dict[str, Any]) -> None:
        now = self.clock()
        for name in ("exp", "iat", "nbf"):
            if name in claims and not _is_number(claims[name]):
                raise TokenRejected("invalid-claim", f"{name} must be a number of seconds")
        exp = claims["exp"]
        if now > exp + self.leeway:
            raise TokenRejected("expired", f"the token expired at {_when(exp)} "
                                           f"({int(now - exp)} s ago)")
        for name in ("nbf", "iat"):
            if name in claims and claims[name] > now + self.leeway:
                raise TokenRejected("not-yet-valid", f"the token is not valid before "
                                                     f"{_when(claims[name])} ({name})")

    def check_audience(self, claims: dict[str, Any]) -> None:
        aud = claims["aud"]
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or self.audience not in audiences:
            raise TokenRejected("wrong-audience", f"the token is for {aud!r}, not for this "
                                                  f"resource server ({self.audience!r})")

    def caller(self, claims: dict[str, Any]) -> Caller:
        client_id, scope = claims["client_id"], claims.get("scope", "")
        places = claims.get("municipalities")
        if not isinstance(client_id, str) or not client_id:
            raise TokenRejected("invalid-claim", "client_id must be a non-empty string")
        if not isinstance(scope, str):
            raise TokenRejected("invalid-claim", "scope must be a space-separated string")
        if places is not None and (not isinstance(places, list) or not places
                                   or not all(isinstance(p, str) for p in places)):
            raise TokenRejected("invalid-claim", "municipalities must be a non-empty list of "
                                                 "local government codes")
        return Caller(client_id, frozenset(scope.split()), frozenset(places or ()), via="jwt")


# -- remembered verifications -------------------------------------------------------------


class VerifiedTokens:
    """A bounded LRU of one verifier's successful verifications, keyed by the exact token
    string and by everything the result depends on besides it: the verifier's class (a
    defect's overriding subclass, which shares its twin's attributes, never reuses what the
    reference verified, nor the other way round), issuer, audience, key source, leeway and
    clock.

    An entry is used only while ``max(nbf, iat) - leeway <= clock() <= min(exp + leeway,
    verified_at + ttl)``: the window in which :meth:`JwtVerifier.check_lifetime` accepts the
    token, so a token is refused at once when that check would refuse it.
    Nothing is remembered for a class whose lifetime rule is not the reference one (it may
    decide differently as time passes), when the token has no numeric ``exp``, or when a part
    of the key cannot be hashed. Failures are never remembered: a refused token is checked in
    full every time.
    """

    def __init__(self, size: int = 1024, ttl: float = 60.0) -> None:
        self.size = size
        self.ttl = ttl
        # key -> (usable from, usable until, caller)
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, float, Caller]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(verifier: JwtVerifier, token: str) -> tuple[Any, ...] | None:
        key = (type(verifier), verifier.issuer, verifier.audience, verifier.keys,
               verifier.leeway, verifier.clock, token)
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def get(self, verifier: JwtVerifier, token: str) -> Caller | None:
        key = self._key(verifier, token)
        if key is None:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            now = verifier.clock()
            if now > found[1]:
                del self._entries[key]
                return None
            if now < found[0]:  # a clock set back before nbf / iat: verify in full
                return None
            self._entries.move_to_end(key)
            return found[2]

    def put(self, verifier: JwtVerifier, token: str, caller: Caller) -> None:
        if type(verifier).check_lifetime is not JwtVerifier.check_lifetime:
            return
        key = self._key(verifier, token)
        if key is None:
            return
        try:  # the payload again (cheap next to the signature check just done)
            claims = json.loads(urlsafe_b64decode(token.split(".")[1].encode("ascii")))
            exp = claims["exp"]
            starts = [claims[n] for n in ("nbf", "iat") if n in claims]
        except (ValueError, TypeError, KeyError, IndexError, UnicodeError):
            return
        if not _is_number(exp) or not all(_is_number(t) for t in starts):
            return
        usable_from = max(starts, default=float("-inf")) - verifier.leeway
        until = min(exp + verifier.leeway, verifier.clock() + self.ttl)
        with self._lock:
            self._entries[key] = (usable_from, until, caller)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# -- the authenticator the apps call -------------------------------------------------------


def _challenge(error: str | None = None, **params: str) -> str:
    """An RFC 6750 ``WWW-Authenticate`` value (quoted-string values kept to safe ASCII)."""
    parts = [f'realm="{REALM}"']
    if error:
        parts.append(f'error="{error}"')
    for name, value in params.items():
        safe = "".join(ch for ch in value if 0x20 <= ord(ch) < 0x7F and ch not in '"\\')
        parts.append(f'{name}="{safe}"')
    return "Bearer " + ", ".join(parts)


def invalid_token(rejected: TokenRejected) -> Problem:
    return Problem(401, "invalid-token", "Unknown or invalid token", rejected.detail,
                   headers={"WWW-Authenticate": _challenge(
                       "invalid_token", error_description=rejected.detail)},
                   reason=rejected.reason)


class Authenticator:
    """Finds the caller of a request from its bearer token: static tokens go to ``static``,
    JWTs to ``verifier``; a kind the simulator does not take is refused by a :class:`Refused`.
    """

    def __init__(self, topology: Topology, *, verifier: TokenCheck | None = None,
                 methods: Iterable[str] = ("token", "jwt")) -> None:
        accepted = set(methods)
        self.static: TokenCheck = (
            StaticTokens(topology) if "token" in accepted else
            Refused("static-token-refused", "this simulator accepts only JWT access tokens "
                                            "from its issuer"))
        self.verifier: TokenCheck = (
            (verifier or Refused("unknown-issuer", "no token issuer is configured for this "
                                                   "simulator")) if "jwt" in accepted else
            Refused("jwt-refused", "this simulator accepts only the static tokens registered "
                                   "in its topology"))

    @classmethod
    def for_settings(cls, settings: Settings) -> Authenticator:
        return cls(settings.topology, verifier=JwtVerifier.for_settings(settings),
                   methods=settings.spec.auth)

    def authenticate(self, request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "unauthorized", "Authentication required",
                          "send 'Authorization: Bearer <token>' with a token registered in the "
                          "topology or an access token from its issuer",
                          headers={"WWW-Authenticate": _challenge()})
        try:
            caller = self.identify(token.strip())
        except TokenRejected as rejected:
            raise invalid_token(rejected) from None
        except KeysUnavailable as exc:
            raise Problem(503, "issuer-keys-unavailable", "Cannot verify tokens now",
                          str(exc)) from None
        request.scope.setdefault("state", {})["client_id"] = caller.client_id
        return caller

    def identify(self, token: str) -> Caller:
        check = self.verifier if _JWS_SHAPE.fullmatch(token) else self.static
        return check.verify(token)


# -- authorization -------------------------------------------------------------------------


def _missing_role(caller: Caller, role: str) -> Problem:
    return Problem(403, "forbidden", "Not allowed for this client",
                   f"client {caller.client_id!r} lacks the role {role!r}", required_role=role)


def _missing_scope(caller: Caller, role: str) -> Problem:
    return Problem(403, "insufficient-scope", "Insufficient scope",
                   f"the access token of {caller.client_id!r} lacks the scope {role!r}",
                   headers={"WWW-Authenticate": _challenge("insufficient_scope", scope=role)},
                   required_scope=role)


# How a missing permission is told, by how the caller proved itself (RFC 6750 for tokens).
_LACKS: dict[str, Callable[[Caller, str], Problem]] = {"token": _missing_role,
                                                      "jwt": _missing_scope}


def require(caller: Caller, role: str, municipality: str | None = None) -> None:
    """Raise 403 unless the caller holds ``role`` (for ``municipality``, when given)."""
    if not caller.has(role):
        raise _LACKS.get(caller.via, _missing_role)(caller, role)
    if municipality is not None and not caller.serves(municipality):
        raise Problem(403, "forbidden", "Not allowed for this client",
                      f"client {caller.client_id!r} is not registered for municipality "
                      f"{municipality}")
