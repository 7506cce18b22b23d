"""The generic provider built from a service definition (meshcert_simulators/service/), in
process with a real mesh: data derived by the definition's rules from the synthetic population,
answers per item (01 / 02 / 03) in the contract's shape, art. 23 records, a record id answered
once, records and answers surviving a restart, malformed input refused as problem+json, and the
mesh routing an inquiry to it under the legal basis the definition brings."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from meshcert_simulators.common.identifiers import find_my_numbers
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.registry import create_app
from meshcert_simulators.service import population
from meshcert_simulators.service.definition import load
from tests.api.mesh_support import auth, client_for, mesh_app, mesh_topology

TOPO = mesh_topology()
ADMIN = {"Authorization": f"Bearer {TOPO.admin_token}"}
MESH = auth(TOPO, "mesh")
POPULATION = {"lg_code": "131016", "persons": 12, "seed": 5}
KOKUHO = load("kokuho")
QUALIFICATION, PREMIUM = (i.code for i in KOKUHO.definition.items)
PROC = "JT01030000000125"


def service_app(data_dir: Path, mesh=None):  # type: ignore[no-untyped-def]
    app = create_app(Settings(name="kokuho", topology=TOPO, data_dir=data_dir / "kokuho",
                              access_log=False))
    app.state.mesh_transport = httpx.ASGITransport(app=mesh or mesh_app(data_dir / "mesh"))
    return app


def ask(client, code: str, item: str, record_id: str, headers=MESH):  # type: ignore[no-untyped-def]
    return client.post("/v1/provisions", headers=headers, json={
        "record_id": record_id, "procedure_code": PROC, "item_code": item, "code": code})


@pytest.fixture
def seeded(tmp_path: Path):
    mesh = mesh_app(tmp_path / "mesh")
    app = service_app(tmp_path, mesh)
    with client_for(app) as client:
        answer = client.post("/v1/admin/seed", headers=ADMIN, json={"population": POPULATION})
        assert answer.status_code == 200, answer.text
        yield client, answer.json()["codes"], mesh, tmp_path


def expected(n: int) -> dict:
    people = list(population.persons(POPULATION["lg_code"], POPULATION["persons"],
                                     POPULATION["seed"]))
    key, attributes = people[n]
    return population.figures(KOKUHO, POPULATION["seed"], key, attributes)


def test_each_item_answers_the_fields_the_rules_derive_for_that_person(seeded):
    client, codes, _, _ = seeded
    assert len(codes) == POPULATION["persons"] and len(set(codes)) == len(codes)
    for n in (0, 5, 11):
        want = expected(n)
        for item in KOKUHO.definition.items:
            answer = ask(client, codes[n], item.code, f"r-{n}-{item.key}")
            assert answer.status_code == 200, answer.text
            [entry] = answer.json()["items"]
            assert entry["status"] == "01"
            assert entry["payload"] == {k: want[k] for k in item.fields}
            assert not find_my_numbers(answer.text)


def test_the_rules_are_deterministic_and_follow_the_population():
    first = [population.figures(KOKUHO, 5, key, attrs)
             for key, attrs in population.persons("131016", 60, 5)]
    again = [population.figures(KOKUHO, 5, key, attrs)
             for key, attrs in population.persons("131016", 60, 5)]
    assert first == again
    people = list(population.persons("131016", 60, 5))
    for (_, attrs), figures in zip(people, first, strict=True):
        if attrs["age"] >= 75:  # 後期高齢者医療: never in the national health insurance
            assert figures["insured"] is False and figures["annual_premium"] == 0
        if not figures["insured"]:
            assert figures["annual_premium"] == 0 and figures["reduction"] == "なし"
    assert {f["insured"] for f in first} == {True, False}


def test_no_data_not_provided_and_a_record_id_answered_once(seeded):
    client, codes, _, _ = seeded
    unknown = "A" * 32
    [entry] = ask(client, unknown, QUALIFICATION, "r-unknown").json()["items"]
    assert (entry["status"], entry["payload"]) == ("02", None)
    [entry] = ask(client, codes[0], "TM00000000000089", "r-foreign").json()["items"]
    assert (entry["status"], entry["payload"]) == ("03", None)
    first = ask(client, codes[1], PREMIUM, "r-once")
    assert ask(client, codes[1], PREMIUM, "r-once").json() == first.json()
    other = ask(client, codes[2], PREMIUM, "r-once")
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")
    refused = ask(client, codes[0], PREMIUM, "r-stranger", headers=auth(TOPO, "mesh-auditor"))
    assert refused.status_code == 403
    records = client.get("/v1/provision-records", headers=ADMIN).json()["records"]
    outcomes = [(r["record_id"], r["outcome"]) for r in records]
    assert outcomes == [("r-unknown", "no-data"), ("r-foreign", "not-provided"),
                        ("r-once", "provided"), ("r-once", "refused"),
                        ("r-stranger", "refused")]


def test_figures_records_and_answers_survive_a_restart(seeded):
    client, codes, mesh, tmp_path = seeded
    before = ask(client, codes[3], QUALIFICATION, "r-restart").json()
    client.close()
    with client_for(service_app(tmp_path, mesh)) as again:
        assert ask(again, codes[3], QUALIFICATION, "r-restart").json() == before
        fresh = ask(again, codes[3], QUALIFICATION, "r-after")
        assert fresh.json()["items"] == before["items"]
        ids = [r["record_id"] for r in again.get("/v1/provision-records",
                                                 headers=ADMIN).json()["records"]]
        assert ids == ["r-restart", "r-after"]


@pytest.mark.parametrize("body", [
    {"rows": [{"code": "A" * 32, "figures": {"insured": True}}]},   # half an item
    {"rows": [{"code": "A" * 32, "figures": {"insured": "yes", "acquired_year": 2020,
                                             "household_insured": 1}}]},
    {"rows": [{"code": "A" * 32, "figures": {"unknown": 1}}]},
    {"population": POPULATION, "rows": [{"code": "A" * 32, "figures": {}}]},
    {},
])
def test_a_malformed_seeding_is_refused_as_a_problem(seeded, body):
    client, *_ = seeded
    answer = client.post("/v1/admin/seed", headers=ADMIN, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_mesh_routes_an_inquiry_to_the_service_under_the_definitions_legal_basis(seeded):
    client, _, mesh, _ = seeded
    [(key, _), *_] = population.persons(POPULATION["lg_code"], POPULATION["persons"],
                                        POPULATION["seed"])
    mesh.state.provider_transport = httpx.ASGITransport(app=client.app)
    benefit = auth(TOPO, "benefit-agency")
    with client_for(mesh) as through:
        mine = through.post("/v1/codes", headers=benefit, json={"juminhyo_code": key}).json()
        answer = through.post("/v1/inquiries", headers=benefit, json={
            "record_id": "m-1", "procedure_code": PROC, "item_code": PREMIUM,
            "provider": "chiyoda-kokuho", "code": mine["code"]})
        assert answer.status_code == 200, answer.text
        [entry] = answer.json()["items"]
        assert entry["payload"] == {k: expected(0)[k] for k in KOKUHO.definition.items[1].fields}
        refused = through.post("/v1/inquiries", headers=benefit, json={
            "record_id": "m-2", "procedure_code": "JT01010000000214", "item_code": PREMIUM,
            "provider": "chiyoda-kokuho", "code": mine["code"]})
        assert refused.status_code == 403  # no rule for that procedure and inquirer


def test_faults_and_exchange_capture_come_with_the_common_app(seeded):
    client, codes, _, _ = seeded
    plan = {"match": {"path_prefix": "/v1/provisions"}, "error": {"rate": 1, "status": 503,
                                                                  "retry_after": 2}}
    assert client.put("/admin/faults/global", json=plan, headers=ADMIN).status_code in (200, 201)
    failed = ask(client, codes[0], QUALIFICATION, "r-fault")
    assert failed.status_code == 503 and failed.headers["retry-after"] == "2"
    assert failed.headers["content-type"].startswith("application/problem+json")
    assert client.delete("/admin/faults/global", headers=ADMIN).status_code == 204
    assert ask(client, codes[0], QUALIFICATION, "r-fault").status_code == 200
    captured = client.get("/admin/exchanges", headers=ADMIN,
                          params={"path_prefix": "/v1/provisions"}).json()["exchanges"]
    assert [e["status"] for e in captured][-2:] == [503, 200]
