"""Negative controls of the reference private service (meshcert_simulators/bank/, profile
private-service): each puts an overriding subclass or a changed copy in place of one object
the bank holds on ``app.state`` — its ID-token validator, login flow, sessions, provider view
or gateway client — so exactly one check or habit of a relying party goes wrong."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any

from joserfc import jws
from joserfc.jwk import Key, KeySet

from meshcert_simulators.bank.facts import Facts, Gateway, Outcome, TryAgain
from meshcert_simulators.bank.id_token import ALGORITHMS, Expected, IdTokenValidator
from meshcert_simulators.bank.login import LoginFlow
from meshcert_simulators.bank.provider import CLIENT_ASSERTION_TYPE, Provider
from meshcert_simulators.bank.sessions import PendingLogin, Sessions, new_secret
from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import override

KIND = "bank"
Patch = Callable[[Any], None]


def _validator_as(cls: type[IdTokenValidator]) -> Patch:
    def patch(app: Any) -> None:
        flow = app.state.login_flow
        app.state.login_flow = dataclasses.replace(flow, validator=override(flow.validator, cls))
    return patch


def _flow_as(cls: type[LoginFlow]) -> Patch:
    def patch(app: Any) -> None:
        flow = app.state.login_flow
        app.state.login_flow = cls(**{f.name: getattr(flow, f.name)
                                      for f in dataclasses.fields(flow)})
    return patch


def _state_as(name: str, cls: type) -> Patch:
    def patch(app: Any) -> None:
        setattr(app.state, name, override(getattr(app.state, name), cls))
    return patch


def _provider_as(cls: type[Provider]) -> Patch:
    """The bank's provider view replaced everywhere it is held (flow, validator, app)."""
    def patch(app: Any) -> None:
        flow = app.state.login_flow
        provider = override(flow.provider, cls)
        validator = flow.validator
        validator.provider = provider
        app.state.provider = provider
        app.state.login_flow = dataclasses.replace(flow, provider=provider)
    return patch


# -- ID-token checks skipped ------------------------------------------------------------------


class _IgnoresIssuer(IdTokenValidator):
    def check_issuer(self, claims: dict[str, Any], expected: Expected) -> None:
        return None


class _IgnoresAudience(IdTokenValidator):
    def check_audience(self, claims: dict[str, Any], expected: Expected) -> None:
        return None


class _AcceptsExpired(IdTokenValidator):
    def check_expiry(self, claims: dict[str, Any]) -> None:
        return None


class _AcceptsFutureIat(IdTokenValidator):
    def check_issued_at(self, claims: dict[str, Any]) -> None:
        return None


class _UnverifiedUnknownKid(IdTokenValidator):
    """A key it cannot find is taken as "nothing to verify with": the token is read unverified."""

    async def key_for(self, header: dict[str, Any]) -> Key:
        try:
            return await super().key_for(header)
        except Exception:
            return None  # type: ignore[return-value]

    def check_signature(self, signed: jws.CompactSignature, key: Key | None,
                        header: dict[str, Any]) -> None:
        if key is not None:
            super().check_signature(signed, key, header)


class _IgnoresBadSignature(IdTokenValidator):
    """Finds the key the kid names, then never checks the signature with it."""

    def check_signature(self, signed: jws.CompactSignature, key: Key | None,
                        header: dict[str, Any]) -> None:
        return None


class _AcceptsAlgNone(IdTokenValidator):
    def check_algorithm(self, header: dict[str, Any]) -> None:
        if header.get("alg") != "none":
            super().check_algorithm(header)

    def check_signature(self, signed: jws.CompactSignature, key: Key | None,
                        header: dict[str, Any]) -> None:
        if header.get("alg") != "none":
            super().check_signature(signed, key, header)


