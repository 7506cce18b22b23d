"""The reference bank (meshcert_simulators/bank/) in-process, its provider and gateway played by a
mock transport: what it asks for at login, what it refuses at the callback, what /me shows (the
facts only, never a field beyond them), and how it treats the gateway's 429."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey

from meshcert_simulators.bank.app import create_app
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import load_topology
from meshcert_simulators.fixtures import fixture_path

TOPOLOGY = fixture_path("topologies") / "private-service.yaml"
ISSUER = "http://127.0.0.1:23103"
GATEWAY = "http://127.0.0.1:23104"
CLIENT = "bank-account-opening"
MY_NUMBER = "123456789018"


class Counterparts:
    """The provider and the gateway as a mock transport; ``facts_answers`` are served in turn."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
        self.nonce = ""
        self.id_claims: dict[str, Any] = {}
        self.facts_answers: list[httpx.Response] = []
        self.facts_calls = 0
        self.token_forms: list[dict[str, str]] = []
        self.key_answer: httpx.Response | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url == f"{ISSUER}/.well-known/openid-configuration":
            return httpx.Response(200, json={
                "issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks"})
        if url == f"{ISSUER}/jwks":
            if self.key_answer is not None:
                return self.key_answer
            return httpx.Response(200, json={"keys": [self.key.as_dict(private=False)]})
        if url == f"{ISSUER}/token":
            self.token_forms.append(dict(parse_qsl(request.content.decode())))
            now = int(time.time())
            claims = {"iss": ISSUER, "aud": CLIENT, "sub": "ab" * 32, "nonce": self.nonce,
                      "iat": now, "exp": now + 300, **self.id_claims}
            token = jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, self.key)
            return httpx.Response(200, json={"id_token": token, "access_token": "at-1",
                                              "token_type": "Bearer", "expires_in": 300})
        if url == f"{GATEWAY}/v1/basic-facts":
            self.facts_calls += 1
            return self.facts_answers.pop(0)
        return httpx.Response(404)


@pytest.fixture
def bank(tmp_path: Path):
    settings = Settings(name="bank", topology=load_topology(TOPOLOGY), data_dir=tmp_path,
                        access_log=False)
    app = create_app(settings)
    counterparts = Counterparts()
    mock = httpx.AsyncClient(transport=httpx.MockTransport(counterparts.handle))
    app.state.provider.http = mock
    app.state.gateway.http = mock
    with TestClient(app, base_url="http://127.0.0.1:23120") as client:
        yield client, counterparts


def start_login(client: TestClient) -> dict[str, str]:
    answer = client.get("/login", follow_redirects=False)
    assert answer.status_code == 302
    return dict(parse_qsl(urlsplit(answer.headers["location"]).query))


def sign_in(client: TestClient, counterparts: Counterparts) -> None:
    params = start_login(client)
    counterparts.nonce = params["nonce"]
    answer = client.get("/callback", params={"code": "c", "state": params["state"]},
                        follow_redirects=False)
    assert answer.status_code == 303, answer.text


def test_a_login_asks_for_what_account_opening_needs_with_fresh_secrets(bank):
    client, _ = bank
    first, second = start_login(client), start_login(client)
    assert first["scope"] == "openid name address birthdate"
    assert first["code_challenge_method"] == "S256" and len(first["code_challenge"]) == 43
    for name in ("state", "nonce", "code_challenge"):
        assert first[name] != second[name]


def test_me_shows_only_the_basic_facts(bank):
    client, counterparts = bank
    sign_in(client, counterparts)
    counterparts.facts_answers.append(httpx.Response(200, json={
        "facts": {"name": "山田\u3000花子", "birthdate": "1990-01-02", "my_number": MY_NUMBER}}))
    answer = client.get("/me")
    assert answer.status_code == 200
    assert answer.json()["facts"] == {"name": "山田\u3000花子", "birthdate": "1990-01-02"}
    assert MY_NUMBER not in answer.text
    form = counterparts.token_forms[0]
    assert form["client_assertion_type"].endswith("jwt-bearer") and "client_secret" not in form


@pytest.mark.parametrize(("claims", "reason"), [
    ({"iss": "http://elsewhere"}, "issuer"),
    ({"aud": [CLIENT, "other"], "azp": "other"}, "authorized-party"),
    ({"exp": 1}, "expired"),
    ({"nonce": "another"}, "nonce"),
])
def test_a_bad_id_token_signs_nobody_in(bank, claims, reason):
    client, counterparts = bank
    counterparts.id_claims = claims
    params = start_login(client)
    counterparts.nonce = params["nonce"]
    answer = client.get("/callback", params={"code": "c", "state": params["state"]})
    assert answer.status_code == 401 and answer.json()["reason"] == reason
    assert client.get("/me").status_code == 401


def test_an_error_answer_is_refused_even_beside_a_code(bank):
    client, counterparts = bank
    params = start_login(client)
    answer = client.get("/callback", params={"code": "c", "state": params["state"],
                                             "error": "server_error"})
    assert answer.status_code == 401 and answer.json()["reason"] == "provider-error"
    assert counterparts.token_forms == []


def test_after_a_429_the_gateway_is_not_asked_before_retry_after(bank):
    client, counterparts = bank
    sign_in(client, counterparts)
    counterparts.facts_answers.append(httpx.Response(429, headers={"Retry-After": "30"}))
    first, second = client.get("/me"), client.get("/me")
    assert (first.status_code, second.status_code) == (503, 503)
    assert first.headers["content-type"].startswith("application/problem+json")
    assert counterparts.facts_calls == 1


def test_a_revoked_consent_ends_the_session(bank):
    client, counterparts = bank
    sign_in(client, counterparts)
    counterparts.facts_answers.append(httpx.Response(403, json={"type": "consent-revoked"}))
    assert client.get("/me").status_code == 403
    assert client.get("/me").status_code == 401
    assert counterparts.facts_calls == 1


def test_unreadable_provider_keys_sign_nobody_in_and_say_try_again(bank):
    client, counterparts = bank
    counterparts.key_answer = httpx.Response(500)
    params = start_login(client)
    counterparts.nonce = params["nonce"]
    answer = client.get("/callback", params={"code": "c", "state": params["state"]})
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert client.get("/me").status_code == 401
