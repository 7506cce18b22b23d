"""The mesh's single inquiry is a hot route (meshcert_simulators.common.hot_routes): it answers
every
kind of request as the documented route does, records the same exchanges for the suites, and
leaves bodies the edge must refuse (wrong media type, undeclared or oversize length) to it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common.hot_routes import HotRoute, HotRoutes
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.registry import create_app
from tests.api.hot_support import comparable, counting
from tests.api.mesh_support import (
    CHILD,
    CHILD_PROC,
    FUND_PROC,
    TAX,
    TAX_ITEM,
    FakeProvider,
    auth,
    client_for,
    mesh_app,
    mesh_topology,
    person,
)


def admin(topology: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {topology.admin_token}"}


@contextmanager
def hot_mesh(tmp_path: Path, seed: int) -> Iterator[tuple[Any, list[str], str]]:
    """A running mesh whose hot route lists what it serves: (client, served, the child
    allowance system's 符号 for person ``seed``)."""
    app = mesh_app(tmp_path, provider=FakeProvider())
    served = counting(app)
    with client_for(app) as client:
        code = client.post("/v1/codes", json={"juminhyo_code": person(seed)},
                           headers=auth(mesh_topology(), CHILD)).json()["code"]
        yield client, served, code


def inquiry(code: str, record_id: str, **changes: Any) -> dict[str, Any]:
    return {"record_id": record_id, "procedure_code": CHILD_PROC, "item_code": TAX_ITEM,
            "provider": TAX, "code": code, **changes}


def exchange_requests(topology: Any, code: str) -> list[dict[str, Any]]:
    child = auth(topology, CHILD)
    return [
        {"json": inquiry(code, "HOT-1"), "headers": child},
        {"json": inquiry(code, "HOT-1"), "headers": child},                    # replay
        {"json": inquiry(code, "HOT-1", item_code="TM00000000000089"),          # duplicate id
         "headers": child},
        {"json": inquiry(code, "HOT-2", procedure_code=FUND_PROC), "headers": child},
        {"json": inquiry("X" * len(code), "HOT-3"), "headers": child},          # no such code
        {"json": {"record_id": "HOT-4"}, "headers": child},                     # invalid body
        {"content": b'{"record_id": ', "headers": {**child,
                                                   "Content-Type": "application/json"}},
        {"json": inquiry(code, "HOT-5"), "headers": {}},                        # no token
        {"json": inquiry(code, "HOT-6"), "headers": auth(topology, TAX)},       # not inquirer
        {"content": b"record_id=HOT-7", "headers": {**child, "Content-Type": "text/plain"}},
        {"json": inquiry(code, "HOT-8"), "headers": {**child, "X-Request-Id": "hot-8"}},
    ]


def test_the_hot_inquiry_answers_and_records_as_the_documented_route(tmp_path: Path) -> None:
    topology = mesh_topology()
    answers: list[list[tuple[int, dict[str, str], Any]]] = []
    kept: list[list[tuple[Any, ...]]] = []
    for hot in (True, False):
        app = mesh_app(tmp_path / str(hot), provider=FakeProvider())
        served = counting(app) if hot else []
        if not hot:
            app.state.hot_routes.clear()
        with client_for(app) as client:
            got = client.post("/v1/codes", json={"juminhyo_code": person(7)},
                              headers=auth(topology, CHILD))
            code = got.json()["code"]
            answers.append([comparable(client.post("/v1/inquiries", **request))
                            for request in exchange_requests(topology, code)])
            exchanges = client.get("/admin/exchanges", params={"path_prefix": "/v1/inquiries"},
                                   headers=admin(topology)).json()["exchanges"]
        kept.append([(e["client_id"], e["method"], e["path"], e["status"], e["request_body"],
                      re.sub(r'"(request_id|requested_at|provided_at)": ?"[^"]*"', "",
                             e["response_body"]))
                     for e in exchanges])
        if hot:  # all but the text/plain body, which the edge answers (415)
            assert len(served) == 10, served
    hot_answers, documented = answers
    for got, expected in zip(hot_answers, documented, strict=True):
        for answer in (got, expected):
            if isinstance(answer[2], dict):
                for volatile in ("requested_at", "provided_at"):
                    answer[2].pop(volatile, None)
        assert got == expected
    assert [a[0] for a in hot_answers] == [200, 200, 409, 403, 404, 422, 400, 401, 403, 415,
                                           200]
    assert kept[0] == kept[1] and len(kept[0]) == 11


def test_a_hot_inquiry_keeps_the_callers_request_id(tmp_path: Path) -> None:
    with hot_mesh(tmp_path, 8) as (client, served, code):
        answer = client.post("/v1/inquiries", json=inquiry(code, "ID-1"),
                             headers={**auth(mesh_topology(), CHILD),
                                      "X-Request-Id": "hot-inquiry"})
    assert served == ["/v1/inquiries"]
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "hot-inquiry"


def test_a_fault_plan_reaches_the_hot_inquiry(tmp_path: Path) -> None:
    topology = mesh_topology()
    with hot_mesh(tmp_path, 9) as (client, served, code):
        plan = {"error": {"rate": 1.0, "status": 503, "retry_after": 2}}
        assert client.put("/admin/faults/hot", json=plan,
                          headers=admin(topology)).status_code == 200
        hit = client.post("/v1/inquiries", json=inquiry(code, "F-1"),
                          headers={**auth(topology, CHILD), "X-Meshcert-Run": "hot"})
    assert (hit.status_code, hit.headers["retry-after"]) == (503, "2")
    assert served == []


def route_for(max_body_bytes: int) -> HotRoutes:
    async def endpoint(request: Request) -> Response:
        return Response(b"")

    return HotRoutes([HotRoute("POST", re.compile(r"/v1/x"), endpoint)], {}, False,
                     max_body_bytes)


@pytest.mark.parametrize(("headers", "taken"), [
    ([(b"content-type", b"application/json"), (b"content-length", b"10")], True),
    ([(b"Content-Type", b"application/problem+json; charset=utf-8"),
      (b"Content-Length", b"10")], True),
    ([(b"content-type", b"application/json"), (b"content-length", b"11")], False),  # too big
    ([(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")], False),
    ([(b"content-type", b"text/plain"), (b"content-length", b"3")], False),
    ([(b"content-length", b"3")], False),
])
def test_a_body_takes_the_hot_route_only_if_the_edge_would_pass_it(
        headers: list[tuple[bytes, bytes]], taken: bool) -> None:
    scope = {"type": "http", "method": "POST", "path": "/v1/x", "root_path": "",
             "headers": headers}
    assert (route_for(10).match(scope) is not None) == taken


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_inquiries_at_once_are_answered_after_their_grouped_commits(tmp_path: Path,
                                                                   synchronous: str) -> None:
    """Outcomes commit in groups (storage.py): every inquiry of a burst is answered, keeps its
    art. 23 record, and replays its own answer afterwards — nothing of a batch is lost."""
    topology = mesh_topology()
    provider = FakeProvider()
    app = create_app(Settings(name="mesh", topology=topology, data_dir=tmp_path,
                              access_log=False, sqlite_synchronous=synchronous))
    app.state.provider_transport = httpx.ASGITransport(app=provider.app())
    child = auth(topology, CHILD)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mesh") as client:
            code = (await client.post("/v1/codes", json={"juminhyo_code": person(11)},
                                      headers=child)).json()["code"]
            burst = await asyncio.gather(*(
                client.post("/v1/inquiries", json=inquiry(code, f"B-{n}"), headers=child)
                for n in range(40)))
            assert [a.status_code for a in burst] == [200] * 40
            again = await client.post("/v1/inquiries", json=inquiry(code, "B-7"), headers=child)
            assert again.json() == burst[7].json()
            kept = (await client.get("/v1/provision-records", params={"code": code},
                                     headers=child)).json()["records"]
            assert sorted(r["record_id"] for r in kept) == sorted(f"B-{n}" for n in range(40))

    asyncio.run(main())
    assert len(provider.calls) == 40
    app.state.store.close()