class _HmacWithPublicKey(IdTokenValidator):
    """Lets the token choose HS256 and keys the HMAC with the provider's public key (PEM): the
    algorithm-confusion bug of verifiers that take any key material for any algorithm."""

    def check_algorithm(self, header: dict[str, Any]) -> None:
        if header.get("alg") not in {*ALGORITHMS, "HS256"}:
            super().check_algorithm(header)

    def check_signature(self, signed: jws.CompactSignature, key: Key | None,
                        header: dict[str, Any]) -> None:
        if header.get("alg") != "HS256" or key is None:
            super().check_signature(signed, key, header)
            return
        pem = key.as_pem(private=False)  # type: ignore[attr-defined]
        secret = pem if isinstance(pem, bytes) else str(pem).encode()
        parts = signed.segments
        mac = hmac.new(secret, parts["header"] + b"." + parts["payload"], hashlib.sha256)
        if base64.urlsafe_b64encode(mac.digest()).rstrip(b"=") != parts["signature"]:
            super().check_signature(signed, key, header)


class _IgnoresNonce(IdTokenValidator):
    def check_nonce(self, claims: dict[str, Any], expected: Expected) -> None:
        return None


class _IgnoresAzp(IdTokenValidator):
    def check_authorized_party(self, claims: dict[str, Any], expected: Expected) -> None:
        return None


# -- the authorization answer -----------------------------------------------------------------


class _IgnoresState(LoginFlow):
    def check_state(self, params: Mapping[str, str], login: PendingLogin) -> None:
        return None


class _CodeBeforeError(LoginFlow):
    """Looks for a code first: an answer carrying one is taken, whatever error beside it."""

    def check_error(self, params: Mapping[str, str]) -> None:
        if not params.get("code"):
            super().check_error(params)


# -- the requests it sends --------------------------------------------------------------------


class _PkceVerifierReused(Sessions):
    """One PKCE verifier made at start-up, sent with every login (fresh state and nonce)."""

    def start_login(self, browser: str) -> PendingLogin:
        fixed = self.__dict__.setdefault("_fixed_verifier", new_secret())
        login = dataclasses.replace(super().start_login(browser), verifier=fixed)
        with self._lock:
            self._pending[browser] = login
        return login


class _ReusesStateNonce(Sessions):
    """One state and one nonce made at start-up, sent with every login."""

    def start_login(self, browser: str) -> PendingLogin:
        fixed = self.__dict__.setdefault("_fixed", (new_secret(), new_secret()))
        login = dataclasses.replace(super().start_login(browser), state=fixed[0],
                                    nonce=fixed[1])
        with self._lock:
            self._pending[browser] = login
        return login


class _ClientSecretToo(Provider):
    """Sends a shared secret beside its assertion (two client authentication methods)."""

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> Any:
        endpoint = (await self.metadata())["token_endpoint"]
        return await self.http.post(endpoint, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier, "client_id": self.client_id,
            "client_secret": "bank-account-opening-secret",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.client_assertion(endpoint)})


class _JwksCachedForever(Provider):
    """Fetches the provider's keys once and never again, whatever kid a token names."""

    async def key_set(self, refresh: bool = False) -> KeySet:
        return await super().key_set(refresh=self._keys is None)


class _AsksMyNumber(LoginFlow):
    """Asks for the My Number through an OpenID Connect claims request (Core §5.5)."""

    def authorization_params(self, login: PendingLogin) -> dict[str, str]:
        claims = {"userinfo": {"my_number": {"essential": True}}}
        return {**super().authorization_params(login), "claims": json.dumps(claims)}


def _asks_gender(app: Any) -> None:
    flow = app.state.login_flow
    app.state.login_flow = dataclasses.replace(flow, scopes=(*flow.scopes, "gender"))


# -- the gateway ------------------------------------------------------------------------------


class _CachesFacts(Gateway):
    """Keeps the facts of each session's first answer and shows them from then on."""

    async def facts(self, access_token: str) -> Outcome:
        cache = self.__dict__.setdefault("_cache", {})
        if access_token in cache:
            return cache[access_token]
        outcome = await super().facts(access_token)
        if isinstance(outcome, Facts):
            cache[access_token] = outcome
        return outcome


class _IgnoresRetryAfter(Gateway):
    def outcome(self, answer: Any) -> Outcome:
        found = super().outcome(answer)
        self.blocked_until = 0.0
        return found


