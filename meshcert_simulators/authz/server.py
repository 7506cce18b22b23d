"""The authorization server: OAuth2 client credentials with ``private_key_jwt`` (RFC 6749 §4.4,
RFC 7523, RFC 7521), resource indicators (RFC 8707), JWT access tokens (RFC 9068).

Each check is a method of :class:`AuthorizationServer`, so a defect can replace one from outside
(a subclass put on ``app.state.authorization_server``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key

from meshcert_simulators.authz.tokens import (
    ACCESS_TOKEN_LIFETIME_S,
    CLIENT_ASSERTION_TYPE,
    load_public_key,
    load_signing_key,
    mint_access_token,
    public_jwks,
)
from meshcert_simulators.common.jwks import ASYMMETRIC_ALGORITHMS
from meshcert_simulators.common.settings import Settings

GRANT_TYPE = "client_credentials"
ASSERTION_MAX_LIFETIME_S = 300
LEEWAY_S = 60


class OAuthError(Exception):
    """An RFC 6749 §5.2 error response: ``error`` code and a description for people."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class RegisteredClient:
    id: str
    key: Key  # its public key: verifies its client assertions
    scopes: frozenset[str]
    municipalities: tuple[str, ...]


class ReplayCache:
    """Client assertion ids seen, kept until the assertion could no longer be used anyway."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def first_use(self, client_id: str, jti: str, until: float, now: float) -> bool:
        with self._lock:
            self._seen = {k: t for k, t in self._seen.items() if t >= now}
            if (client_id, jti) in self._seen:
                return False
            self._seen[client_id, jti] = until
            return True


def _one_of(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


class AuthorizationServer:
    """Issues access tokens to the topology's clients for its resource servers."""

    algorithms: frozenset[str] = ASYMMETRIC_ALGORITHMS
    assertion_max_lifetime: int = ASSERTION_MAX_LIFETIME_S
    leeway: int = LEEWAY_S
    token_lifetime: int = ACCESS_TOKEN_LIFETIME_S

    def __init__(self, *, issuer: str, signing_key: Key, clients: Iterable[RegisteredClient],
                 resources: Iterable[str], clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer
        self.signing_key = signing_key
        self.clients = {c.id: c for c in clients}
        self.resources = frozenset(resources)
        self.clock = clock
        self.replays = ReplayCache()

    @classmethod
    def for_settings(cls, settings: Settings) -> AuthorizationServer:
        """Raises KeyFileError when its signing key or a client's public key cannot be read."""
        topology = settings.topology
        clients = [RegisteredClient(c.id, load_public_key(Path(c.public_jwk)),
                                    frozenset(c.registered_scopes), c.municipalities)
                   for c in topology.clients if c.public_jwk is not None]
        resources = [topology.audience(name) for name, spec in topology.simulators.items()
                     if spec.kind != "authz"]
        return cls(issuer=topology.url(settings.name),
                   signing_key=load_signing_key(Path(str(settings.spec.signing_key))),
                   clients=clients, resources=resources)

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/oauth/token"

    def metadata(self) -> dict[str, Any]:
        """RFC 8414 authorization server metadata."""
        scopes = sorted({s for c in self.clients.values() for s in c.scopes})
        return {
            "issuer": self.issuer,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "grant_types_supported": [GRANT_TYPE],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": sorted(self.algorithms),
            "scopes_supported": scopes,
            "response_types_supported": [],  # no authorization endpoint: machines only
        }

    def jwks(self) -> dict[str, Any]:
        return public_jwks([self.signing_key])

    # -- the token endpoint --------------------------------------------------------------

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        """Answer a token request (form fields, each given once); raises OAuthError."""
        self.check_grant_type(form)
        client = self.authenticate_client(form)
        scopes = self.granted_scopes(client, form)
        audience = self.resource(form)
        token = mint_access_token(
            self.signing_key, issuer=self.issuer, audience=audience, subject=client.id,
            scopes=scopes, lifetime=self.token_lifetime, now=self.clock(),
            municipalities=client.municipalities or None)
        return {"access_token": token, "token_type": "Bearer",
                "expires_in": self.token_lifetime, "scope": " ".join(scopes)}

    def check_grant_type(self, form: dict[str, str]) -> None:
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant != GRANT_TYPE:
            raise OAuthError("unsupported_grant_type",
                             f"only grant_type={GRANT_TYPE} is supported, not {grant!r}")

    def authenticate_client(self, form: dict[str, str]) -> RegisteredClient:
        """``private_key_jwt`` (RFC 7523 §2.2, §3): the client signs a short-lived assertion."""
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            raise OAuthError("invalid_client", "authenticate with private_key_jwt: "
                                               f"client_assertion_type={CLIENT_ASSERTION_TYPE}")
        assertion = form.get("client_assertion", "")
        try:
            signed = jws.extract_compact(assertion.encode("ascii"))
            claims = json.loads(signed.payload or b"")
        except (JoseError, ValueError, UnicodeError):
            raise OAuthError("invalid_client", "client_assertion is not a signed JWT") from None
        if not isinstance(claims, dict):
            raise OAuthError("invalid_client", "client_assertion claims are not a JSON object")
        client = self.assertion_client(claims, form)
        self.check_assertion_signature(signed, client)
        self.check_assertion_audience(claims)
        self.check_assertion_lifetime(claims)
        self.check_replay(claims, client)
        return client

    def assertion_client(self, claims: dict[str, Any], form: dict[str, str]
                         ) -> RegisteredClient:
        iss, sub = claims.get("iss"), claims.get("sub")
        if not isinstance(iss, str) or iss != sub:
            raise OAuthError("invalid_client", "the client assertion must have iss = sub = "
                                               "the client_id")
        if "client_id" in form and form["client_id"] != iss:
            raise OAuthError("invalid_client", "client_id does not match the assertion's iss")
        client = self.clients.get(iss)
        if client is None:
            raise OAuthError("invalid_client", f"unknown client {iss!r}")
        return client

    def check_assertion_signature(self, signed: jws.CompactSignature,
                                  client: RegisteredClient) -> None:
        alg = signed.headers().get("alg")
        if alg not in self.algorithms:
            raise OAuthError("invalid_client", f"the assertion algorithm {alg!r} is not "
                                               "accepted")
        try:
            valid = jws.validate_compact(signed, client.key, algorithms=[alg])
        except (JoseError, ValueError, TypeError):
            valid = False
        if not valid:
            raise OAuthError("invalid_client", f"the client assertion is not signed by the key "
                                               f"registered for {client.id!r}")

    def check_assertion_audience(self, claims: dict[str, Any]) -> None:
        accepted = {self.issuer, self.token_endpoint}
        if not accepted.intersection(_one_of(claims.get("aud"))):
            raise OAuthError("invalid_client", f"the assertion's aud must name "
                                               f"{self.token_endpoint} (or {self.issuer})")

    def check_assertion_lifetime(self, claims: dict[str, Any]) -> None:
        now, exp = self.clock(), claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise OAuthError("invalid_client", "the client assertion needs exp")
        if now > exp + self.leeway:
            raise OAuthError("invalid_client", "the client assertion has expired")
        if exp > now + self.assertion_max_lifetime + self.leeway:
            raise OAuthError("invalid_client", f"the client assertion lives too long (exp at "
                                               f"most {self.assertion_max_lifetime} s ahead)")
        for name in ("iat", "nbf"):
            value = claims.get(name)
            if isinstance(value, int | float) and value > now + self.leeway:
                raise OAuthError("invalid_client", f"the client assertion's {name} is in the "
                                                   "future")

    def check_replay(self, claims: dict[str, Any], client: RegisteredClient) -> None:
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise OAuthError("invalid_client", "the client assertion needs a unique jti")
        now = self.clock()
        if not self.replays.first_use(client.id, jti, claims["exp"] + self.leeway, now):
            raise OAuthError("invalid_client", "this client assertion was already used (jti "
                                               "replayed)")

    def granted_scopes(self, client: RegisteredClient, form: dict[str, str]) -> list[str]:
        asked = form.get("scope", "").split()
        if not asked:
            return sorted(client.scopes)  # RFC 6749 §3.3: the registered default
        unregistered = [s for s in asked if s not in client.scopes]
        if unregistered:
            raise OAuthError("invalid_scope", f"{client.id!r} is not registered for the "
                                              f"scope(s) {' '.join(unregistered)}")
        return list(dict.fromkeys(asked))

    def resource(self, form: dict[str, str]) -> str:
        """The resource server the token is for (RFC 8707 ``resource``; ``audience`` is
        taken too, as some clients send that)."""
        resource, audience = form.get("resource"), form.get("audience")
        if resource and audience and resource != audience:
            raise OAuthError("invalid_request", "resource and audience name different servers")
        target = resource or audience
        if not target:
            raise OAuthError("invalid_request", "name the resource server: resource=<its "
                                                "identifier>, e.g. urn:meshcert:municipal")
        if target not in self.resources:
            raise OAuthError("invalid_target", f"unknown resource {target!r} (known: "
                                               f"{', '.join(sorted(self.resources))})")
        return target
