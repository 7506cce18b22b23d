"""The hot read (GET a resident by 宛名番号) is a plain Starlette route ahead of the documented
FastAPI route: it answers exactly as that route does, and its audit entries, committed in
groups, keep the chain whole and in order."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators.common.settings import Settings
from simulators.municipal.app import HotRoute
from simulators.registry import create_app
from suites.resident_registry.builders import LG, move_in
from tests.conftest import bearer
from tests.tokens import access_token, bearer_jwt

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

VOLATILE = {"x-request-id", "date", "content-length"}


def comparable(response: Any) -> tuple[int, dict[str, str], Any]:
    headers = {k: v for k, v in response.headers.items() if k not in VOLATILE}
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body.pop("request_id", None)
    return response.status_code, headers, body


def requests(topology: Any, atena: str) -> list[tuple[str, str, dict[str, str]]]:
    path = f"/municipalities/{LG}/residents/{atena}"
    plain = bearer_jwt(access_token(topology, ["registry:read"], subject="demo-downstream"))
    full = bearer_jwt(access_token(topology, ["registry:read", "registry:read-mynumber"],
                                   subject="demo-tax-system"))
    elsewhere = bearer_jwt(access_token(topology, ["registry:read"],
                                        subject="demo-chiyoda-downstream",
                                        municipalities=["131041"]))
    writer = bearer_jwt(access_token(topology, ["registry:write"]))
    return [
        ("GET", path, plain), ("GET", path, full), ("GET", path, bearer(topology, "demo-clerk")),
        ("GET", path, bearer(topology, "demo-downstream")), ("GET", path, {}),
        ("GET", path, {"Authorization": "Bearer not-a-token"}), ("GET", path, elsewhere),
        ("GET", path, writer), ("GET", f"/municipalities/{LG}/residents/0000000000", plain),
        ("GET", f"/municipalities/999999/residents/{atena}", plain),
        ("GET", f"/municipalities/{LG}/residents/{atena[:9]}", plain),
        ("GET", f"/municipalities/{LG}/residents/{atena}x", plain),
        ("GET", f"/municipalities/{LG[:5]}/residents/{atena}", plain),
        ("GET", f"/municipalities/{LG}/residents/{atena}%0A", plain),
        ("GET", f"{path}/", plain), ("HEAD", path, plain), ("POST", path, plain),
        ("DELETE", path, plain),
    ]


def test_the_hot_route_answers_as_the_documented_route(tmp_path: Path, topology) -> None:
    answers: list[list[tuple[int, dict[str, str], Any]]] = []
    for hot in (True, False):
        settings = Settings(name="municipal", topology=topology, data_dir=tmp_path / str(hot),
                            access_log=False)
        app = create_app(settings)
        if not hot:
            app.router.routes[:] = [r for r in app.router.routes if not isinstance(r, HotRoute)]
        with TestClient(app, raise_server_exceptions=False) as client:
            admitted = client.post(f"/municipalities/{LG}/movements", json=move_in(),
                                   headers=bearer(topology, "demo-clerk"))
            atena = admitted.json()["affected"][0]["atena_number"]
            answers.append([comparable(client.request(method, path, headers=headers))
                            for method, path, headers in requests(topology, atena)])
            verification = client.get(f"/municipalities/{LG}/audit-log/verification",
                                      headers=bearer(topology, "demo-clerk")).json()
            assert verification["valid"], verification
    hot_answers, documented = answers
    for got, expected in zip(hot_answers, documented, strict=True):
        assert got[:2] == expected[:2]
        if isinstance(expected[2], dict):
            # Same members; times and randomly issued numbers differ between the two apps.
            assert got[2].keys() == expected[2].keys()
            for volatile in ("updated_at", "dates", "juminhyo_code", "my_number"):
                expected[2].pop(volatile, None)
                got[2].pop(volatile, None)
        assert got[2] == expected[2]
    assert [a[0] for a in hot_answers][:4] == [200, 200, 200, 200]


def test_the_contract_keeps_the_documented_operation(registry_client) -> None:
    doc = registry_client.get("/openapi.json").json()
    operation = doc["paths"]["/municipalities/{lg_code}/residents/{atena_number}"]["get"]
    assert operation["operationId"] == "getResident"


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_concurrent_reads_keep_the_chain_whole_and_in_order(tmp_path: Path, topology,
                                                            synchronous: str) -> None:
    settings = Settings(name="municipal", topology=topology, data_dir=tmp_path,
                        access_log=False, sqlite_synchronous=synchronous)
    app = create_app(settings)
    clerk = bearer(topology, "demo-clerk")

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            atenas = []
            for _ in range(3):
                admitted = await client.post(f"/municipalities/{LG}/movements",
                                             json=move_in(), headers=clerk)
                atenas.append(admitted.json()["affected"][0]["atena_number"])
            reads = [client.get(f"/municipalities/{LG}/residents/{atenas[n % 3]}",
                                headers={**clerk, "X-Request-Id": f"read-{n}"})
                     for n in range(60)]
            answers = await asyncio.gather(*reads)
            assert [a.status_code for a in answers] == [200] * 60
            check = (await client.get(f"/municipalities/{LG}/audit-log/verification",
                                      headers=clerk)).json()
            assert check["valid"], check
            entries = (await client.get(f"/municipalities/{LG}/audit-log",
                                        params={"limit": 1000}, headers=clerk)).json()
            logged = [e["request_id"] for e in entries["entries"]
                      if e["action"] == "resident.read"]
            assert sorted(logged) == sorted(f"read-{n}" for n in range(60))
            assert [e["seq"] for e in entries["entries"]] == list(
                range(1, len(entries["entries"]) + 1))

    asyncio.run(main())
    app.state.registry.db.close()
