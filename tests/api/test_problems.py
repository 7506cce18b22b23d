"""Every error is RFC 9457 problem+json with a stable type; malformed input never gives a 500."""

from __future__ import annotations

import json

import pytest

from meshcert_suites.resident_registry.builders import LG, move_in
from tests.conftest import bearer

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"] == f"urn:meshcert:problem:{slug}"
    assert body["title"]
    return body


def test_unknown_path_is_a_404_problem(registry_client):
    assert_problem(registry_client.get("/no/such/path"), 404, "not-found")


def test_wrong_method_is_a_405_problem(registry_client):
    assert_problem(registry_client.delete("/health"), 405, "method-not-allowed")


def test_missing_token_is_401_with_challenge(registry_client):
    response = registry_client.get(f"/municipalities/{LG}/changes")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_unknown_token_is_401(registry_client):
    response = registry_client.get(f"/municipalities/{LG}/changes",
                                   headers={"Authorization": "Bearer not-a-registered-token"})
    assert_problem(response, 401, "invalid-token")


def test_missing_role_is_403_naming_the_role(registry_client, topology):
    response = registry_client.post(f"/municipalities/{LG}/movements", json=move_in(),
                                    headers=bearer(topology, "demo-downstream"))
    assert assert_problem(response, 403, "forbidden")["required_role"] == "registry:write"


def test_unhosted_municipality_is_404(registry_client, topology):
    response = registry_client.get("/municipalities/011002/changes",
                                   headers=bearer(topology, "demo-clerk"))
    assert_problem(response, 404, "unknown-municipality")


def test_non_json_body_is_415(registry_client, topology):
    response = registry_client.post(
        f"/municipalities/{LG}/movements", content=b"kind=move-in",
        headers={**bearer(topology, "demo-clerk"), "content-type": "text/plain"})
    assert_problem(response, 415, "unsupported-media-type")


def test_malformed_json_is_400(registry_client, topology):
    response = registry_client.post(
        f"/municipalities/{LG}/movements", content=b'{"movement": ',
        headers={**bearer(topology, "demo-clerk"), "content-type": "application/json"})
    assert_problem(response, 400, "malformed-json")


def test_oversized_body_is_413_before_parsing(registry_client, topology):
    big = b'{"x": "' + b"a" * (1024 * 1024 + 1) + b'"}'
    response = registry_client.post(
        f"/municipalities/{LG}/movements", content=big,
        headers={**bearer(topology, "demo-clerk"), "content-type": "application/json"})
    assert_problem(response, 413, "payload-too-large")


@pytest.mark.parametrize("bad", [
    {"movement": {"kind": "teleport"}},
    {"movement": {**move_in()["movement"], "event_date": 20261120}},
    {"movement": {**move_in()["movement"], "event_date": "2026-13-01"}},
    {"movement": {**move_in()["movement"], "surprise": True}},
])
def test_invalid_fields_are_422_with_locations(registry_client, topology, bad):
    response = registry_client.post(f"/municipalities/{LG}/movements", json=bad,
                                    headers=bearer(topology, "demo-clerk"))
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"] and all(e["location"][0] == "body" for e in body["errors"])


def test_path_pattern_violation_is_422(registry_client, topology):
    response = registry_client.get(f"/municipalities/{LG}/residents/12ab",
                                   headers=bearer(topology, "demo-clerk"))
    assert_problem(response, 422, "validation-error")


def test_lone_surrogate_in_a_name_is_refused_not_stored(registry_client, topology):
    raw = move_in()
    raw["movement"]["persons"][0]["name"]["surname"] = "X"
    text = json.dumps(raw).replace('"X"', '"\\ud842"')  # half of 𠮷's surrogate pair
    response = registry_client.post(
        f"/municipalities/{LG}/movements", content=text.encode(),
        headers={**bearer(topology, "demo-clerk"), "content-type": "application/json"})
    # The JSON decoder itself refuses an unpaired surrogate: nothing reaches storage.
    assert_problem(response, 400, "malformed-json")
    feed = registry_client.get(f"/municipalities/{LG}/changes",
                               headers=bearer(topology, "demo-clerk")).json()
    assert feed["entries"] == []


def test_request_id_is_echoed_or_made(registry_client):
    given = registry_client.get("/health", headers={"X-Request-ID": "trace-123"})
    assert given.headers["x-request-id"] == "trace-123"
    made = registry_client.get("/health")
    assert len(made.headers["x-request-id"]) == 32


def test_problem_carries_the_request_id(registry_client):
    response = registry_client.get("/nowhere", headers={"X-Request-ID": "abc.1"})
    assert response.json()["request_id"] == "abc.1"


def test_an_unexpected_error_is_a_500_problem_logged_once(settings, caplog):
    from meshcert_simulators.common.app import build_app
    from tests.conftest import TestClient

    app = build_app(settings, title="t", description="t")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    with TestClient(app, raise_server_exceptions=True) as client:
        response = client.get("/boom", headers={"X-Request-ID": "r-500"})
    body = assert_problem(response, 500, "internal-error")
    assert body["request_id"] == "r-500" and "kaboom" not in response.text
    assert [r.getMessage() for r in caplog.records].count("unhandled error") == 1