class _EmptyFactsOnTimeout(Gateway):
    """Shows an empty page of facts when the gateway is too slow, as if the person had none."""

    async def facts(self, access_token: str) -> Outcome:
        outcome = await super().facts(access_token)
        if isinstance(outcome, TryAgain) and outcome.reason == "gateway-timeout":
            return Facts({})
        return outcome


_DEFECTS: list[tuple[str, str, str, Patch]] = [
    ("rp-ignores-issuer", "RP-IDTOKEN-ISS-001", "accepts an ID token from any issuer",
     _validator_as(_IgnoresIssuer)),
    ("rp-ignores-audience", "RP-IDTOKEN-AUD-001", "accepts an ID token for any audience",
     _validator_as(_IgnoresAudience)),
    ("rp-accepts-expired", "RP-IDTOKEN-EXP-001", "accepts expired ID tokens",
     _validator_as(_AcceptsExpired)),
    ("rp-accepts-future-iat", "RP-IDTOKEN-IAT-001", "accepts ID tokens issued in the future",
     _validator_as(_AcceptsFutureIat)),
    ("rp-unverified-unknown-kid", "RP-IDTOKEN-KID-001",
     "reads an ID token unverified when it has no key for its kid",
     _validator_as(_UnverifiedUnknownKid)),
    ("rp-ignores-bad-signature", "RP-IDTOKEN-SIG-001", "never checks the ID token's signature",
     _validator_as(_IgnoresBadSignature)),
    ("rp-accepts-alg-none", "RP-IDTOKEN-NONE-001", "accepts unsigned (alg none) ID tokens",
     _validator_as(_AcceptsAlgNone)),
    ("rp-hmac-with-public-key", "RP-IDTOKEN-HMAC-001",
     "verifies HS256 ID tokens with the provider's public key", _validator_as(_HmacWithPublicKey)),
    ("rp-ignores-nonce", "RP-IDTOKEN-NONCE-001", "never compares the nonce",
     _validator_as(_IgnoresNonce)),
    ("rp-ignores-azp", "RP-AUTHZ-CLIENT-001",
     "accepts an ID token authorized for another client (azp)", _validator_as(_IgnoresAzp)),
    ("rp-ignores-state", "RP-AUTHZ-STATE-001", "never compares the state",
     _flow_as(_IgnoresState)),
    ("rp-code-before-error", "RP-AUTHZ-ERROR-001",
     "takes a code even from an error answer", _flow_as(_CodeBeforeError)),
    ("rp-pkce-verifier-reused", "RP-REQ-PKCE-001", "sends the same PKCE verifier every login",
     _state_as("sessions", _PkceVerifierReused)),
    ("rp-reuses-state-nonce", "RP-REQ-FRESH-001", "sends the same state and nonce every login",
     _state_as("sessions", _ReusesStateNonce)),
    ("rp-client-secret-too", "RP-REQ-CLIENTAUTH-001",
     "sends a client_secret beside its private_key_jwt assertion",
     _provider_as(_ClientSecretToo)),
    ("rp-jwks-cached-forever", "RP-KEYS-ROTATION-001",
     "fetches the provider's keys once and never again", _provider_as(_JwksCachedForever)),
    ("rp-asks-gender", "RP-SCOPE-001", "also asks for gender, which account opening does not "
     "need", _asks_gender),
    ("rp-asks-my-number", "RP-MYNUM-001", "asks for the My Number in a claims request",
     _flow_as(_AsksMyNumber)),
    ("rp-caches-facts", "RP-CONSENT-REVOKE-001",
     "shows the facts it got first from then on, without asking the gateway",
     _state_as("gateway", _CachesFacts)),
    ("rp-ignores-retry-after", "RP-GW-RATE-001", "asks the gateway again right after a 429",
     _state_as("gateway", _IgnoresRetryAfter)),
    ("rp-empty-facts-on-timeout", "RP-GW-TIMEOUT-001",
     "shows an empty page of facts when the gateway times out",
     _state_as("gateway", _EmptyFactsOnTimeout)),
]

for _id, _requirement, _description, _patch in _DEFECTS:
    defect(_id, KIND, _requirement, f"the bank {_description}", patch=_patch)
