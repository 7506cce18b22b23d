"""Negative controls of transport security and authentication (SEC-TLS-*, SEC-AUTH-*).

Each is a bug a real resident-registry system has been known to ship: a port that also answers
plain HTTP, a TLS stack left at its old defaults, a token verifier with one check switched off,
authorization that trusts any valid token. They are applied from outside the reference: a
weaker server context put into the settings, or an overriding subclass put in place of the
token verifier or the authenticator on ``app.state``.
"""

from __future__ import annotations

import ssl
from dataclasses import replace
from typing import Any, TypeVar

from starlette.requests import Request

from meshcert_simulators.common.auth import ADMIN_ROLE, Authenticator, Caller, JwtVerifier
from meshcert_simulators.common.jwks import ASYMMETRIC_ALGORITHMS
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.tls import LocalTls, server_context
from meshcert_simulators.defects import defect

MYNUMBER_SCOPE = "registry:read-mynumber"
T = TypeVar("T")


def _override(obj: Any, cls: type[T]) -> T:
    """``obj`` as an instance of ``cls`` (a subclass of its class), with the same state."""
    assert isinstance(cls, type) and issubclass(cls, type(obj)), (cls, type(obj))
    twin = object.__new__(cls)
    twin.__dict__.update(obj.__dict__)
    return twin


def _patch_verifier(cls: type[JwtVerifier]) -> Any:
    def patch(app: Any) -> None:
        authenticator = app.state.authenticator
        authenticator.verifier = _override(authenticator.verifier, cls)
    return patch


def _patch_authenticator(cls: type[Authenticator]) -> Any:
    def patch(app: Any) -> None:
        app.state.authenticator = _override(app.state.authenticator, cls)
    return patch


# -- SEC-TLS-001: the TLS port also answers plain HTTP ------------------------------------------


