"""The OpenID provider: authorization requests, the person's decision, codes and tokens.

Authorization code flow only, PKCE S256, ``state`` and ``nonce`` required, exact redirect URIs
(OIDC Core §3.1, RFC 6749 §4.1, RFC 7636). Codes live :data:`CODE_LIFETIME_S` seconds and are
single use: a code presented again is refused and the access token it gave is revoked (RFC 6749
§4.1.2). Each check is a method, so a defect can replace one from outside.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from meshcert_simulators.authz.server import OAuthError
from meshcert_simulators.authz.tokens import mint_access_token
from meshcert_simulators.idp import misbehave
from meshcert_simulators.idp.clients import ALL_SCOPES, Clients, RelyingParty
from meshcert_simulators.idp.keys import KeyRing

CODE_LIFETIME_S = 60
TRANSACTION_LIFETIME_S = 600
TOKEN_LIFETIME_S = 300
GATEWAY_AUDIENCE = "urn:meshcert:gateway"
# The portal takes the person's access tokens too (its own and the front services').
PORTAL_AUDIENCE = "urn:meshcert:portal"
GRANT_TYPE = "authorization_code"


class NoRedirect(Exception):
    """An authorization request that must not be sent back (unknown client, unmatched
    redirect URI: RFC 6749 §4.1.2.1); answered with a page or problem instead."""

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail


class RedirectError(Exception):
    """An authorization error told to the relying party at its redirect URI."""

    def __init__(self, redirect_uri: str, error: str, description: str,
                 state: str | None) -> None:
        super().__init__(description)
        self.location = with_query(redirect_uri, {"error": error,
                                                  "error_description": description,
                                                  "state": state})


def with_query(uri: str, params: dict[str, str | None]) -> str:
    kept = {k: v for k, v in params.items() if v is not None}
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(kept)}"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _half_hash(token: str) -> str:
    """``at_hash`` (OIDC Core §3.1.3.6) for an ES256/RS256-signed ID token."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


@dataclass
class Transaction:
    """An authorization request waiting for the person's decision."""

    id: str
    client: RelyingParty
    redirect_uri: str
    state: str
    nonce: str
    scopes: list[str]
    code_challenge: str
    created: float


@dataclass
class CodeGrant:
    client_id: str
    redirect_uri: str
    sub: str
    juminhyo_code: str
    scopes: list[str]
    nonce: str
    code_challenge: str
    issued: float
    auth_time: int
    used: bool = False
    access_jtis: list[str] = field(default_factory=list)
    # The code-for-other-client fault: the ID token names this client as authorized party.
    other_client: str | None = None


@dataclass
class AccessGrant:
    """What an access token stands for (the token itself is a JWT)."""

    sub: str
    juminhyo_code: str
    client_id: str
    scopes: list[str]
    exp: float
    revoked: bool = False


