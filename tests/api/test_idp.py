"""The digital-authentication simulator behaves as an OpenID provider should: the code flow end
to end with the scripted holder, every refusal the flow requires, discovery and JWKS, key
rotation, single-use short-lived codes, and facts read from the registry at login."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from meshcert_simulators.authz.tokens import make_client_assertion
from meshcert_simulators.common.jwks import generate_key, public_jwk
from meshcert_simulators.idp.holder import ScriptedHolder
from meshcert_suites.resident_registry.builders import ADDRESS, movement
from tests.api.idp_support import LG, RP, World, admin, make_world, pkce, rp_key


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def login(world: World, person: str, decision: str = "consent") -> dict[str, str]:
    result = ScriptedHolder(world.http, person, decision).login(f"{world.rp_base}/login")  # type: ignore[arg-type]
    assert result.callback is not None and result.callback.status_code == 200
    return result.callback_params


def tokens(world: World, person: str) -> dict[str, str]:
    back = login(world, person)
    answer = world.redeem(back["code"], world.rp.logins[back["state"]])
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def userinfo(world: World, access_token: str) -> object:
    return world.http.get(f"{world.issuer}/userinfo",
                          headers={"Authorization": f"Bearer {access_token}"})


# -- the flow --------------------------------------------------------------------------------


def test_a_whole_login_with_the_scripted_holder_gives_verifiable_tokens_and_the_facts(
        world: World):
    person = world.resident()
    result = ScriptedHolder(world.http, person["juminhyo_code"]).login(f"{world.rp_base}/login")
    sent = result.authorize_params
    assert sent["code_challenge_method"] == "S256" and sent["client_id"] == RP
    assert "山田\u3000花子" in result.page.text  # the person picker lists the registry's people
    assert "口座開設の本人確認" in result.page.text  # the purpose is shown
    assert result.visited[-1].startswith(world.rp.redirect_uri)
    back = result.callback_params
    assert set(back) == {"code", "state"} and back["state"] == sent["state"]

    answer = world.redeem(back["code"], world.rp.logins[back["state"]])
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["scope"].split()[0] == "openid"
    claims = world.id_claims(body["id_token"])
    assert claims["iss"] == world.issuer and claims["aud"] == RP
    assert claims["nonce"] == sent["nonce"]
    assert claims["exp"] > claims["iat"] and "auth_time" in claims
    assert re.fullmatch(r"[0-9a-f]{64}", claims["sub"])
    access = jwt.decode(body["access_token"], world.key_set(), algorithms=["ES256"]).claims
    assert "urn:meshcert:gateway" in access["aud"]
    assert access["client_id"] == RP and access["sub"] == claims["sub"] and access["jti"]

    facts = userinfo(world, body["access_token"])
    assert facts.status_code == 200, facts.text
    assert facts.json() == {"sub": claims["sub"], "name": "山田\u3000花子",
                            "name_kana": "ヤマダ\u3000ハナコ",
                            "address": "東京都千代田区霞が関二丁目1-6",
                            "birthdate": person["birth_date"]["iso"], "gender": "female"}
    everything = answer.text + facts.text + body["id_token"] + str(access)
    assert person["juminhyo_code"] not in everything
    assert person.get("my_number", "-") not in everything


def test_the_subject_is_pairwise_per_client(world: World):
    code = world.resident()["juminhyo_code"]
    provider = world.provider
    assert provider.subject(RP, code) != provider.subject("another-service", code)
    assert provider.subject(RP, code) == provider.subject(RP, code)


def test_only_the_consented_scopes_are_released(world: World):
    world.rp.scope = "openid address"
    person = world.resident()
    facts = userinfo(world, tokens(world, person["juminhyo_code"])["access_token"]).json()
    assert set(facts) == {"sub", "address"}


def test_the_person_refuses_and_the_service_hears_access_denied(world: World):
    back = login(world, world.resident()["juminhyo_code"], "refuse")
    assert back["error"] == "access_denied" and back["state"] in world.rp.logins


def test_the_consent_page_is_neither_cached_nor_framed(world: World):
    page = world.http.get(world.rp.authorize_url()[0])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"


def test_an_abandoned_login_never_returns_to_the_service(world: World):
    result = ScriptedHolder(world.http, world.resident()["juminhyo_code"], "abandon").login(
        f"{world.rp_base}/login")
    assert result.callback is None and result.final_url is None


def test_a_person_unknown_to_the_registry_gets_the_page_again(world: World):
    url, _ = world.rp.authorize_url()
    page = world.http.get(url)
    transaction = re.search(r'name="transaction" value="([^"]+)"', page.text)
    assert transaction
    again = world.http.post("/authorize/decision", data={
        "transaction": transaction.group(1), "person": "00000000000", "decision": "consent"},
        follow_redirects=False)
    assert again.status_code == 200 and "No resident with that code" in again.text


def test_a_move_at_the_registry_changes_the_address_of_the_next_login(world: World):
    person = world.resident()
    first = userinfo(world, tokens(world, person["juminhyo_code"])["access_token"]).json()
    assert first["address"].endswith("1-6")
    moved = world.registry.post(
        f"/municipalities/{LG}/movements", headers=admin(),
        json=movement("move-within", setai_number=person["setai_number"],
                      address={**ADDRESS, "banchi": "3-1"}))
    assert moved.status_code == 201, moved.text
    second = userinfo(world, tokens(world, person["juminhyo_code"])["access_token"]).json()
    assert second["address"] == "東京都千代田区霞が関二丁目3-1"


# -- the authorization endpoint refuses ------------------------------------------------------


def _redirected(world: World, **overrides: str | None) -> dict[str, str]:
    url, login_ = world.rp.authorize_url(**overrides)
    answer = world.http.get(url, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(world.rp.redirect_uri + "?")
    params = dict(parse_qsl(urlsplit(location).query))
    assert "code" not in params
    if overrides.get("state", "") is not None:
        assert params["state"] == login_.state
    return params


@pytest.mark.parametrize(("overrides", "error"), [
    ({"response_type": "token"}, "unsupported_response_type"),            # implicit
    ({"response_type": "code id_token"}, "unsupported_response_type"),    # hybrid
    ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"state": None}, "invalid_request"),
    ({"nonce": None}, "invalid_request"),
    ({"scope": "name address"}, "invalid_scope"),                         # no openid
    ({"scope": "openid profile"}, "invalid_scope"),                       # not registered
])
def test_a_bad_authorization_request_goes_back_with_its_error(
        world: World, overrides: dict[str, str | None], error: str):
    assert _redirected(world, **overrides)["error"] == error


@pytest.mark.parametrize("overrides", [
    {"redirect_uri": "http://127.0.0.1:24190/callback/"},   # not exactly the registered one
    {"redirect_uri": "http://evil.example/callback"},
    {"client_id": "nobody"},
])
def test_an_unknown_client_or_redirect_uri_is_never_redirected_to(
        world: World, overrides: dict[str, str]):
    url, _ = world.rp.authorize_url(**overrides)
    answer = world.http.get(url, follow_redirects=False)
    assert answer.status_code == 400 and "location" not in answer.headers
    assert answer.headers["content-type"] == "application/problem+json"
    browser = world.http.get(url, follow_redirects=False, headers={"Accept": "text/html"})
    assert browser.status_code == 400 and browser.text.startswith("<!doctype html>")


def test_a_repeated_authorization_parameter_is_refused(world: World):
    url, _ = world.rp.authorize_url()
    answer = world.http.get(url + "&state=again", follow_redirects=False)
    assert answer.status_code == 400 and "location" not in answer.headers


# -- the token endpoint refuses --------------------------------------------------------------


@pytest.fixture
def fresh_code(world: World) -> tuple[str, object]:
    back = login(world, world.resident()["juminhyo_code"])
    return back["code"], world.rp.logins[back["state"]]


def _error(answer: object, error: str) -> None:
    assert answer.status_code == 400, answer.text  # type: ignore[attr-defined]
    assert answer.json()["error"] == error  # type: ignore[attr-defined]


@pytest.mark.parametrize(("grant", "error"), [
    ("password", "unsupported_grant_type"), ("implicit", "unsupported_grant_type"),
    ("client_credentials", "unsupported_grant_type"), (None, "invalid_request")])
def test_only_the_authorization_code_grant_is_taken(world: World, fresh_code, grant, error):
    _error(world.redeem(fresh_code[0], fresh_code[1], grant_type=grant), error)


def test_a_client_assertion_signed_by_another_key_is_refused(world: World, fresh_code):
    forged = make_client_assertion(generate_key(), RP, f"{world.issuer}/token")
    _error(world.redeem(*fresh_code, assertion=forged), "invalid_client")
    # The code survives a failed client authentication: the real client may still redeem it.
    assert world.redeem(*fresh_code).status_code == 200


@pytest.mark.parametrize("change", ["no-assertion", "wrong-aud", "expired", "replayed-jti"])
def test_a_bad_client_assertion_is_refused(world: World, fresh_code, change: str):
    token_url = f"{world.issuer}/token"
    if change == "no-assertion":
        answer = world.redeem(*fresh_code, client_assertion_type=None, client_assertion=None)
    elif change == "wrong-aud":
        answer = world.redeem(*fresh_code, assertion=make_client_assertion(
            rp_key(), RP, "http://elsewhere.example/token"))
    elif change == "expired":
        answer = world.redeem(*fresh_code, assertion=make_client_assertion(
            rp_key(), RP, token_url, now=0))
    else:
        used = make_client_assertion(rp_key(), RP, token_url)
        other = login(world, world.resident("佐藤", "一郎", ("サトウ", "イチロウ"), "1")
                      ["juminhyo_code"])
        assert world.redeem(other["code"], world.rp.logins[other["state"]],
                            assertion=used).status_code == 200
        answer = world.redeem(*fresh_code, assertion=used)
    _error(answer, "invalid_client")


def test_pkce_and_the_redirect_uri_are_checked_at_the_token_endpoint(world: World, fresh_code):
    code, login_ = fresh_code
    _error(world.redeem(code, login_, code_verifier=None), "invalid_request")
    _error(world.redeem(code, login_, code_verifier=pkce()[0]), "invalid_grant")
    _error(world.redeem(code, login_, redirect_uri="http://127.0.0.1:24190/other"),
           "invalid_grant")
    assert world.redeem(code, login_).status_code == 200


def test_a_replayed_code_is_refused_and_revokes_the_access_token_it_gave(
        world: World, fresh_code):
    first = world.redeem(*fresh_code)
    assert first.status_code == 200
    access_token = first.json()["access_token"]
    assert userinfo(world, access_token).status_code == 200
    gateway = {"Authorization": "Bearer meshcert-idp-gateway-local-only-0001"}
    assert world.http.post("/introspect", data={"token": access_token},
                           headers=gateway).json()["active"] is True

    _error(world.redeem(*fresh_code), "invalid_grant")
    refused = userinfo(world, access_token)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert refused.headers["content-type"] == "application/problem+json"
    assert world.http.post("/introspect", data={"token": access_token},
                           headers=gateway).json() == {"active": False}


def test_a_code_expires_after_sixty_seconds(world: World, fresh_code):
    provider = world.provider
    issued = provider.codes[fresh_code[0]].issued
    provider.clock = lambda: issued + 60
    _error(world.redeem(*fresh_code), "invalid_grant")


def test_a_code_is_bound_to_its_client(world: World, fresh_code):
    other_key = generate_key()
    registered = world.http.post("/_meshcert/idp/clients", headers=admin(), json={
        "client_id": "other-service", "redirect_uris": [world.rp.redirect_uri],
        "public_jwk": public_jwk(other_key), "scopes": ["openid"], "purpose": "other"})
    assert registered.status_code == 201, registered.text
    stolen = make_client_assertion(other_key, "other-service", f"{world.issuer}/token")
    _error(world.redeem(*fresh_code, assertion=stolen), "invalid_grant")


def _parts(token: str) -> tuple[dict, dict]:
    """The header and claims of a compact JWT, unverified."""

    def part(text: str) -> dict:
        return dict(json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))))

    head, body, _ = token.split(".")
    return part(head), part(body)


# -- discovery, JWKS, rotation ---------------------------------------------------------------


def test_discovery_states_the_flow_the_provider_enforces(world: World):
    doc = world.http.get("/.well-known/openid-configuration").json()
    assert doc["issuer"] == world.issuer
    assert doc["jwks_uri"] == f"{world.issuer}/jwks"
    assert doc["response_types_supported"] == ["code"]
    assert doc["grant_types_supported"] == ["authorization_code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert {"name", "address", "birthdate", "gender"} <= set(doc["scopes_supported"])
    keys = world.http.get("/jwks").json()["keys"]
    assert keys and all(k["kid"] and "d" not in k for k in keys)


def _kid(token: str) -> str:
    return str(_parts(token)[0]["kid"])


def test_a_new_key_is_published_before_it_signs_and_the_old_one_stays(world: World):
    person = world.resident()["juminhyo_code"]
    old = _kid(tokens(world, person)["id_token"])
    published = world.http.post("/_meshcert/idp/keys/publish", headers=admin())
    assert published.status_code == 201
    new = published.json()["published_kid"]
    assert {k["kid"] for k in world.http.get("/jwks").json()["keys"]} == {old, new}
    assert _kid(tokens(world, person)["id_token"]) == old  # published, not yet signing

    assert world.http.post("/_meshcert/idp/keys/activate", headers=admin()).status_code == 200
    signed_new = tokens(world, person)
    assert _kid(signed_new["id_token"]) == new
    assert world.id_claims(signed_new["id_token"])["aud"] == RP  # verifies against the JWKS
    assert userinfo(world, signed_new["access_token"]).status_code == 200
    assert {k["kid"] for k in world.http.get("/jwks").json()["keys"]} == {old, new}
    assert world.http.post("/_meshcert/idp/keys/activate",
                           headers=admin()).status_code == 409  # nothing new to activate

    keys = world.provider.keys
    retired = next(e for e in keys.entries if e.key.kid == old).retired_at
    keys.clock = lambda: retired + keys.keep_s  # every token the old key signed has expired
    assert {k["kid"] for k in world.http.get("/jwks").json()["keys"]} == {new}


# -- misbehaviour ----------------------------------------------------------------------------


def _misbehave(world: World, fault: str, count: int = 1) -> None:
    answer = world.http.post("/_meshcert/idp/misbehave", headers=admin(),
                             json={"client_id": RP, "fault": fault, "count": count})
    assert answer.status_code == 202, answer.text


def _verifies(world: World, token: str) -> bool:
    try:
        world.id_claims(token)
    except Exception:  # joserfc raises several kinds; any of them means "does not verify"
        return False
    return True


@pytest.mark.parametrize("fault", ["wrong-iss", "wrong-aud", "expired", "iat-future",
                                   "unknown-kid", "bad-signature", "alg-none",
                                   "hmac-public-key", "wrong-nonce"])
def test_each_id_token_fault_alters_the_next_answer_only(world: World, fault: str):
    person = world.resident()["juminhyo_code"]
    _misbehave(world, fault)
    back = login(world, person)
    sent = world.rp.logins[back["state"]]
    answer = world.redeem(back["code"], sent)
    assert answer.status_code == 200, answer.text
    header, claims = _parts(answer.json()["id_token"])
    published = {k["kid"] for k in world.http.get("/jwks").json()["keys"]}
    altered = {
        "wrong-iss": lambda: claims["iss"] != world.issuer and _verifies(world, answer.json()[
            "id_token"]),
        "wrong-aud": lambda: claims["aud"] != RP,
        "expired": lambda: claims["exp"] < time.time(),
        "iat-future": lambda: claims["iat"] > time.time() + 3000,
        "unknown-kid": lambda: header["kid"] not in published,
        "bad-signature": lambda: header["kid"] in published and not _verifies(
            world, answer.json()["id_token"]),
        "alg-none": lambda: header["alg"] == "none",
        "hmac-public-key": lambda: header["alg"] == "HS256",
        "wrong-nonce": lambda: claims["nonce"] != sent.nonce,
    }[fault]
    assert altered(), (fault, header, claims)
    good = tokens(world, person)["id_token"]  # count=1: the next answer is sound again
    assert _verifies(world, good)
    assert world.id_claims(good)["iss"] == world.issuer


def test_hmac_public_key_is_keyed_with_the_signing_keys_public_pem(world: World):
    _misbehave(world, "hmac-public-key")
    token = tokens(world, world.resident()["juminhyo_code"])["id_token"]
    signing = world.provider.keys.signing
    pem = ECKey.import_key(public_jwk(signing)).as_pem(private=False)
    head, body, mac = token.split(".")
    expected = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(expected).rstrip(b"=").decode() == mac


def test_wrong_state_and_error_answer_alter_the_redirect(world: World):
    person = world.resident()["juminhyo_code"]
    _misbehave(world, "wrong-state")
    back = login(world, person)
    assert "code" in back and back["state"] not in world.rp.logins
    _misbehave(world, "error-answer")
    back = login(world, person)
    assert back["error"] == "server_error" and back["state"] in world.rp.logins
    assert "code" in login(world, person)  # sound again


def test_code_for_other_client_gives_an_id_token_authorized_for_another(world: World):
    _misbehave(world, "code-for-other-client")
    back = login(world, world.resident()["juminhyo_code"])
    answer = world.redeem(back["code"], world.rp.logins[back["state"]])
    assert answer.status_code == 200, answer.text
    claims = world.id_claims(answer.json()["id_token"])
    assert claims["azp"] != RP and claims["aud"] == [claims["azp"], RP]


def test_misbehaviour_counts_down(world: World):
    person = world.resident()["juminhyo_code"]
    _misbehave(world, "wrong-nonce", count=2)
    for _ in range(2):
        back = login(world, person)
        token = world.redeem(back["code"], world.rp.logins[back["state"]]).json()["id_token"]
        assert world.id_claims(token)["nonce"] != world.rp.logins[back["state"]].nonce
    back = login(world, person)
    token = world.redeem(back["code"], world.rp.logins[back["state"]]).json()["id_token"]
    assert world.id_claims(token)["nonce"] == world.rp.logins[back["state"]].nonce


# -- the control plane and malformed input ---------------------------------------------------


@pytest.mark.parametrize(("path", "body"), [
    ("/_meshcert/idp/misbehave", {"client_id": RP, "fault": "wrong-iss"}),
    ("/_meshcert/idp/keys/publish", None),
    ("/_meshcert/idp/clients", {}),
])
def test_the_control_plane_needs_the_admin_credential(world: World, path: str, body):
    answer = world.http.post(path, json=body)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("body", [
    {"client_id": RP, "fault": "no-such-fault"},
    {"client_id": RP, "fault": "wrong-iss", "count": 0},
    {"client_id": RP},
])
def test_an_unknown_fault_is_a_422_problem(world: World, body):
    answer = world.http.post("/_meshcert/idp/misbehave", headers=admin(), json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_client_registered_with_a_private_key_is_refused(world: World):
    answer = world.http.post("/_meshcert/idp/clients", headers=admin(), json={
        "client_id": "leaky", "redirect_uris": ["http://127.0.0.1:1/cb"],
        "public_jwk": dict(generate_key().as_dict(private=True)), "scopes": ["openid"],
        "purpose": "x"})
    assert answer.status_code == 422 and answer.json()["type"].endswith("private-jwk")


@pytest.mark.parametrize(("path", "content", "status"), [
    ("/authorize/decision", b"transaction=x&transaction=y&decision=consent", 400),
    ("/authorize/decision", b"decision=consent", 400),
    ("/authorize/decision", b"\xff\xfe=%%", 400),
    ("/token", b"\xff\xfe=%%", 400),
])
def test_malformed_forms_are_refused_cleanly(world: World, path, content, status):
    answer = world.http.post(path, content=content,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == status, answer.text
    kind = "application/json" if path == "/token" else "application/problem+json"
    assert answer.headers["content-type"] == kind


def test_the_exchanges_show_what_the_relying_party_sent(world: World):
    tokens(world, world.resident()["juminhyo_code"])
    seen = world.http.get("/admin/exchanges", headers=admin(),
                          params={"client_id": RP}).json()["exchanges"]
    paths = [e["path"] for e in seen]
    assert paths == ["/authorize", "/authorize/decision", "/token"]
    assert "code_challenge_method=S256" in seen[0]["query"]
    assert "code_verifier=" in seen[2]["request_body"]
    assert "client_assertion=" in seen[2]["request_body"]


def test_injected_faults_reach_the_token_endpoint(world: World, fresh_code):
    plan = {"match": {"path_prefix": "/token"}, "error": {"rate": 1, "status": 503,
                                                          "retry_after": 2}, "max_hits": 1}
    assert world.http.put("/admin/faults/global", headers=admin(), json=plan).status_code == 200
    failed = world.redeem(*fresh_code)
    assert failed.status_code == 503 and failed.headers["retry-after"] == "2"
    assert world.redeem(*fresh_code).status_code == 200  # the code was not consumed
