"""The reference 国民健康保険 register (meshcert_simulators/nhi/) in-process: it serves exactly
its committed contract, answers bad input with problem+json (never a 500), applies feed pages
from a real in-process registry exactly once with the cursor, keeps them across a restart, shows
the My Number only to its role, lists only resident members, and backs off as Retry-After
says."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import Topology, topology_from_raw
from meshcert_simulators.fixtures import fixture_path
from meshcert_simulators.registry import create_app
from meshcert_simulators.specs import contract_path, dump, served_spec

TOPOLOGY = fixture_path("topologies", "downstream-system.yaml")
LG = "131016"
READER = "nhi-reader-local-only-0001"
CLERK = "nhi-clerk-local-only-00001"
HARNESS = "meshcert-harness-downstream-local-only-0001"
PROBLEM = "application/problem+json"


def topology() -> Topology:
    """The profile's topology, the register taking static tokens of two readers too."""
    raw = yaml.safe_load(TOPOLOGY.read_text(encoding="utf-8"))
    raw["simulators"]["nhi"]["auth"] = ["token"]
    raw["clients"] += [
        {"id": "reader", "token": READER, "roles": ["downstream:read"]},
        {"id": "clerk", "token": CLERK,
         "roles": ["downstream:read", "downstream:read-mynumber", "downstream:sync"]}]
    return topology_from_raw(raw, TOPOLOGY.parent)


def nhi(data: Path) -> Any:
    return create_app(Settings(name="nhi", topology=topology(), data_dir=data, access_log=False))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Unreachable(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)


def test_served_document_equals_the_committed_contract():
    committed = contract_path("nhi").read_text(encoding="utf-8")
    assert dump(served_spec("nhi")) == committed, (
        "the served OpenAPI document drifted from fixtures/specs/nhi.openapi.json; if the "
        "change is deliberate, run `python -m meshcert_simulators.specs nhi` and review the diff")


@pytest.mark.parametrize(("method", "path", "token", "status"), [
    ("GET", "/v1/residents/12", READER, 422),
    ("GET", "/v1/residents/0000000019?after=1", READER, 400),
    ("GET", "/v1/residents/0000000019", None, 401),
    ("GET", "/v1/residents/0000000019", "not-a-token-of-anyone-0001", 401),
    ("GET", "/v1/residents/0000000019", READER, 404),
    ("GET", "/v1/households/abc", READER, 422),
    ("POST", "/v1/sync", READER, 403),
    ("POST", "/v1/sync", CLERK, 502),
    ("DELETE", "/v1/sync-state", READER, 405),
    ("GET", "/v1/nowhere", READER, 404),
])
def test_bad_input_is_answered_with_problem_details(tmp_path: Path, method: str, path: str,
                                                    token: str | None, status: int):
    app = nhi(tmp_path)
    app.state.http_transport = Unreachable()  # the registry cannot be reached
    client = TestClient(app, raise_server_exceptions=False)  # no lifespan: no background polls
    answer = client.request(method, path, headers=auth(token) if token else {})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.json()["status"] == status
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_an_oversized_or_non_json_body_is_a_problem(tmp_path: Path):
    client = TestClient(nhi(tmp_path), raise_server_exceptions=False)
    answer = client.post("/v1/sync", content=b"x=1", headers={
        **auth(CLERK), "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 415 and answer.headers["content-type"].startswith(PROBLEM)


def feed(registry: TestClient, after: int, limit: int) -> dict[str, Any]:
    answer = registry.get(f"/municipalities/{LG}/changes", params={"after": after,
                                                                  "limit": limit},
                          headers=auth(HARNESS))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_pages_are_applied_once_kept_across_a_restart_and_shown_by_role(tmp_path: Path):
    registry = TestClient(create_app(Settings(name="municipal", topology=topology(),
                                              data_dir=tmp_path / "registry",
                                              access_log=False)))
    seeded = registry.post("/admin/seed", headers=auth(HARNESS),
                           json={"lg_code": LG, "generate": {"persons": 12, "seed": 5}})
    assert seeded.status_code == 200, seeded.text
    app = nhi(tmp_path / "nhi")
    store = app.state.store
    pages = [feed(registry, 0, 5), feed(registry, 5, 5)]
    for page in pages:
        store.apply(LG, page["entries"], page["next_after"])
    assert store.apply(LG, pages[1]["entries"], pages[1]["next_after"]) == 0  # read again
    assert store.cursor(LG) == 10
    first = pages[0]["entries"][0]["record"]
    person, household = first["atena_number"], first["setai_number"]
    died = registry.post(f"/municipalities/{LG}/movements", headers=auth(HARNESS), json={
        "movement": {"kind": "death", "atena_number": person, "event_date": "2026-04-01",
                     "notified_date": "2026-04-02"}})
    assert died.status_code == 201, died.text
    rest = feed(registry, 10, 100)
    store.apply(LG, rest["entries"], rest["next_after"])

    again = TestClient(nhi(tmp_path / "nhi"))  # a restart: only what was stored is left
    state = again.get("/v1/sync-state", headers=auth(READER)).json()
    assert state["cursor"] == rest["next_after"]
    plain = again.get(f"/v1/residents/{person}", headers=auth(READER)).json()
    assert plain["status"] == "deceased" and plain["current"] is False
    assert "my_number" not in plain
    assert plain["name"] == {k: first["name"][k] for k in ("surname", "given_name",
                                                          "surname_kana", "given_name_kana")}
    seqs = [e["seq"] for page in [*pages, rest] for e in page["entries"]
            if e["atena_number"] == person]
    assert plain["applied_seqs"] == seqs and len(seqs) == 2
    full = again.get(f"/v1/residents/{person}", headers=auth(CLERK)).json()
    held = registry.get(f"/municipalities/{LG}/residents/{person}", headers=auth(HARNESS))
    assert full["my_number"] == held.json()["my_number"]
    members = again.get(f"/v1/households/{household}", headers=auth(READER)).json()["members"]
    assert person not in members


def test_a_refusal_is_not_retried_before_its_retry_after(tmp_path: Path):
    follower = nhi(tmp_path).state.follower
    follower.back_off(httpx.Response(503, headers={"Retry-After": "7"}))
    assert 6.5 < follower.not_before - time.monotonic() <= 7.0
    follower.back_off(httpx.Response(429))  # no Retry-After: the polling interval
    assert 0.5 < follower.not_before - time.monotonic() <= follower.source.interval_s


def test_a_sync_asked_while_backing_off_long_is_a_503_with_retry_after(tmp_path: Path):
    app = nhi(tmp_path)
    app.state.follower.back_off(httpx.Response(429, headers={"Retry-After": "60"}))
    answer = TestClient(app).post("/v1/sync", headers=auth(CLERK))
    assert answer.status_code == 503 and answer.headers["content-type"].startswith(PROBLEM)
    assert 55 <= int(answer.headers["retry-after"]) <= 61