class Provider:
    """The provider's state and rules; the app (app.py) turns HTTP into these calls."""

    code_lifetime: int = CODE_LIFETIME_S
    token_lifetime: int = TOKEN_LIFETIME_S

    def __init__(self, *, issuer: str, keys: KeyRing, clients: Clients,
                 clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer
        self.keys = keys
        self.clients = clients
        self.clock = clock
        self.transactions: dict[str, Transaction] = {}
        self.codes: dict[str, CodeGrant] = {}
        self.access: dict[str, AccessGrant] = {}
        self.misbehaviour = misbehave.Misbehaviour()
        self._lock = threading.Lock()

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    def subject(self, client_id: str, juminhyo_code: str) -> str:
        """The pairwise ``sub``: the same person is unlinkable across relying parties."""
        message = f"{client_id}\x00{juminhyo_code}".encode()
        return hmac.new(self.keys.subject_secret, message, hashlib.sha256).hexdigest()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": self.token_endpoint,
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "introspection_endpoint": f"{self.issuer}/introspect",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": [GRANT_TYPE],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported":
                sorted(self.clients.assertions.algorithms),
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": list(ALL_SCOPES),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce",
                                 "at_hash", "name", "name_kana", "address", "address_kana",
                                 "birthdate", "gender"],
            "ui_locales_supported": ["ja", "en"],
        }

    # -- the authorization endpoint ----------------------------------------------------------

    def authorize(self, params: dict[str, str]) -> Transaction:
        """Check an authorization request; the transaction the login page then shows."""
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            raise NoRedirect("unknown-client", f"no registered client "
                                               f"{params.get('client_id', '')!r}")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            raise NoRedirect("redirect-uri-mismatch",
                             f"redirect_uri {redirect_uri!r} is not registered for "
                             f"{client.client_id!r} (registered URIs match exactly)")
        state = params.get("state") or None

        def refuse(error: str, description: str) -> RedirectError:
            return RedirectError(redirect_uri, error, description, state)

        response_type = params.get("response_type", "")
        if response_type != "code":
            raise refuse("unsupported_response_type" if response_type else "invalid_request",
                         "only response_type=code (the authorization code flow) is supported")
        if state is None:
            raise refuse("invalid_request", "state is required")
        if not params.get("nonce"):
            raise refuse("invalid_request", "nonce is required")
        if not params.get("code_challenge"):
            raise refuse("invalid_request", "PKCE is required: code_challenge with "
                                            "code_challenge_method=S256")
        if params.get("code_challenge_method") != "S256":
            raise refuse("invalid_request", "code_challenge_method must be S256 (plain is "
                                            "refused)")
        scopes = list(dict.fromkeys(params.get("scope", "").split()))
        if "openid" not in scopes:
            raise refuse("invalid_scope", "scope must include openid")
        outside = [s for s in scopes if s not in client.scopes]
        if outside:
            raise refuse("invalid_scope", f"{client.client_id!r} may not ask for "
                                          f"{' '.join(outside)}")
        transaction = Transaction(secrets.token_urlsafe(24), client, redirect_uri, state,
                                  params["nonce"], scopes, params["code_challenge"],
                                  self.clock())
        with self._lock:
            now = self.clock()
            self.transactions = {k: t for k, t in self.transactions.items()
                                 if now < t.created + TRANSACTION_LIFETIME_S}
            self.transactions[transaction.id] = transaction
        return transaction

    def transaction(self, transaction_id: str) -> Transaction | None:
        found = self.transactions.get(transaction_id)
        if found is None or self.clock() >= found.created + TRANSACTION_LIFETIME_S:
            return None
        return found

    def finish(self, transaction_id: str) -> Transaction | None:
        """Take the transaction (a decision is made once)."""
        with self._lock:
            found = self.transaction(transaction_id)
            self.transactions.pop(transaction_id, None)
            return found

    def refused(self, transaction: Transaction) -> str:
        return with_query(transaction.redirect_uri, {
            "error": "access_denied", "error_description": "the person refused",
            "state": transaction.state})

    def consented(self, transaction: Transaction, juminhyo_code: str) -> str:
        """Issue a code for the person's consent; the redirect back (perhaps misbehaving)."""
        client_id = transaction.client.client_id
        fault = self.misbehaviour.take(client_id, misbehave.AUTHORIZATION_FAULTS)
        if fault == "error-answer":
            return with_query(transaction.redirect_uri, {
                "error": "server_error", "error_description": "the provider failed",
                "state": transaction.state})
        # The code redeems for the client that presents it, but what it gives was authorized
        # for another: the ID token's azp names that one (OpenID Connect Core §3.1.3.7).
        other = self.clients.other_than(client_id) if fault == "code-for-other-client" else None
        bound_to = client_id
        code = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self.codes = {k: g for k, g in self.codes.items()
                          if now < g.issued + max(self.code_lifetime, self.token_lifetime)}
            self.codes[code] = CodeGrant(
                bound_to, transaction.redirect_uri, self.subject(bound_to, juminhyo_code),
                juminhyo_code, transaction.scopes, transaction.nonce,
                transaction.code_challenge, now, int(now), other_client=other)
        state = secrets.token_urlsafe(16) if fault == "wrong-state" else transaction.state
        return with_query(transaction.redirect_uri, {"code": code, "state": state})

    # -- the token endpoint ------------------------------------------------------------------

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        """Answer a token request (form fields, each given once); raises OAuthError."""
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant != GRANT_TYPE:
            raise OAuthError("unsupported_grant_type",
                             f"only grant_type={GRANT_TYPE} is supported, not {grant!r}")
        client = self.clients.authenticate(form)
        code = self.redeem(form, client)
        return self.issue(code, client)

    def redeem(self, form: dict[str, str], client: RelyingParty) -> CodeGrant:
        """The code's grant, once; a replay revokes what the code gave."""
        value = form.get("code", "")
        with self._lock:
            grant = self.codes.get(value)
            if grant is None or grant.client_id != client.client_id:
                raise OAuthError("invalid_grant", "unknown code, or a code issued to another "
                                                  "client")
            if grant.used:
                for jti in grant.access_jtis:
                    self.access[jti].revoked = True
                raise OAuthError("invalid_grant", "the code was already used; the access "
                                                  "token it gave is now revoked")
            if self.clock() >= grant.issued + self.code_lifetime:
                raise OAuthError("invalid_grant", f"the code has expired (codes live "
                                                  f"{self.code_lifetime} s)")
            if form.get("redirect_uri") != grant.redirect_uri:
                raise OAuthError("invalid_grant", "redirect_uri must be the one of the "
                                                  "authorization request")
            verifier = form.get("code_verifier")
            if not verifier:
                raise OAuthError("invalid_request", "code_verifier is required (PKCE)")
            if not hmac.compare_digest(s256(verifier), grant.code_challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match the "
                                                  "code_challenge (S256)")
            grant.used = True
            return grant

    def issue(self, grant: CodeGrant, client: RelyingParty) -> dict[str, Any]:
        now = int(self.clock())
        key = self.keys.signing
        access_token = mint_access_token(
            key, issuer=self.issuer, audience=[GATEWAY_AUDIENCE, PORTAL_AUDIENCE, self.issuer],
            subject=grant.sub, scopes=grant.scopes, lifetime=self.token_lifetime, now=now,
            client_id=client.client_id)
        claims = self.access_claims_of(access_token)
        with self._lock:
            self.access[claims["jti"]] = AccessGrant(grant.sub, grant.juminhyo_code,
                                                     client.client_id, grant.scopes,
                                                     claims["exp"])
            grant.access_jtis.append(claims["jti"])
        id_claims = {"iss": self.issuer, "sub": grant.sub, "aud": client.client_id,
                     "nonce": grant.nonce, "iat": now, "exp": now + self.token_lifetime,
                     "auth_time": grant.auth_time, "at_hash": _half_hash(access_token)}
        if grant.other_client is not None:
            id_claims.update(aud=[grant.other_client, client.client_id], azp=grant.other_client)
        fault = self.misbehaviour.take(client.client_id, misbehave.ID_TOKEN_FAULTS)
        return {"access_token": access_token, "token_type": "Bearer",
                "expires_in": self.token_lifetime, "scope": " ".join(grant.scopes),
                "id_token": misbehave.id_token(id_claims, key, fault, now)}

    @staticmethod
    def access_claims_of(token: str) -> dict[str, Any]:
        payload = token.split(".")[1]
        return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))

    def grant_of(self, jti: str) -> AccessGrant | None:
        return self.access.get(jti)
