"""Fault injection (meshcert_simulators.common.faults), in-process on the resident-registry
simulator.

Timing assertions are lower bounds only: an injected delay is at least what was asked for.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from meshcert_suites.resident_registry.builders import LG, move_in
from tests.conftest import bearer

CHANGES = f"/municipalities/{LG}/changes"
PROBLEM = "application/problem+json"


@pytest.fixture
def admin(topology):
    return bearer(topology, "admin")


@pytest.fixture
def clerk(topology):
    return bearer(topology, "demo-clerk")


def put(client, admin, scope: str, plan: dict):
    response = client.put(f"/admin/faults/{scope}", json=plan, headers=admin)
    assert response.status_code == 200, response.text
    return response


def run(scope: str) -> dict[str, str]:
    return {"X-Meshcert-Run": scope}


def statuses(client, headers, n: int) -> list[int]:
    return [client.get(CHANGES, headers=headers).status_code for _ in range(n)]


def test_no_plan_leaves_requests_alone_and_listing_is_empty(registry_client, admin, clerk):
    assert registry_client.get(CHANGES, headers={**clerk, **run("r1")}).status_code == 200
    listed = registry_client.get("/admin/faults", headers=admin)
    assert listed.status_code == 200
    assert listed.json() == {"faults": {}}


def test_error_fault_hits_only_its_run_with_retry_after(registry_client, admin, clerk):
    put(registry_client, admin, "run-a", {"error": {"rate": 1.0, "status": 503,
                                                    "retry_after": 7}})
    hit = registry_client.get(CHANGES, headers={**clerk, **run("run-a")})
    assert hit.status_code == 503
    assert hit.headers["retry-after"] == "7"
    assert hit.headers["content-type"] == PROBLEM
    assert hit.json()["type"] == "urn:meshcert:problem:unavailable"
    assert hit.headers["x-request-id"]
    # Another run, and a request of no run, are untouched.
    assert registry_client.get(CHANGES, headers={**clerk, **run("run-b")}).status_code == 200
    assert registry_client.get(CHANGES, headers=clerk).status_code == 200


def test_rate_one_always_fails_and_rate_zero_never(registry_client, admin, clerk):
    put(registry_client, admin, "always", {"error": {"rate": 1, "status": 429}})
    put(registry_client, admin, "never", {"error": {"rate": 0.0, "status": 500},
                                          "drop": {"rate": 0}})
    assert set(statuses(registry_client, {**clerk, **run("always")}, 20)) == {429}
    assert set(statuses(registry_client, {**clerk, **run("never")}, 20)) == {200}


def test_seeded_rates_are_reproducible(registry_client, admin, clerk):
    plan = {"error": {"rate": 0.5, "status": 502}, "seed": 4242}
    put(registry_client, admin, "seeded", plan)
    first = statuses(registry_client, {**clerk, **run("seeded")}, 30)
    assert set(first) == {200, 502}
    put(registry_client, admin, "seeded", plan)  # a new plan restarts its random sequence
    assert statuses(registry_client, {**clerk, **run("seeded")}, 30) == first


def test_global_scope_hits_every_request_but_health_and_admin(registry_client, admin, clerk):
    put(registry_client, admin, "global", {"error": {"rate": 1.0, "status": 500}})
    assert registry_client.get(CHANGES, headers=clerk).status_code == 500
    assert registry_client.get(CHANGES, headers={**clerk, **run("any")}).status_code == 500
    assert registry_client.get("/health").status_code == 200
    assert registry_client.get("/admin/faults", headers=admin).status_code == 200
    # A run's own plan takes the place of the global one.
    put(registry_client, admin, "own", {"latency": 0})
    assert registry_client.get(CHANGES, headers={**clerk, **run("own")}).status_code == 200
    assert registry_client.delete("/admin/faults/global", headers=admin).status_code == 204
    assert registry_client.get(CHANGES, headers=clerk).status_code == 200


def test_fixed_latency_adds_at_least_the_delay(registry_client, admin, clerk):
    put(registry_client, admin, "slow", {"latency": 150})
    started = time.perf_counter()
    assert registry_client.get(CHANGES, headers={**clerk, **run("slow")}).status_code == 200
    assert time.perf_counter() - started >= 0.15


@pytest.mark.parametrize("latency", [
    {"distribution": "fixed", "ms": 60},
    {"distribution": "uniform", "min_ms": 60, "max_ms": 80},
    {"distribution": "normal", "mean_ms": 1000, "stddev_ms": 1, "cap_ms": 60},
])
def test_latency_distributions_delay_by_at_least_their_floor(registry_client, admin, clerk,
                                                            latency):
    put(registry_client, admin, "dist", {"latency": latency, "seed": 1})
    started = time.perf_counter()
    assert registry_client.get(CHANGES, headers={**clerk, **run("dist")}).status_code == 200
    assert time.perf_counter() - started >= 0.06


def test_slow_body_delivers_the_whole_body(registry_client, admin, clerk):
    registry_client.post(f"/municipalities/{LG}/movements", json=move_in(), headers=clerk)
    plain = registry_client.get(CHANGES, headers=clerk)
    put(registry_client, admin, "trickle", {"slow_body": {"chunk_bytes": 64, "delay_ms": 5}})
    started = time.perf_counter()
    slow = registry_client.get(CHANGES, headers={**clerk, **run("trickle")})
    elapsed = time.perf_counter() - started
    assert slow.status_code == 200
    assert slow.content == plain.content
    assert len(plain.content) > 64 * 4
    assert elapsed >= (len(plain.content) // 64 - 1) * 0.005


def test_match_narrows_by_method_path_and_client(registry_client, admin, clerk, topology):
    put(registry_client, admin, "m", {"match": {"method": "get", "path_prefix": "/municipalities",
                                                "path_regex": "/changes$",
                                                "client_id": "demo-clerk"},
                                      "error": {"rate": 1.0, "status": 504}})
    assert registry_client.get(CHANGES, headers={**clerk, **run("m")}).status_code == 504
    assert registry_client.get(f"{CHANGES}/x", headers={**clerk, **run("m")}).status_code == 404
    other = bearer(topology, "demo-downstream")
    assert registry_client.get(CHANGES, headers={**other, **run("m")}).status_code != 504


def test_global_family_plans_each_hit_only_the_bodies_they_name(registry_client, admin, clerk):
    movements = f"/municipalities/{LG}/movements"
    names = [f"ev-{uuid.uuid4().hex}" for _ in range(3)]
    first, second, third = (move_in(event_id=name) for name in names)
    put(registry_client, admin, "global.first", {"match": {"body_contains": names[0]},
                                                 "error": {"rate": 1.0, "status": 503}})
    put(registry_client, admin, "global.second", {"match": {"body_contains": names[1]},
                                                  "error": {"rate": 1.0, "status": 429}})
    assert registry_client.post(movements, json=first, headers=clerk).status_code == 503
    assert registry_client.post(movements, json=second, headers=clerk).status_code == 429
    # A body neither plan names reaches the registry whole (the plans read it and replay it).
    passed = registry_client.post(movements, json=third, headers=clerk)
    assert passed.status_code in (200, 201), passed.text
    assert registry_client.get(CHANGES, headers=clerk).status_code == 200


def test_a_run_plan_that_does_not_match_leaves_the_family_to_decide(registry_client, admin,
                                                                    clerk):
    name = f"ev-{uuid.uuid4().hex}"
    movement = move_in(event_id=name)
    put(registry_client, admin, "global", {"match": {"path_prefix": "/nowhere"},
                                           "error": {"rate": 1.0, "status": 500}})
    put(registry_client, admin, "global.one", {"match": {"body_contains": name},
                                               "error": {"rate": 1.0, "status": 502}})
    posted = registry_client.post(f"/municipalities/{LG}/movements", json=movement,
                                  headers=clerk)
    assert posted.status_code == 502


def test_clock_skew_shifts_the_simulator_clock_for_its_run(registry_client, admin, clerk):
    put(registry_client, admin, "skewed", {"clock_skew_s": 10 * 86400})
    skewed = registry_client.post(f"/municipalities/{LG}/movements", json=move_in(),
                                  headers={**clerk, **run("skewed")})
    assert skewed.status_code == 201, skewed.text
    recorded = datetime.fromisoformat(skewed.json()["recorded_at"])
    assert recorded - datetime.now(UTC) > timedelta(days=9)
    plain = registry_client.post(f"/municipalities/{LG}/movements", json=move_in(),
                                 headers={**clerk, **run("other")})
    assert datetime.fromisoformat(plain.json()["recorded_at"]) - datetime.now(UTC) \
        < timedelta(days=1)


def test_plans_are_listed_and_delete_clears(registry_client, admin, clerk):
    put(registry_client, admin, "a", {"error": {"rate": 1.0, "status": 503}, "seed": 3})
    put(registry_client, admin, "b", {"latency": {"distribution": "uniform", "min_ms": 1,
                                                  "max_ms": 2}})
    listed = registry_client.get("/admin/faults", headers=admin).json()["faults"]
    assert set(listed) == {"a", "b"}
    assert listed["a"] == {"error": {"rate": 1.0, "status": 503}, "seed": 3, "hits": 0}
    assert registry_client.delete("/admin/faults/a", headers=admin).status_code == 204
    assert registry_client.delete("/admin/faults/a", headers=admin).status_code == 204
    assert set(registry_client.get("/admin/faults", headers=admin).json()["faults"]) == {"b"}
    assert registry_client.get(CHANGES, headers={**clerk, **run("a")}).status_code == 200


def test_max_hits_fails_only_the_first_requests_and_counts_them(registry_client, admin,
                                                                  clerk):
    put(registry_client, admin, "first-two", {"error": {"rate": 1.0, "status": 503},
                                              "max_hits": 2})
    assert statuses(registry_client, {**clerk, **run("first-two")}, 4) == [503, 503, 200, 200]
    listed = registry_client.get("/admin/faults", headers=admin).json()["faults"]
    assert listed["first-two"]["hits"] == 2
    refused = registry_client.put("/admin/faults/x", headers=admin,
                                  json={"error": {"rate": 1.0, "status": 503}, "hits": 5})
    assert refused.status_code == 422


def test_fault_endpoints_are_admin_only(registry_client, clerk):
    plan = {"error": {"rate": 1.0, "status": 503}}
    assert registry_client.put("/admin/faults/x", json=plan).status_code == 401
    assert registry_client.put("/admin/faults/x", json=plan, headers=clerk).status_code == 403
    assert registry_client.get("/admin/faults", headers=clerk).status_code == 403
    assert registry_client.delete("/admin/faults/x", headers=clerk).status_code == 403


@pytest.mark.parametrize("plan", [
    {"error": {"rate": 1.5, "status": 503}},
    {"error": {"rate": 0.5, "status": 200}},
    {"error": {"rate": "0.5", "status": 503}},
    {"drop": {"rate": True}},
    {"latency": "100"},
    {"latency": {"distribution": "poisson", "ms": 1}},
    {"latency": {"distribution": "normal", "mean_ms": 10, "stddev_ms": 1}},
    {"match": {"path_regex": "("}},
    {"match": {"path_prefix": "municipalities"}},
    {"slow_body": {"chunk_bytes": 0}},
    {"surprise": 1},
])
def test_bad_plans_are_422_problems(registry_client, admin, plan):
    response = registry_client.put("/admin/faults/x", json=plan, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert registry_client.get("/admin/faults", headers=admin).json() == {"faults": {}}


def test_bad_scope_is_422(registry_client, admin):
    response = registry_client.put("/admin/faults/no%20spaces", json={}, headers=admin)
    assert response.status_code == 422
