"""Bulk inquiries: a durable job of up to 10,000 rows, each row checked like a single inquiry
(same problem types), record ids unique across single and bulk inquiries and inside one file,
only the submitter reads the job, and a restart resumes without re-calling providers."""

from __future__ import annotations

import asyncio
import json
import time

from meshcert_simulators.mesh.store import MeshStore
from tests.api.mesh_support import (
    BENEFIT,
    CHILD,
    CHILD_PROC,
    FUND_ITEM,
    TAX,
    TAX_ITEM,
    FakeProvider,
    auth,
    client_for,
    mesh_app,
    mesh_topology,
    person,
)

P = "urn:meshcert:problem:"
TOPO = mesh_topology()
UNISSUED = "A" * 32


def code_of(client, inst: str, seed: int = 1) -> str:
    r = client.post("/v1/codes", json={"juminhyo_code": person(seed)}, headers=auth(TOPO, inst))
    assert r.status_code in (200, 201), r.text
    return r.json()["code"]


def row(code: str, record_id: str, **overrides) -> dict:
    body = {"record_id": record_id, "procedure_code": CHILD_PROC, "item_code": TAX_ITEM,
            "provider": TAX, "code": code}
    body.update(overrides)
    return body


def submit(client, rows: list[dict], inst: str = CHILD) -> str:
    r = client.post("/v1/bulk-inquiries", json={"rows": rows}, headers=auth(TOPO, inst))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status_url"] == f"/v1/bulk-inquiries/{body['job_id']}" == r.headers["location"]
    return body["job_id"]


def wait_done(client, job_id: str, inst: str = CHILD, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/v1/bulk-inquiries/{job_id}", params={"limit": 1},
                       headers=auth(TOPO, inst))
        assert r.status_code == 200, r.text
        if r.json()["state"] == "done":
            return r.json()
        assert time.monotonic() < deadline, r.json()
        time.sleep(0.02)


def all_rows(client, job_id: str, inst: str = CHILD) -> list[dict]:
    rows, after = [], 0
    while after is not None:
        r = client.get(f"/v1/bulk-inquiries/{job_id}", params={"after": after, "limit": 1000},
                       headers=auth(TOPO, inst))
        assert r.status_code == 200, r.text
        rows += r.json()["rows"]
        after = r.json()["next_after"]
    return rows


def test_per_row_statuses_of_a_mixed_file(tmp_path):
    provider = FakeProvider()
    with client_for(mesh_app(tmp_path, provider=provider)) as client:
        mine = code_of(client, CHILD)
        job = submit(client, [
            row(mine, "good-1"),
            row(UNISSUED, "unknown-code"),
            row(mine, "not-permitted", item_code=FUND_ITEM),
            row(mine, "good-1"),                      # in-file duplicate
            row(code_of(client, CHILD, seed=2), "good-2", non_disclosure=True),
        ])
        summary = wait_done(client, job)
        rows = all_rows(client, job)
        audit = client.get("/v1/provision-records", params={"code": code_of(client, BENEFIT)},
                           headers=auth(TOPO, BENEFIT))
        mine_records = client.get("/v1/provision-records", params={"code": mine},
                                  headers=auth(TOPO, CHILD)).json()["records"]
    assert (summary["total"], summary["done"], summary["failed"], summary["pending"]) == (
        5, 2, 3, 0)
    assert summary["finished_at"] is not None
    assert [(r["row"], r["record_id"], r["state"], r["status"]) for r in rows] == [
        (1, "good-1", "ok", 200), (2, "unknown-code", "failed", 404),
        (3, "not-permitted", "failed", 403), (4, "good-1", "failed", 409),
        (5, "good-2", "ok", 200)]
    assert [r["problem"]["type"] if r["problem"] else None for r in rows] == [
        None, P + "code-not-issued", P + "not-permitted", P + "duplicate-record-id", None]
    assert rows[1]["problem"]["message"] == "符号が未取得"
    assert rows[2]["problem"]["message"] == "照会は許可されていません"
    assert rows[0]["result"]["items"][0]["payload"] == {"taxable_income": 3200000,
                                                        "fiscal_year": 2025}
    assert rows[0]["result"]["route"] == "realtime"
    assert sorted(c["body"]["record_id"] for c in provider.calls) == ["good-1", "good-2"]
    assert audit.status_code == 200
    # art. 23 records per row, as for single inquiries (refusals recorded too)
    assert sorted((r["record_id"], r["outcome"]) for r in mine_records) == [
        ("good-1", "provided"), ("not-permitted", "refused-not-permitted")]


