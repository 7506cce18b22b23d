"""The resident registry takes JWT access tokens: a good one for exactly its scopes, and a
broken one refused with a 401 that says why (RFC 6750 challenge)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshcert_simulators.authz import tokens
from meshcert_simulators.common.auth import Authenticator, JwtVerifier
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import Topology
from meshcert_simulators.registry import create_app
from meshcert_suites.resident_registry.builders import LG, move_in
from tests.conftest import bearer
from tests.tokens import MUNICIPAL_AUDIENCE, access_token, authz_key, bearer_jwt, client_key

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CHANGES = f"/municipalities/{LG}/changes"
SHINJUKU = "131041"
PROBLEM = "application/problem+json"


def refused(response: Any, reason: str) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:meshcert:problem:invalid-token"
    assert body["reason"] == reason, body
    assert body["detail"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert response.headers["www-authenticate"].startswith("Bearer ")
    return body


def test_a_good_token_is_accepted_for_its_scopes(registry_client, topology) -> None:
    token = access_token(topology, ["registry:read"], subject="demo-downstream")
    response = registry_client.get(CHANGES, headers=bearer_jwt(token))
    assert response.status_code == 200, response.text


def test_a_token_lacking_the_scope_is_403_insufficient_scope(registry_client, topology) -> None:
    token = access_token(topology, ["registry:read"], subject="demo-downstream")
    response = registry_client.post(f"/municipalities/{LG}/movements", json=move_in(),
                                    headers=bearer_jwt(token))
    assert response.status_code == 403
    body = response.json()
    assert body["type"] == "urn:meshcert:problem:insufficient-scope"
    assert body["required_scope"] == "registry:write"
    assert "registry:write" in body["detail"]
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="registry:write"' in challenge


def test_the_scope_claim_alone_decides_not_the_clients_registration(registry_client,
                                                                     topology) -> None:
    # demo-clerk is registered for registry:write, but this token was not granted it.
    token = access_token(topology, ["registry:read", "registry:read-mynumber"])
    response = registry_client.post(f"/municipalities/{LG}/movements", json=move_in(),
                                    headers=bearer_jwt(token))
    assert response.status_code == 403
    writer = access_token(topology, ["registry:write"])
    response = registry_client.post(f"/municipalities/{LG}/movements", json=move_in(),
                                    headers=bearer_jwt(writer))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("breakage", "reason"), [
    ({"aud": "urn:meshcert:some-other-service"}, "wrong-audience"),
    ({"now": time.time() - 3600}, "expired"),
    ({"now": time.time() + 3600}, "not-yet-valid"),
    ({"key": tokens.generate_key()}, "bad-signature"),
    ({"iss": "https://another-issuer.example"}, "unknown-issuer"),
    ({"header": {"typ": "JWT"}}, "wrong-type"),
    ({"jti": None}, "missing-claim"),
])
def test_a_broken_token_is_refused_saying_why(registry_client, topology,
                                              breakage: dict[str, Any], reason: str) -> None:
    token = access_token(topology, ["registry:read"], **breakage)
    refused(registry_client.get(CHANGES, headers=bearer_jwt(token)), reason)


def test_a_token_signed_by_another_key_under_the_issuers_kid_is_refused(registry_client,
                                                                        topology) -> None:
    token = access_token(topology, ["registry:read"], key=tokens.generate_key(),
                         header={"kid": authz_key().kid})
    body = refused(registry_client.get(CHANGES, headers=bearer_jwt(token)), "bad-signature")
    assert "does not verify" in body["detail"]


def test_a_token_from_another_issuer_with_its_own_key_is_refused(registry_client,
                                                                 topology) -> None:
    token = tokens.mint_access_token(tokens.generate_key(), issuer="https://rogue.example",
                                     audience=MUNICIPAL_AUDIENCE, subject="demo-clerk",
                                     scopes=["admin"])
    refused(registry_client.get(CHANGES, headers=bearer_jwt(token)), "unknown-issuer")


def test_alg_none_is_refused(registry_client, topology) -> None:
    claims = tokens.access_token_claims(issuer=topology.issuer_url(),
                                        audience=MUNICIPAL_AUDIENCE, subject="demo-clerk",
                                        scopes=["admin"])
    refused(registry_client.get(CHANGES, headers=bearer_jwt(tokens.unsigned_token(claims))),
            "unsupported-alg")


def test_hs256_keyed_with_the_issuers_public_key_is_refused(registry_client, topology) -> None:
    claims = tokens.access_token_claims(issuer=topology.issuer_url(),
                                        audience=MUNICIPAL_AUDIENCE, subject="demo-clerk",
                                        scopes=["admin"])
    forged = tokens.hmac_token(claims, authz_key().as_pem(private=False),
                               header={"kid": authz_key().kid})
    refused(registry_client.get(CHANGES, headers=bearer_jwt(forged)), "unsupported-alg")


def test_a_token_limited_to_a_municipality_is_refused_elsewhere(registry_client,
                                                                topology) -> None:
    token = access_token(topology, ["registry:read"], subject="demo-chiyoda-downstream",
                         municipalities=[LG])
    assert registry_client.get(CHANGES, headers=bearer_jwt(token)).status_code == 200
    response = registry_client.get(f"/municipalities/{SHINJUKU}/changes",
                                   headers=bearer_jwt(token))
    assert response.status_code == 403
    assert SHINJUKU in response.json()["detail"]


def test_the_audit_log_names_the_tokens_client_and_its_my_number_right(registry_client,
                                                                        topology) -> None:
    admitted = registry_client.post(f"/municipalities/{LG}/movements", json=move_in(),
                                    headers=bearer(topology, "demo-clerk")).json()
    atena = admitted["affected"][0]["atena_number"]
    path = f"/municipalities/{LG}/residents/{atena}"
    plain = access_token(topology, ["registry:read"], subject="demo-downstream")
    full = access_token(topology, ["registry:read", "registry:read-mynumber"],
                        subject="demo-tax-system")
    assert "my_number" not in registry_client.get(path, headers=bearer_jwt(plain)).json()
    assert "my_number" in registry_client.get(path, headers=bearer_jwt(full)).json()
    entries = registry_client.get(f"/municipalities/{LG}/audit-log",
                                  headers=bearer(topology, "demo-clerk")).json()["entries"]
    reads = [(e["operator"], e["mynumber_accessed"]) for e in entries
             if e["action"] == "resident.read"]
    assert reads == [("demo-downstream", False), ("demo-tax-system", True)]


def test_static_tokens_still_work_beside_jwts(registry_client, topology) -> None:
    assert registry_client.get(CHANGES, headers=bearer(topology, "demo-clerk")).status_code \
        == 200


# -- end to end with the authorization server, both in-process ------------------------------


@pytest.fixture
def authz(tmp_path: Path, topology: Topology) -> Iterator[TestClient]:
    settings = Settings(name="authz", topology=topology, data_dir=tmp_path / "authz",
                        access_log=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def issued(authz: TestClient, client_id: str, scope: str | None = None) -> dict[str, Any]:
    endpoint = f"{authz.get('/.well-known/oauth-authorization-server').json()['token_endpoint']}"
    form = {"grant_type": "client_credentials",
            "client_assertion_type": tokens.CLIENT_ASSERTION_TYPE,
            "client_assertion": tokens.make_client_assertion(client_key(client_id), client_id,
                                                             endpoint),
            "resource": MUNICIPAL_AUDIENCE}
    if scope:
        form["scope"] = scope
    response = authz.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_token_from_the_authz_simulator_works_for_exactly_its_scopes(
        registry_client, authz) -> None:
    token = issued(authz, "demo-downstream")["access_token"]
    assert registry_client.get(CHANGES, headers=bearer_jwt(token)).status_code == 200
    assert registry_client.get(f"/municipalities/{LG}/audit-log",
                               headers=bearer_jwt(token)).status_code == 403


def test_a_municipality_bound_client_gets_a_token_bound_to_it(registry_client, authz) -> None:
    token = issued(authz, "demo-chiyoda-downstream")["access_token"]
    assert registry_client.get(CHANGES, headers=bearer_jwt(token)).status_code == 200
    assert registry_client.get(f"/municipalities/{SHINJUKU}/changes",
                               headers=bearer_jwt(token)).status_code == 403


# -- configuration: JWT only, and replacing the verifier from outside ----------------------


def jwt_only(topology: Topology) -> Topology:
    spec = topology.simulators["municipal"].model_copy(update={"auth": ("jwt",)})
    return topology.model_copy(update={"simulators": {**topology.simulators,
                                                      "municipal": spec}})


def test_a_jwt_only_simulator_refuses_static_tokens(tmp_path: Path, topology) -> None:
    settings = Settings(name="municipal", topology=jwt_only(topology), data_dir=tmp_path,
                        access_log=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        refused(client.get(CHANGES, headers=bearer(topology, "demo-clerk")),
                "static-token-refused")
        token = access_token(topology, ["registry:read"])
        assert client.get(CHANGES, headers=bearer_jwt(token)).status_code == 200


def test_a_simulator_without_an_issuer_refuses_jwts(tmp_path: Path, topology) -> None:
    settings = Settings(name="municipal", data_dir=tmp_path, access_log=False,
                        topology=topology.model_copy(update={"issuer": None}))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        token = access_token(topology, ["registry:read"])
        refused(client.get(CHANGES, headers=bearer_jwt(token)), "unknown-issuer")


def test_verification_can_be_replaced_from_outside(registry_client, topology) -> None:
    """What a defect does: put a subclass in place of the verifier; no route changes."""

    class IgnoresAudience(JwtVerifier):
        def check_audience(self, claims: dict[str, Any]) -> None:
            return None

    app = registry_client.app
    authenticator: Authenticator = app.state.authenticator  # type: ignore[attr-defined]
    authenticator.verifier = IgnoresAudience.for_settings(app.state.settings)  # type: ignore
    token = access_token(topology, ["registry:read"], aud="urn:meshcert:elsewhere")
    assert registry_client.get(CHANGES, headers=bearer_jwt(token)).status_code == 200
