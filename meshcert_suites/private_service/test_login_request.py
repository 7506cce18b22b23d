"""What the system sends the provider when it signs people in: PKCE S256 and a fresh state and
nonce for every login, private_key_jwt at the token endpoint, only the scopes its purpose needs,
never a request for the My Number. Judged from the provider's capture of two logins."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pytest
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import import_key

from meshcert.catalog.targets import PURPOSE_SCOPES
from meshcert.checks import find_identifiers
from meshcert_suites.private_service.conftest import (
    Login,
    Person,
    Provider,
    System,
    authorize_params,
    ensure_signed_in,
    token_form,
)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
MIN_SECRET_CHARS = 22          # 128 bits of base64url
MAX_ASSERTION_LIFE_S = 300
MY_NUMBER_NAMES = ("my_number", "mynumber", "my-number", "individual_number",
                   "individualnumber", "個人番号", "マイナンバー")


@dataclass
class Captured:
    logins: list[Login]
    authorize: list[dict[str, Any]]     # the system's /authorize requests, in order
    token: list[dict[str, Any]]         # its /token requests, in order
    discovery: dict[str, Any]


def two_logins(system: System, provider: Provider, client: httpx.Client,
               persons: list[Person]) -> Captured:
    after = provider.last_seq()
    logins = [system.login(p) for p in persons[:2]]
    for login in logins:
        ensure_signed_in(login, "a correct login")
    client_id = system.party.client_id
    authorize = [e for e in provider.sent(client, after, "/authorize")
                 if authorize_params(e).get("client_id") == client_id]
    token = [e for e in provider.sent(client, after, "/token")
             if _assertion_client(token_form(e)) in (client_id, None)]
    discovery = client.get("/.well-known/openid-configuration")
    assert len(authorize) >= 2, (
        f"the provider saw {len(authorize)} authorization requests of client {client_id} for "
        "two logins (does the system use the provider at all?)")
    return Captured(logins, authorize, token, discovery.json())


def _assertion_client(form: dict[str, str]) -> str | None:
    """The client a token request names (its form's client_id, else its assertion's iss)."""
    if form.get("client_id"):
        return form["client_id"]
    try:
        payload = form["client_assertion"].split(".")[1]
        return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
                   .get("iss"))
    except (KeyError, IndexError, ValueError, AttributeError):
        return None


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@pytest.fixture
def captured(system: System, provider: Provider, recorded_provider: httpx.Client,
             persons: list[Person]) -> Captured:
    return two_logins(system, provider, recorded_provider, persons)


@pytest.mark.requirement("RP-REQ-PKCE-001")
def test_every_login_sends_a_new_s256_challenge_and_its_verifier(captured: Captured):
    params = [authorize_params(e) for e in captured.authorize]
    for p in params:
        assert p.get("code_challenge_method") == "S256", (
            f"code_challenge_method is {p.get('code_challenge_method')!r}, not S256: {p}")
        assert CHALLENGE.fullmatch(p.get("code_challenge", "")), (
            f"code_challenge {p.get('code_challenge')!r} is not 43 base64url characters "
            "(SHA-256 of the verifier)")
    challenges = [p["code_challenge"] for p in params]
    assert len(set(challenges)) == len(challenges), (
        f"two logins sent the same code_challenge {challenges}: the verifier is reused")
    assert len(captured.token) >= 2, "the provider saw fewer token requests than logins"
    for exchange in captured.token:
        verifier = token_form(exchange).get("code_verifier", "")
        assert verifier and s256(verifier) in challenges, (
            f"the token request's code_verifier {verifier[:12]!r}… matches no challenge the "
            "system sent")


@pytest.mark.requirement("RP-REQ-FRESH-001")
def test_every_login_sends_a_fresh_state_and_nonce(captured: Captured):
    params = [authorize_params(e) for e in captured.authorize]
    for name in ("state", "nonce"):
        values = [p.get(name, "") for p in params]
        assert all(len(v) >= MIN_SECRET_CHARS for v in values), (
            f"a {name} shorter than {MIN_SECRET_CHARS} characters (128 bits): {values}")
        assert len(set(values)) == len(values), (
            f"two logins sent the same {name}: {values}")


@pytest.mark.requirement("RP-REQ-CLIENTAUTH-001")
def test_the_token_request_authenticates_with_private_key_jwt_only(
        captured: Captured, public_jwk: dict[str, Any], system: System):
    client_id = system.party.client_id
    key = import_key(public_jwk)
    accepted = {captured.discovery.get("token_endpoint"), captured.discovery.get("issuer")}
    assert len(captured.token) >= 2, "the provider saw fewer token requests than logins"
    jtis = []
    for exchange in captured.token:
        form = token_form(exchange)
        assert "client_secret" not in form, "the token request also sends a client_secret"
        assert "authorization" not in {h.lower() for h in exchange.get("request_headers", {})}, (
            "the token request also sends HTTP (Basic) credentials")
        assert form.get("client_assertion_type") == JWT_BEARER, (
            f"client_assertion_type is {form.get('client_assertion_type')!r}")
        assertion = form.get("client_assertion", "")
        try:
            signed = jws.extract_compact(assertion.encode("ascii"))
            valid = jws.validate_compact(signed, key, algorithms=[signed.headers()["alg"]])
        except (JoseError, ValueError, KeyError, TypeError, UnicodeError):
            valid = False
        assert valid, "the client assertion is not signed by the key of relying_party.public_jwk"
        claims = json.loads(signed.payload)
        assert claims.get("iss") == client_id and claims.get("sub") == client_id, (
            f"assertion iss/sub are {claims.get('iss')!r}/{claims.get('sub')!r}, not "
            f"{client_id!r}")
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [
            claims.get("aud")]
        assert accepted & set(audiences), f"assertion aud {claims.get('aud')!r} names neither "\
            f"the token endpoint nor the issuer ({sorted(str(a) for a in accepted)})"
        exp = claims.get("exp")
        assert isinstance(exp, int | float) and exp <= time.time() + MAX_ASSERTION_LIFE_S, (
            f"assertion exp {exp!r} is missing or more than {MAX_ASSERTION_LIFE_S} s ahead")
        jtis.append(claims.get("jti"))
    assert all(jtis) and len(set(jtis)) == len(jtis), f"assertion jti reused or missing: {jtis}"


@pytest.mark.requirement("RP-SCOPE-001")
def test_the_login_asks_only_for_what_the_purpose_needs(captured: Captured, system: System):
    party = system.party
    allowed = set(PURPOSE_SCOPES[party.purpose]) & set(party.scopes)
    for exchange in captured.authorize:
        scopes = authorize_params(exchange).get("scope", "").split()
        assert "openid" in scopes, f"the login does not ask for openid: {scopes}"
        beyond = sorted(set(scopes) - {"openid"} - allowed)
        assert not beyond, (
            f"the login asks for {beyond} beyond what purpose {party.purpose} needs and the "
            f"target declares ({sorted(allowed)}): scope={' '.join(scopes)}")


@pytest.mark.requirement("RP-MYNUM-001")
def test_no_login_asks_for_the_my_number_and_no_page_shows_one(captured: Captured):
    for exchange in captured.authorize:
        query = unquote_plus(exchange["query"]).lower()
        named = [n for n in MY_NUMBER_NAMES if n in query]
        assert not named, f"the authorization request asks for the My Number ({named}): {query}"
        leaks = [leak for leak in find_identifiers(authorize_params(exchange))
                 if leak.kind == "my-number"]
        assert not leaks, f"the authorization request carries a My Number: {leaks}"
    for login in captured.logins:
        answer = login.me()
        try:
            body: Any = answer.json()
        except ValueError:
            body = answer.text
        leaks = [leak for leak in find_identifiers(body) if leak.kind == "my-number"]
        assert not leaks, f"the me path shows a My Number: {leaks}"