def test_record_ids_are_unique_across_single_and_bulk_inquiries(tmp_path):
    provider = FakeProvider()
    with client_for(mesh_app(tmp_path, provider=provider)) as client:
        mine = code_of(client, CHILD)
        single = client.post("/v1/inquiries", json=row(mine, "used-single"),
                             headers=auth(TOPO, CHILD))
        assert single.status_code == 200, single.text
        first = submit(client, [row(mine, "used-bulk")])
        wait_done(client, first)
        again = submit(client, [row(mine, "used-single"), row(mine, "used-bulk"),
                                row(mine, "fresh")])
        wait_done(client, again)
        rows = all_rows(client, again)
        resend = client.post("/v1/inquiries", json=row(mine, "fresh", item_code=FUND_ITEM),
                             headers=auth(TOPO, CHILD))
    assert [(r["record_id"], r["status"]) for r in rows] == [
        ("used-single", 409), ("used-bulk", 409), ("fresh", 200)]
    assert {r["problem"]["type"] for r in rows[:2]} == {P + "duplicate-record-id"}
    assert resend.status_code == 409 and resend.json()["type"] == P + "duplicate-record-id"
    assert sorted(c["body"]["record_id"] for c in provider.calls) == [
        "fresh", "used-bulk", "used-single"]


def test_only_the_submitter_reads_its_job(tmp_path):
    with client_for(mesh_app(tmp_path, provider=FakeProvider())) as client:
        job = submit(client, [row(code_of(client, CHILD), "r-1")])
        wait_done(client, job)
        other = client.get(f"/v1/bulk-inquiries/{job}", headers=auth(TOPO, BENEFIT))
        unknown = client.get(f"/v1/bulk-inquiries/{'0' * 32}", headers=auth(TOPO, CHILD))
        anonymous = client.get(f"/v1/bulk-inquiries/{job}")
        provider_side = client.post("/v1/bulk-inquiries", json={"rows": [row(UNISSUED, "x")]},
                                    headers=auth(TOPO, TAX))
        empty = client.post("/v1/bulk-inquiries", json={"rows": []}, headers=auth(TOPO, CHILD))
    assert other.status_code == 404 and other.json()["type"] == P + "job-not-found"
    assert unknown.status_code == 404
    assert anonymous.status_code == 401
    assert provider_side.status_code == 403
    assert provider_side.json()["type"] == P + "not-an-inquirer"
    assert empty.status_code == 422


def test_a_10000_row_file_is_accepted_and_finishes(tmp_path):
    provider = FakeProvider()
    app = mesh_app(tmp_path, provider=provider)
    with client_for(app) as client:
        codes = [code_of(client, CHILD, seed) for seed in range(1, 6)]
        rows = [row(codes[n % 5] if n % 10 else UNISSUED, f"row-{n:05d}")
                for n in range(10_000)]
        size = len(json.dumps({"rows": rows}))
        assert size > 1024 * 1024  # more than the default body limit
        started = time.monotonic()
        job = submit(client, rows)
        summary = wait_done(client, job, timeout=240)
        elapsed = time.monotonic() - started
        too_many = client.post("/v1/bulk-inquiries", json={"rows": rows + rows[:1]},
                               headers=auth(TOPO, CHILD))
    print(f"10,000 rows in {elapsed:.1f} s: {10_000 / elapsed:.0f} rows/s")
    assert (summary["total"], summary["done"], summary["failed"]) == (10_000, 9_000, 1_000)
    assert len(provider.calls) == 9_000
    assert too_many.status_code == 422


def test_a_restart_resumes_the_job_without_recalling_the_provider(tmp_path):
    provider = FakeProvider()
    gate: dict[str, asyncio.Event] = {}
    base = provider.app()

    async def gated(scope, receive, send):  # lets 3 calls through, then holds the rest
        if scope["type"] == "http" and len(provider.calls) >= 3:
            await gate.setdefault("open", asyncio.Event()).wait()
        await base(scope, receive, send)

    import httpx

    app = mesh_app(tmp_path)
    app.state.provider_transport = httpx.ASGITransport(app=gated)
    app.state.bulk_concurrency = 1
    with client_for(app) as client:
        mine = code_of(client, CHILD)
        job = submit(client, [row(mine, f"r-{n}") for n in range(8)])
        deadline = time.monotonic() + 10
        while True:
            status = client.get(f"/v1/bulk-inquiries/{job}", headers=auth(TOPO, CHILD)).json()
            if status["done"] == 3:
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.02)
    assert status["state"] == "running" and status["pending"] == 5
    assert len(provider.calls) == 3
    assert MeshStore(tmp_path / "mesh.sqlite3").unfinished_jobs() == [job]

    restarted = mesh_app(tmp_path, provider=provider)
    with client_for(restarted) as client:
        summary = wait_done(client, job)
        rows = all_rows(client, job)
    assert (summary["done"], summary["failed"]) == (8, 0)
    assert [r["status"] for r in rows] == [200] * 8
    called = [c["body"]["record_id"] for c in provider.calls]
    assert sorted(called) == sorted(f"r-{n}" for n in range(8))  # each row called once
