"""The hot read (GET a resident by 宛名番号) is a hot route, answered ahead of the app's
middleware stack (meshcert_simulators.common.hot_routes): it answers exactly as the documented route
does, steps aside for fault plans, and its audit entries, committed in groups, keep the chain
whole and in order."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshcert_simulators.common import access_log
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.registry import create_app
from meshcert_suites.resident_registry.builders import LG, move_in
from tests.api.hot_support import comparable, counting
from tests.conftest import access_entries, bearer
from tests.tokens import access_token, bearer_jwt

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

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
        served = counting(app) if hot else []
        if not hot:
            app.state.hot_routes.clear()
        with TestClient(app, raise_server_exceptions=False) as client:
            admitted = client.post(f"/municipalities/{LG}/movements", json=move_in(),
                                   headers=bearer(topology, "demo-clerk"))
            atena = admitted.json()["affected"][0]["atena_number"]
            answers.append([comparable(client.request(method, path, headers=headers))
                            for method, path, headers in requests(topology, atena)])
            verification = client.get(f"/municipalities/{LG}/audit-log/verification",
                                      headers=bearer(topology, "demo-clerk")).json()
            assert verification["valid"], verification
        if hot:  # the 10 GETs inside the route's patterns, and the one redirected there
            # from a trailing slash: the hot route took them
            assert len(served) == 11, served
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


def test_a_fault_plan_reaches_the_hot_read(registry_client, topology) -> None:
    """With a plan active the hot route steps aside: the injected error answers."""
    admin, clerk = bearer(topology, "admin"), bearer(topology, "demo-clerk")
    admitted = registry_client.post(f"/municipalities/{LG}/movements", json=move_in(),
                                    headers=clerk)
    path = f"/municipalities/{LG}/residents/{admitted.json()['affected'][0]['atena_number']}"
    assert registry_client.get(path, headers=clerk).status_code == 200
    plan = {"error": {"rate": 1.0, "status": 503, "retry_after": 3}}
    assert registry_client.put("/admin/faults/hot", json=plan,
                               headers=admin).status_code == 200
    hit = registry_client.get(path, headers={**clerk, "X-Meshcert-Run": "hot"})
    assert (hit.status_code, hit.headers["retry-after"]) == (503, "3")
    assert registry_client.get(path, headers=clerk).status_code == 200  # other runs: served
    assert registry_client.delete("/admin/faults/hot", headers=admin).status_code in (200, 204)
    assert registry_client.get(path, headers={**clerk, "X-Meshcert-Run": "hot"}
                               ).status_code == 200


def test_a_hot_read_keeps_the_request_id_and_its_access_log_line(
        tmp_path: Path, topology, capsys: pytest.CaptureFixture[str]) -> None:
    app = create_app(Settings(name="municipal", topology=topology, data_dir=tmp_path))
    served = counting(app)
    clerk = bearer(topology, "demo-clerk")
    with TestClient(app, raise_server_exceptions=False) as client:
        admitted = client.post(f"/municipalities/{LG}/movements", json=move_in(),
                               headers=clerk)
        path = f"/municipalities/{LG}/residents/{admitted.json()['affected'][0]['atena_number']}"
        given = client.get(path, headers={**clerk, "X-Request-Id": "hot-read-1"})
        fresh = client.get(path, headers={**clerk, "X-Request-Id": "not ok!"})
        missing = client.get(f"/municipalities/{LG}/residents/0000000000",
                             headers={**clerk, "X-Request-Id": "hot-read-2"})
    access_log.flush()
    assert served == [path, path, f"/municipalities/{LG}/residents/0000000000"]
    assert given.headers["x-request-id"] == "hot-read-1"
    assert fresh.headers["x-request-id"] != "not ok!" and len(fresh.headers["x-request-id"]) == 32
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["request_id"] == "hot-read-2"
    logged = {e["request_id"]: e for e in access_entries(capsys.readouterr().err)}
    assert logged["hot-read-1"]["status"] == 200 and logged["hot-read-1"]["path"] == path
    assert logged["hot-read-1"]["client"] == "demo-clerk" and logged["hot-read-1"]["ms"] >= 0
    assert logged["hot-read-2"]["status"] == 404
    assert logged[fresh.headers["x-request-id"]]["status"] == 200


def test_an_unexpected_error_in_a_hot_read_is_a_500_problem(tmp_path: Path, topology) -> None:
    app = create_app(Settings(name="municipal", topology=topology, data_dir=tmp_path,
                              access_log=False))

    class Broken:
        def __getattr__(self, name: str) -> Any:
            raise RuntimeError("the register is gone")

    with TestClient(app, raise_server_exceptions=False) as client:
        app.state.registry = Broken()
        answer = client.get(f"/municipalities/{LG}/residents/0000000001",
                            headers={**bearer(topology, "demo-clerk"), "X-Request-Id": "boom"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:meshcert:problem:internal-error"
    assert answer.headers["x-request-id"] == "boom" == answer.json()["request_id"]