class _PlaintextTolerantObject(ssl.SSLObject):
    """A server-side TLS object that, when the first bytes of a connection are not a TLS
    record, stops being TLS and passes the bytes through: the port answers plain HTTP too
    (what a protocol-sniffing front end does when misconfigured)."""

    _incoming: ssl.MemoryBIO
    _outgoing: ssl.MemoryBIO
    _plain: bool | None
    _stash: bytes

    @classmethod
    def _create(cls, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> _PlaintextTolerantObject:
        self = super()._create(incoming, outgoing, *args, **kwargs)  # type: ignore[misc]
        self._incoming, self._outgoing, self._plain, self._stash = incoming, outgoing, None, b""
        return self

    def do_handshake(self) -> None:
        if self._plain is None:
            first = self._incoming.read()
            if not first:
                raise ssl.SSLWantReadError("waiting for the first bytes")
            self._plain = first[0] != 0x16  # 0x16: a TLS handshake record
            if self._plain:
                self._stash = first
                return
            self._incoming.write(first)  # everything was read: writing it back restores it
        if not self._plain:
            super().do_handshake()

    def read(self, size: int = 1024, buffer: Any = None) -> Any:
        if not self._plain:
            return super().read(size, buffer)
        data, self._stash = self._stash + self._incoming.read(), b""
        if not data:
            if self._incoming.eof:
                return 0 if buffer is not None else b""
            raise ssl.SSLWantReadError("no plain bytes yet")
        data, self._stash = data[:size], data[size:]
        if buffer is None:
            return data
        buffer[:len(data)] = data
        return len(data)

    def write(self, data: Any) -> int:
        if not self._plain:
            return super().write(data)
        self._outgoing.write(data)
        return len(data)

    def pending(self) -> int:
        return len(self._stash) if self._plain else super().pending()

    def getpeercert(self, binary_form: bool = False) -> Any:
        return None if self._plain else super().getpeercert(binary_form)

    def cipher(self) -> Any:
        return None if self._plain else super().cipher()

    def compression(self) -> Any:
        return None if self._plain else super().compression()

    def version(self) -> Any:
        return None if self._plain else super().version()

    def selected_alpn_protocol(self) -> Any:
        return None if self._plain else super().selected_alpn_protocol()

    def unwrap(self) -> Any:
        return None if self._plain else super().unwrap()


def _plaintext_tolerant_context(tls: LocalTls) -> ssl.SSLContext:
    context = server_context(tls)
    context.sslobject_class = _PlaintextTolerantObject  # documented hook of SSLContext
    return context


defect("plaintext-http", "municipal", "SEC-TLS-001",
       "the HTTPS port also answers plain HTTP (a TLS front end that falls back to cleartext "
       "when a connection does not start with a TLS record)",
       adjust=lambda s: replace(s, tls_server_context=_plaintext_tolerant_context))


# -- SEC-TLS-002: TLS 1.1 still accepted -------------------------------------------------------


def _tls11_context(tls: LocalTls) -> ssl.SSLContext:
    context = server_context(tls)
    context.minimum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 needs level 0 for TLS 1.0/1.1
    return context


def _allow_tls11(settings: Settings) -> Settings:
    return replace(settings, tls_server_context=_tls11_context)


defect("allow-tls11", "municipal", "SEC-TLS-002",
       "the server's TLS context allows TLS 1.1 (an old default left in place)",
       adjust=_allow_tls11)


# -- SEC-AUTH-001: no token needed ---------------------------------------------------------------


class _AnonymousAllowed(Authenticator):
    """A request without credentials is taken as an internal, trusted caller."""

    def authenticate(self, request: Request) -> Caller:
        if not request.headers.get("authorization", "").strip():
            return Caller("anonymous", frozenset({ADMIN_ROLE}), frozenset(), via="jwt")
        return super().authenticate(request)


defect("no-auth-required", "municipal", "SEC-AUTH-001",
       "a request without an Authorization header is served as a trusted internal caller",
       patch=_patch_authenticator(_AnonymousAllowed))


# -- SEC-AUTH-002..007: a token verifier with one check switched off -----------------------------


class _IgnoresAudience(JwtVerifier):
    def check_audience(self, claims: dict[str, Any]) -> None:
        return None


class _AcceptsExpired(JwtVerifier):
    def check_lifetime(self, claims: dict[str, Any]) -> None:
        return None


class _SkipsSignature(JwtVerifier):
    def check_signature(self, signed: Any) -> None:
        return None


class _AcceptsAlgNone(JwtVerifier):
    algorithms = ASYMMETRIC_ALGORITHMS | {"none"}

    def check_signature(self, signed: Any) -> None:
        if signed.headers().get("alg") == "none":
            return None  # "nothing to verify"
        return super().check_signature(signed)


class _IgnoresIssuer(JwtVerifier):
    def check_issuer(self, claims: dict[str, Any]) -> None:
        return None


defect("ignore-audience", "municipal", "SEC-AUTH-002",
       "the token verifier does not check aud", patch=_patch_verifier(_IgnoresAudience))
defect("accept-expired", "municipal", "SEC-AUTH-003",
       "the token verifier's lifetime check does nothing", patch=_patch_verifier(_AcceptsExpired))
defect("skip-signature-check", "municipal", "SEC-AUTH-004",
       "the token verifier decodes tokens without verifying their signature",
       patch=_patch_verifier(_SkipsSignature))
defect("accept-alg-none", "municipal", "SEC-AUTH-006",
       "the token verifier accepts alg \"none\" (unsigned tokens)",
       patch=_patch_verifier(_AcceptsAlgNone))
defect("ignore-issuer", "municipal", "SEC-AUTH-007",
       "the token verifier does not check iss", patch=_patch_verifier(_IgnoresIssuer))


# -- SEC-AUTH-005 and 008: authorization trusts any valid token ----------------------------------


class _EveryOperation(Caller):
    """Any valid token may call any operation. (Whether the My Number is shown is a separate,
    field-level rule the bug leaves intact.)"""

    def has(self, role: str) -> bool:
        return role != MYNUMBER_SCOPE or super().has(role)


class _EveryMunicipality(Caller):
    """A token limited to some municipalities is served for all of them."""

    def serves(self, municipality: str) -> bool:
        return True


def _caller_as(cls: type[Caller]) -> type[Authenticator]:
    class Loosened(Authenticator):
        def authenticate(self, request: Request) -> Caller:
            who = super().authenticate(request)
            return cls(who.client_id, who.roles, who.municipalities, who.via)
    return Loosened


defect("ignore-scope", "municipal", "SEC-AUTH-005",
       "operations do not check the token's scope (any valid token may call anything)",
       patch=_patch_authenticator(_caller_as(_EveryOperation)))
defect("ignore-municipality-scope", "municipal", "SEC-AUTH-008",
       "the token's municipalities claim is not enforced (tenant isolation missing)",
       patch=_patch_authenticator(_caller_as(_EveryMunicipality)))
