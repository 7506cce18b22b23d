"""The authorization server: client credentials with private_key_jwt, and the minting helpers."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import yaml
from joserfc import jws, jwt

from meshcert_simulators.authz import tokens
from meshcert_simulators.authz.keys import make_keys
from meshcert_simulators.common.auth import (
    JwksEndpoint,
    JwtVerifier,
    KeysUnavailable,
    TokenRejected,
)
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import Topology, TopologyError, load_topology
from meshcert_simulators.registry import create_app
from tests.tokens import MUNICIPAL_AUDIENCE, authz_key, client_key

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ISSUER = "http://127.0.0.1:18100"  # the embedded authz simulator
TOKEN_ENDPOINT = f"{ISSUER}/oauth/token"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def authz(tmp_path: Path, topology: Topology) -> Iterator[TestClient]:
    settings = Settings(name="authz", topology=topology, data_dir=tmp_path, access_log=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def token_request(client_id: str = "demo-clerk", *, key: Any = None, scope: str | None = None,
                  resource: str | None = MUNICIPAL_AUDIENCE, assertion: str | None = None,
                  **claims: Any) -> dict[str, str]:
    form = {"grant_type": "client_credentials",
            "client_assertion_type": tokens.CLIENT_ASSERTION_TYPE,
            "client_assertion": assertion or tokens.make_client_assertion(
                key or client_key(client_id), client_id, TOKEN_ENDPOINT, **claims)}
    if scope is not None:
        form["scope"] = scope
    if resource is not None:
        form["resource"] = resource
    return form


def assert_oauth_error(response: httpx.Response, error: str) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error, body
    return body["error_description"]


def claims_of(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    decoded = jwt.decode(token, tokens.load_key_set(
        Path(__file__).parents[2] / "fixtures" / "keys" / "authz.jwks.json"),
        algorithms=["ES256"])
    return decoded.header, decoded.claims


# -- the token endpoint --------------------------------------------------------------------


def test_a_valid_private_key_jwt_gets_an_rfc9068_access_token(authz: TestClient) -> None:
    response = authz.post("/oauth/token", data=token_request())
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == tokens.ACCESS_TOKEN_LIFETIME_S
    assert set(body["scope"].split()) == {"registry:read", "registry:read-mynumber",
                                          "registry:write", "moveout:process", "audit:read"}
    header, claims = claims_of(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]
    assert claims["iss"] == ISSUER
    assert claims["aud"] == MUNICIPAL_AUDIENCE
    assert claims["sub"] == claims["client_id"] == "demo-clerk"
    assert claims["scope"] == body["scope"]
    assert claims["nbf"] == claims["iat"] <= time.time() < claims["exp"]
    assert claims["jti"] and "municipalities" not in claims


def test_a_requested_subset_of_scopes_is_what_is_granted(authz: TestClient) -> None:
    body = authz.post("/oauth/token", data=token_request(scope="registry:read")).json()
    assert body["scope"] == "registry:read"
    assert claims_of(body["access_token"])[1]["scope"] == "registry:read"


def test_audience_is_taken_as_the_resource(authz: TestClient) -> None:
    form = token_request(resource=None) | {"audience": MUNICIPAL_AUDIENCE}
    assert authz.post("/oauth/token", data=form).status_code == 200


def test_a_client_registered_for_some_municipalities_gets_them_in_its_token(
        authz: TestClient) -> None:
    body = authz.post("/oauth/token", data=token_request("demo-chiyoda-downstream")).json()
    assert claims_of(body["access_token"])[1]["municipalities"] == ["131016"]


def test_an_assertion_signed_with_another_key_is_invalid_client(authz: TestClient) -> None:
    form = token_request(key=tokens.generate_key())
    assert "not signed by the key" in assert_oauth_error(
        authz.post("/oauth/token", data=form), "invalid_client")


def test_an_assertion_signed_with_another_clients_key_is_invalid_client(
        authz: TestClient) -> None:
    form = token_request("demo-clerk", key=client_key("demo-downstream"))
    assert_oauth_error(authz.post("/oauth/token", data=form), "invalid_client")


def test_an_expired_assertion_is_invalid_client(authz: TestClient) -> None:
    form = token_request(now=time.time() - 600)
    assert "expired" in assert_oauth_error(authz.post("/oauth/token", data=form),
                                           "invalid_client")


def test_an_assertion_living_longer_than_five_minutes_is_invalid_client(
        authz: TestClient) -> None:
    form = token_request(lifetime=3600)
    assert "too long" in assert_oauth_error(authz.post("/oauth/token", data=form),
                                            "invalid_client")


def test_a_replayed_assertion_is_refused(authz: TestClient) -> None:
    form = token_request()
    assert authz.post("/oauth/token", data=form).status_code == 200
    assert "replayed" in assert_oauth_error(authz.post("/oauth/token", data=form),
                                            "invalid_client")


def test_an_unknown_client_is_invalid_client(authz: TestClient) -> None:
    form = token_request("someone-else", key=tokens.generate_key())
    assert "unknown client" in assert_oauth_error(authz.post("/oauth/token", data=form),
                                                  "invalid_client")


@pytest.mark.parametrize("claims", [{"aud": "https://elsewhere.example/token"},
                                    {"sub": "demo-downstream"}, {"jti": None},
                                    {"exp": None}])
def test_an_assertion_with_wrong_claims_is_invalid_client(authz: TestClient,
                                                          claims: dict[str, Any]) -> None:
    assert_oauth_error(authz.post("/oauth/token", data=token_request(**claims)),
                       "invalid_client")


def test_an_unsigned_assertion_is_invalid_client(authz: TestClient) -> None:
    now = int(time.time())
    unsigned = tokens.unsigned_token({"iss": "demo-clerk", "sub": "demo-clerk",
                                      "aud": TOKEN_ENDPOINT, "exp": now + 60, "jti": "x1"})
    assert_oauth_error(authz.post("/oauth/token", data=token_request(assertion=unsigned)),
                       "invalid_client")


def test_a_scope_not_registered_for_the_client_is_invalid_scope(authz: TestClient) -> None:
    form = token_request("demo-downstream", scope="registry:read registry:write")
    assert "registry:write" in assert_oauth_error(authz.post("/oauth/token", data=form),
                                                  "invalid_scope")


def test_an_unknown_resource_is_invalid_target(authz: TestClient) -> None:
    form = token_request(resource="urn:meshcert:nowhere")
    assert_oauth_error(authz.post("/oauth/token", data=form), "invalid_target")


def test_a_missing_resource_is_invalid_request(authz: TestClient) -> None:
    assert_oauth_error(authz.post("/oauth/token", data=token_request(resource=None)),
                       "invalid_request")


def test_another_grant_type_is_unsupported(authz: TestClient) -> None:
    form = token_request() | {"grant_type": "password"}
    assert_oauth_error(authz.post("/oauth/token", data=form), "unsupported_grant_type")


def test_client_secret_style_authentication_is_invalid_client(authz: TestClient) -> None:
    form = {"grant_type": "client_credentials", "client_id": "demo-clerk",
            "client_secret": "guess", "resource": MUNICIPAL_AUDIENCE}
    assert_oauth_error(authz.post("/oauth/token", data=form), "invalid_client")


def test_a_parameter_given_twice_is_invalid_request(authz: TestClient) -> None:
    body = httpx.QueryParams(token_request()).add("scope", "a").add("scope", "b")
    response = authz.post("/oauth/token", content=str(body), headers={"content-type": FORM})
    assert "more than once" in assert_oauth_error(response, "invalid_request")


def test_a_json_body_at_the_token_endpoint_is_415(authz: TestClient) -> None:
    response = authz.post("/oauth/token", json=token_request())
    assert response.status_code == 415
    assert response.json()["accepted"] == [FORM]


def test_metadata_and_jwks_are_published(authz: TestClient) -> None:
    meta = authz.get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == ISSUER and meta["token_endpoint"] == TOKEN_ENDPOINT
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert "registry:write" in meta["scopes_supported"]
    keys = authz.get(meta["jwks_uri"].removeprefix(ISSUER)).json()["keys"]
    assert [k["kid"] for k in keys] == [authz_key().kid]
    assert "d" not in keys[0]


# -- the minting helpers -------------------------------------------------------------------


def verifier(clock: float | None = None) -> JwtVerifier:
    class Keys:
        def key_set(self):  # type: ignore[no-untyped-def]
            return tokens.load_key_set(
                Path(__file__).parents[2] / "fixtures" / "keys" / "authz.jwks.json")

    return JwtVerifier(ISSUER, MUNICIPAL_AUDIENCE, Keys(),
                       clock=(lambda: clock) if clock else time.time)


def mint(**overrides: Any) -> str:
    return tokens.mint_access_token(authz_key(), issuer=ISSUER, audience=MUNICIPAL_AUDIENCE,
                                    subject="demo-clerk", scopes=["registry:read"], **overrides)


def test_a_minted_token_verifies_to_its_client_and_scopes() -> None:
    caller = verifier().verify(mint(municipalities=["131016"]))
    assert caller.client_id == "demo-clerk" and caller.via == "jwt"
    assert caller.roles == {"registry:read"} and caller.municipalities == {"131016"}


def test_an_override_of_none_removes_the_claim() -> None:
    payload = json.loads(jws.extract_compact(mint(exp=None).encode()).payload or b"")
    assert "exp" not in payload
    with pytest.raises(TokenRejected) as rejected:
        verifier().verify(mint(exp=None))
    assert rejected.value.reason == "missing-claim"


@pytest.mark.parametrize(("token", "reason"), [
    (lambda: mint(now=time.time() - 3600), "expired"),
    (lambda: mint(aud="urn:meshcert:other"), "wrong-audience"),
    (lambda: mint(iss="https://other-issuer.example"), "unknown-issuer"),
    (lambda: mint(header={"typ": "JWT"}), "wrong-type"),
    (lambda: tokens.unsigned_token({"iss": ISSUER}), "unsupported-alg"),
    (lambda: tokens.hmac_token({"iss": ISSUER}, authz_key().as_pem(private=False)),
     "unsupported-alg"),
    (lambda: tokens.mint_access_token(tokens.generate_key(), issuer=ISSUER,
                                      audience=MUNICIPAL_AUDIENCE, subject="x", scopes=[],
                                      header={"kid": authz_key().kid}), "bad-signature"),
    (lambda: mint(now=time.time() + 3600), "not-yet-valid"),
    (lambda: "not.a-jwt.", "malformed"),
])
def test_the_verifier_names_why_it_refuses(token: Any, reason: str) -> None:
    with pytest.raises(TokenRejected) as rejected:
        verifier().verify(token())
    assert rejected.value.reason == reason, rejected.value.detail


def test_clock_leeway_is_60_seconds() -> None:
    token = mint(lifetime=10)
    assert verifier(clock=time.time() + 65).verify(token)
    with pytest.raises(TokenRejected, match="expired"):
        verifier(clock=time.time() + 75).verify(token)


@respx.mock
def test_jwks_are_fetched_once_and_kept() -> None:
    route = respx.get(f"{ISSUER}/.well-known/jwks.json").mock(
        return_value=httpx.Response(200, json=tokens.public_jwks([authz_key()])))
    keys = JwksEndpoint(f"{ISSUER}/.well-known/jwks.json")
    check = JwtVerifier(ISSUER, MUNICIPAL_AUDIENCE, keys)
    for _ in range(3):
        check.verify(mint())
    assert route.call_count == 1


@respx.mock
def test_unreachable_jwks_are_not_kept() -> None:
    route = respx.get(f"{ISSUER}/.well-known/jwks.json").mock(
        side_effect=[httpx.ConnectError("down"),
                     httpx.Response(200, json=tokens.public_jwks([authz_key()]))])
    keys = JwksEndpoint(f"{ISSUER}/.well-known/jwks.json")
    with pytest.raises(KeysUnavailable):
        keys.key_set()
    assert keys.key_set() and route.call_count == 2


def test_the_key_script_makes_loadable_keys(tmp_path: Path) -> None:
    written = make_keys(tmp_path, ("a-client",))
    assert {p.name for p in written} == {"authz.private.jwk.json", "authz.jwks.json",
                                         "a-client.private.jwk.json", "a-client.public.jwk.json"}
    assert tokens.load_signing_key(tmp_path / "a-client.private.jwk.json").is_private
    assert not tokens.load_public_key(tmp_path / "a-client.public.jwk.json").is_private
    assert make_keys(tmp_path, ("a-client",)) == []  # kept unless --force
    with pytest.raises(tokens.KeyFileError, match="private key"):
        tokens.load_public_key(tmp_path / "a-client.private.jwk.json")


# -- topology fields -----------------------------------------------------------------------


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


OLD = {"name": "old", "admin_token": "x" * 16,
       "simulators": {"municipal": {"kind": "municipal", "port": 18101}},
       "clients": [{"id": "c", "token": "t" * 16, "roles": ["registry:read"]}]}


def test_an_old_topology_without_the_new_fields_still_loads(tmp_path: Path) -> None:
    topology = load_topology(write(tmp_path, OLD))
    assert topology.issuer_url() is None
    assert topology.url("municipal") == "http://127.0.0.1:18101"
    assert topology.audience("municipal") == "urn:meshcert:municipal"
    assert topology.clients[0].registered_scopes == ("registry:read",)


def test_key_paths_are_relative_to_the_topology_file(tmp_path: Path) -> None:
    data = {**OLD, "issuer": {"url": "https://idp.example", "jwks": "keys/idp.json"}}
    topology = load_topology(write(tmp_path, data))
    assert topology.issuer is not None
    assert topology.issuer.jwks == str(tmp_path / "keys" / "idp.json")
    assert topology.issuer_url() == "https://idp.example"


@pytest.mark.parametrize(("change", "says"), [
    ({"clients": [{"id": "c", "roles": []}]}, "needs a token, a public_jwk, or both"),
    ({"issuer": {"simulator": "municipal"}}, "is not an authz simulator"),
    ({"issuer": {"url": "https://idp.example"}}, "needs 'jwks'"),
    ({"simulators": {"a": {"kind": "authz", "port": 1}}}, "needs 'signing_key'"),
])
def test_inconsistent_auth_settings_are_refused(tmp_path: Path, change: dict[str, Any],
                                                says: str) -> None:
    with pytest.raises(TopologyError, match=says):
        load_topology(write(tmp_path, {**OLD, **change}))
