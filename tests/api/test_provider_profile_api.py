"""What the information-provider profile needs of the simulators: the reference provider seeded
by 符号 (the harness plays the mesh and issued the codes already, so no mesh is asked); J-LIS
capturing the copies a provider registers; J-LIS's window clock moved by a clock-skew fault
plan for the requests of that plan's run only."""

from __future__ import annotations

import random
from pathlib import Path

import httpx

from meshcert_simulators.common.identifiers import find_my_numbers, generate_my_number
from tests.api.mesh_support import TAX_ITEM, auth, client_for, mesh_topology
from tests.api.tax_support import jlis_app, tax_app
from tests.api.test_tax_provider import FIGURES, provision

TOPO = mesh_topology()
ADMIN = {"Authorization": f"Bearer {TOPO.admin_token}"}
MESH = auth(TOPO, "mesh")
CODE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _no_mesh(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The tax app with a mesh that fails every call: seeding by 符号 must not need it."""
    app = tax_app(tmp_path)
    app.state.mesh_transport = httpx.MockTransport(
        lambda request: (_ for _ in ()).throw(AssertionError(f"asked the mesh: {request.url}")))
    return app


def test_seeding_by_code_stores_the_figures_under_that_code_without_the_mesh(tmp_path: Path):
    with client_for(_no_mesh(tmp_path)) as client:
        seeded = client.post("/v1/admin/seed", headers=ADMIN, json={"rows": [
            {"code": CODE, "figures": FIGURES}, {"code": "B" * 32}], "seed": 5})
        assert seeded.status_code == 200, seeded.text
        assert seeded.json()["codes"] == [CODE, "B" * 32]
        answer = client.post("/v1/provisions", json=provision(CODE), headers=MESH)
        synthetic = client.post("/v1/provisions", json=provision("B" * 32), headers=MESH)
    [item] = answer.json()["items"]
    assert item["payload"] == {**FIGURES, "total_levy": 325_000, "data_version": 1}
    [other] = synthetic.json()["items"]
    assert other["status"] == "01" and other["payload"]["tax_year"] == 2025
    assert not find_my_numbers(answer.text + synthetic.text)


def test_a_seed_row_names_a_person_by_exactly_one_key(tmp_path: Path):
    with client_for(_no_mesh(tmp_path)) as client:
        both = client.post("/v1/admin/seed", headers=ADMIN, json={"rows": [
            {"code": CODE, "juminhyo_code": "12345678901"}]})
        neither = client.post("/v1/admin/seed", headers=ADMIN, json={"rows": [
            {"figures": FIGURES}]})
        bad_code = client.post("/v1/admin/seed", headers=ADMIN, json={"rows": [
            {"code": "lowercase-is-no-code"}]})
        nothing = client.post("/v1/provisions", json=provision(CODE), headers=MESH)
    for refused in (both, neither, bad_code):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert nothing.json()["items"][0]["status"] == "02"  # nothing was stored


def test_jlis_captures_the_copies_a_provider_registers(tmp_path: Path):
    jlis = jlis_app(tmp_path)
    with client_for(tax_app(tmp_path, jlis=jlis)) as client:
        client.post("/v1/admin/seed", headers=ADMIN, json={"rows": [
            {"code": CODE, "figures": FIGURES}]})
        published = client.post("/v1/copies/publish", headers=ADMIN, json={"delay_s": 60})
    assert published.status_code == 200, published.text
    with client_for(jlis) as j:
        seen = j.get("/admin/exchanges", headers=ADMIN, params={"path_prefix": "/v1/copies/"})
        refused = j.get("/admin/exchanges", headers=MESH)
        served = j.post("/v1/provisions", json=provision(CODE), headers=MESH)
    [put] = seen.json()["exchanges"]
    assert (put["method"], put["path"], put["status"]) == (
        "PUT", f"/v1/copies/mesh-resident-tax/{CODE}/{TAX_ITEM}", 201)
    assert put["client_id"] == "mesh-resident-tax"
    assert '"publication_start"' in put["request_body"]
    assert refused.status_code == 403  # the capture is the harness's (admin) only
    # Published a minute from now: J-LIS holds the copy but serves none yet.
    assert served.json()["items"][0]["status"] == "02"


def test_a_clock_skew_plan_moves_jliss_window_clock_for_its_run_only(tmp_path: Path):
    jlis = jlis_app(tmp_path)
    with client_for(tax_app(tmp_path, jlis=jlis)) as client:
        client.post("/v1/admin/seed", headers=ADMIN, json={"rows": [
            {"code": CODE, "figures": FIGURES}]})
        client.post("/v1/copies/publish", headers=ADMIN, json={"delay_s": 3600})
    with client_for(jlis) as j:
        plan = j.put("/admin/faults/later", headers=ADMIN, json={
            "match": {"path_prefix": "/v1/provisions"}, "clock_skew_s": 3700})
        assert plan.status_code in (200, 201), plan.text
        skewed = j.post("/v1/provisions", json=provision(CODE),
                        headers={**MESH, "X-Meshcert-Run": "later"})
        plain = j.post("/v1/provisions", json=provision(CODE), headers=MESH)
    assert skewed.json()["items"][0]["status"] == "01"   # an hour on: inside the window
    assert plain.json()["items"][0]["status"] == "02"    # everyone else: not yet


def test_a_record_id_that_looks_like_a_my_number_is_recorded_and_exported(tmp_path: Path):
    record_id = generate_my_number(random.Random(4))
    with client_for(_no_mesh(tmp_path)) as client:
        answer = client.post("/v1/provisions", json=provision(CODE, record_id=record_id),
                             headers=MESH)
        export = client.get("/v1/provision-records", headers=auth(TOPO, "mesh-tax-auditor"))
    assert answer.status_code == 200 and not find_my_numbers(answer.text)
    assert export.status_code == 200, export.text
    assert [r["record_id"] for r in export.json()["records"]] == [record_id]
