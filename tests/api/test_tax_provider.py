"""The reference individual-resident-tax system (meshcert_simulators/tax/): figures stored by its
own
符号 (issued by a real in-process mesh), real-time answers to the mesh, art. 23 records, and
copies published to a real in-process J-LIS."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from meshcert_simulators.common.identifiers import find_my_numbers
from tests.api.mesh_support import (
    CHILD,
    CHILD_PROC,
    RESIDENT_ITEM,
    TAX,
    TAX_ITEM,
    auth,
    client_for,
    mesh_app,
    mesh_topology,
    person,
)
from tests.api.tax_support import jlis_app, tax_app

TOPO = mesh_topology()
ADMIN = {"Authorization": f"Bearer {TOPO.admin_token}"}
MESH = auth(TOPO, "mesh")
AUDITOR = auth(TOPO, "mesh-tax-auditor")
FIGURES = {"tax_year": 2025, "taxable_income": 3_200_000, "income_levy": 320_000,
           "per_capita_levy": 5000, "dependants": 2}


def provision(code: str, item: str = TAX_ITEM, record_id: str | None = None) -> dict:
    return {"record_id": record_id or f"r-{uuid.uuid4().hex[:12]}",
            "procedure_code": CHILD_PROC, "item_code": item, "code": code}


@pytest.fixture
def seeded(tmp_path: Path):
    mesh = mesh_app(tmp_path / "mesh")
    app = tax_app(tmp_path, mesh=mesh)
    with client_for(app) as client:
        answer = client.post("/v1/admin/seed", headers=ADMIN, json={"seed": 3, "rows": [
            {"juminhyo_code": person(1), "figures": FIGURES},
            {"juminhyo_code": person(2)}]})
        assert answer.status_code == 200, answer.text
        yield client, mesh, answer.json()


def test_seeding_stores_figures_by_the_systems_own_code(seeded):
    client, mesh, result = seeded
    assert result["seeded"] == 2 and result["data_version"] == 1
    with client_for(mesh) as m:
        own = m.post("/v1/codes", json={"juminhyo_code": person(1)}, headers=auth(TOPO, TAX))
    assert own.json()["code"] == result["codes"][0]
    assert not own.json()["newly_issued"]  # the tax system got it from the mesh already
    db = (client.app.state.store.db.path).read_bytes()
    assert person(1).encode() not in db and person(2).encode() not in db


def test_synthetic_figures_are_deterministic(tmp_path: Path):
    from meshcert_simulators.tax.store import synthetic_figures
    assert synthetic_figures(3, person(2)) == synthetic_figures(3, person(2))
    assert synthetic_figures(3, person(2)) != synthetic_figures(4, person(2))


def test_the_mesh_gets_the_figures_by_code(seeded):
    client, _, result = seeded
    answer = client.post("/v1/provisions", json=provision(result["codes"][0]), headers=MESH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "09"
    [item] = body["items"]
    assert item["item_code"] == TAX_ITEM and item["status"] == "01"
    assert item["payload"] == {**FIGURES, "total_levy": 325_000, "data_version": 1}
    synthetic = client.post("/v1/provisions", json=provision(result["codes"][1]), headers=MESH)
    assert synthetic.json()["items"][0]["status"] == "01"


def test_an_item_it_does_not_provide_is_answered_not_provided(seeded):
    client, _, result = seeded
    answer = client.post("/v1/provisions", json=provision(result["codes"][0], RESIDENT_ITEM),
                         headers=MESH)
    assert answer.status_code == 200
    [item] = answer.json()["items"]
    assert (item["item_code"], item["status"], item["payload"]) == (RESIDENT_ITEM, "03", None)


def test_a_record_id_is_answered_once_then_replayed_or_refused(seeded):
    client, _, result = seeded
    body = provision(result["codes"][0], record_id="dup-1")
    first = client.post("/v1/provisions", json=body, headers=MESH)
    client.post("/v1/admin/seed", headers=ADMIN, json={"seed": 3, "rows": [
        {"juminhyo_code": person(1), "figures": {**FIGURES, "income_levy": 1}}]})
    again = client.post("/v1/provisions", json=body, headers=MESH)
    other = client.post("/v1/provisions", json={**body, "item_code": RESIDENT_ITEM},
                        headers=MESH)
    records = client.get("/v1/provision-records", headers=AUDITOR).json()["records"]
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()  # the first answer, not the figures seeded since
    assert other.status_code == 409
    assert other.json()["type"] == "urn:meshcert:problem:duplicate-record-id"
    # One record of the answer (none of the resend), one of the refused other inquiry.
    assert [(r["outcome"], r["item_code"], r["item_status"]) for r in records
            if r["record_id"] == "dup-1"] == [("provided", TAX_ITEM, "01"),
                                              ("refused", RESIDENT_ITEM, None)]


def test_an_unknown_code_is_answered_no_data(seeded):
    client, _, _ = seeded
    answer = client.post("/v1/provisions", json=provision("A" * 32), headers=MESH)
    assert answer.status_code == 200
    assert answer.json()["status"] == "09"
    [item] = answer.json()["items"]
    assert (item["status"], item["payload"]) == ("02", None)


def test_only_the_mesh_may_ask(seeded):
    client, _, result = seeded
    assert client.post("/v1/provisions", json=provision(result["codes"][0])).status_code == 401
    refused = client.post("/v1/provisions", json=provision(result["codes"][0]),
                          headers=auth(TOPO, CHILD))
    assert refused.status_code == 403 and refused.json()["required_role"] == "tax:provide"
    # The refused inquiry is an art. 23 record (no data provided); the anonymous one is not.
    records = client.get("/v1/provision-records", headers=AUDITOR).json()["records"]
    assert [(r["inquirer_client"], r["outcome"], r["item_status"]) for r in records] == \
        [("mesh-child-allowance", "refused", None)]
    assert client.get("/v1/provision-records", headers=MESH).status_code == 403
    assert client.post("/v1/admin/seed", headers=MESH, json={"rows": [
        {"juminhyo_code": person(5)}]}).status_code == 403


def test_no_my_number_in_any_answer(seeded):
    client, _, result = seeded
    texts = [client.post("/v1/provisions", json=provision(code, item), headers=MESH).text
             for code in [*result["codes"], "B" * 32] for item in (TAX_ITEM, RESIDENT_ITEM)]
    texts.append(client.get("/v1/provision-records", headers=AUDITOR).text)
    for text in texts:
        assert find_my_numbers(text) == []


def test_provision_records_survive_a_restart(tmp_path: Path):
    app = tax_app(tmp_path)
    with client_for(app) as client:
        codes = client.post("/v1/admin/seed", headers=ADMIN, json={"rows": [
            {"juminhyo_code": person(9), "figures": FIGURES}]}).json()["codes"]
        for record_id, code in (("keep-1", codes[0]), ("keep-2", "C" * 32)):
            client.post("/v1/provisions", json=provision(code, record_id=record_id),
                        headers=MESH)
    with client_for(tax_app(tmp_path)) as again:
        page = again.get("/v1/provision-records", headers=AUDITOR).json()
        got = again.post("/v1/provisions", json=provision(codes[0]), headers=MESH).json()
    outcomes = {r["record_id"]: (r["outcome"], r["item_status"], r["inquirer_client"])
                for r in page["records"]}
    assert outcomes["keep-1"] == ("provided", "01", "mesh")
    assert outcomes["keep-2"] == ("no-data", "02", "mesh")
    assert got["items"][0]["payload"]["taxable_income"] == FIGURES["taxable_income"]


def test_publish_registers_copies_at_jlis_that_jlis_then_serves(tmp_path: Path):
    jlis = jlis_app(tmp_path)
    app = tax_app(tmp_path, jlis=jlis)
    with client_for(app) as client:
        codes = client.post("/v1/admin/seed", headers=ADMIN, json={"rows": [
            {"juminhyo_code": person(11), "figures": FIGURES},
            {"juminhyo_code": person(12)}]}).json()["codes"]
        first = client.post("/v1/copies/publish", headers=ADMIN, json={})
        assert first.status_code == 200, first.text
        assert (first.json()["registered"], first.json()["unchanged"]) == (2, 0)
        again = client.post("/v1/copies/publish", headers=ADMIN, json={})
        assert (again.json()["registered"], again.json()["unchanged"]) == (0, 2)
        assert client.post("/v1/copies/publish", headers=MESH, json={}).status_code == 403
    with client_for(jlis) as j:
        answer = j.post("/v1/provisions", json=provision(codes[0]), headers=MESH)
    [item] = answer.json()["items"]
    assert item["status"] == "01" and item["payload"]["taxable_income"] == 3_200_000


def test_publish_registers_the_asked_window_which_jlis_shows_as_registered(tmp_path: Path):
    jlis = jlis_app(tmp_path)
    with client_for(tax_app(tmp_path, jlis=jlis)) as client:
        [code] = client.post("/v1/admin/seed", headers=ADMIN, json={"rows": [
            {"juminhyo_code": person(13), "figures": FIGURES}]}).json()["codes"]
        published = client.post("/v1/copies/publish", headers=ADMIN,
                                json={"delay_s": 3600, "duration_s": 86400})
    assert published.status_code == 200, published.text
    start = datetime.fromisoformat(published.json()["publication_start"])
    end = datetime.fromisoformat(published.json()["publication_end"])
    assert end - start == timedelta(days=1)
    with client_for(jlis) as j:
        versions = j.get(f"/v1/copies/mesh-resident-tax/{code}/{TAX_ITEM}/versions",
                         headers=ADMIN)
        other = j.get(f"/v1/copies/mesh-resident-tax/{code}/{TAX_ITEM}/versions",
                      headers=auth(TOPO, "chiyoda-child-allowance"))
    assert versions.status_code == 200, versions.text
    [copy] = versions.json()["copies"]
    assert (datetime.fromisoformat(copy["publication_start"]),
            datetime.fromisoformat(copy["publication_end"])) == (start, end)
    assert other.status_code == 403  # another institution reads no one else's copies


def test_publish_without_a_reachable_jlis_is_a_502(tmp_path: Path):
    app = tax_app(tmp_path)
    app.state.http_transport = httpx.MockTransport(
        lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused")))
    with client_for(app) as client:
        client.post("/v1/admin/seed", headers=ADMIN, json={"rows": [
            {"juminhyo_code": person(13)}]})
        failed = client.post("/v1/copies/publish", headers=ADMIN, json={})
    assert failed.status_code == 502 and failed.json()["type"].endswith(":jlis-unreachable")


def test_the_mesh_routes_a_real_time_inquiry_to_the_tax_system(tmp_path: Path):
    mesh = mesh_app(tmp_path / "mesh")
    app = tax_app(tmp_path, mesh=mesh)
    mesh.state.provider_transport = httpx.ASGITransport(app=app)
    with client_for(app) as client, client_for(mesh) as m:
        client.post("/v1/admin/seed", headers=ADMIN, json={"rows": [
            {"juminhyo_code": person(21), "figures": FIGURES}]})
        mine = m.post("/v1/codes", json={"juminhyo_code": person(21)},
                      headers=auth(TOPO, CHILD)).json()["code"]
        answer = m.post("/v1/inquiries", headers=auth(TOPO, CHILD), json={
            "record_id": "rt-1", "procedure_code": CHILD_PROC, "item_code": TAX_ITEM,
            "provider": TAX, "code": mine})
    assert answer.status_code == 200, answer.text
    assert answer.json()["route"] == "realtime"
    assert answer.json()["items"][0]["payload"]["income_levy"] == 320_000
    assert not find_my_numbers(answer.text)


def test_the_hot_provision_answers_as_the_documented_route(tmp_path: Path):
    """POST /v1/provisions is a hot route (meshcert_simulators.common.hot_routes): every kind of
    request is answered as the documented route answers it."""
    from tests.api.hot_support import comparable, counting

    answers = []
    for hot in (True, False):
        app = tax_app(tmp_path / str(hot), mesh=mesh_app(tmp_path / f"mesh-{hot}"))
        served = counting(app) if hot else []
        if not hot:
            app.state.hot_routes.clear()
        with client_for(app) as client:
            codes = client.post("/v1/admin/seed", headers=ADMIN, json={"seed": 3, "rows": [
                {"juminhyo_code": person(1), "figures": FIGURES}]}).json()["codes"]
            asked = provision(codes[0], record_id="hot-1")
            answers.append([comparable(client.post("/v1/provisions", **request)) for request in [
                {"json": asked, "headers": MESH},
                {"json": asked, "headers": MESH},                                   # replay
                {"json": {**asked, "item_code": RESIDENT_ITEM}, "headers": MESH},   # duplicate
                {"json": provision("Z" * len(codes[0]), record_id="hot-2"), "headers": MESH},
                {"json": provision(codes[0], RESIDENT_ITEM, "hot-3"), "headers": MESH},
                {"json": {"record_id": "hot-4"}, "headers": MESH},
                {"json": provision(codes[0], record_id="hot-5"), "headers": AUDITOR},
                {"json": provision(codes[0], record_id="hot-6"), "headers": {}},
                {"content": b"{", "headers": {**MESH, "Content-Type": "application/json"}},
                {"content": b"x", "headers": {**MESH, "Content-Type": "text/plain"}},
            ]])
        if hot:
            assert len(served) == 9, served  # all but the text/plain body (the edge's 415)
    assert answers[0] == answers[1]
    assert [a[0] for a in answers[0]] == [200, 200, 409, 200, 200, 422, 403, 401, 400, 415]
