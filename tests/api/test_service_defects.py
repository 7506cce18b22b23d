"""The information-provider defects applied to a defined service (kind ``service``), in
process: a defect that replaces the tax store composes with the service's subclass of it, the
service's own provide role is granted to any client, and the data defect answers another
符号's figures on a service while leaving the tax store alone."""

from __future__ import annotations

from pathlib import Path

from meshcert_simulators import defects
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.registry import create_app
from meshcert_simulators.service.definition import load
from meshcert_simulators.service.store import ServiceStore
from meshcert_simulators.tax.store import TaxStore
from tests.api.mesh_support import auth, client_for, mesh_topology
from tests.api.tax_support import tax_app

TOPO = mesh_topology()
ADMIN = {"Authorization": f"Bearer {TOPO.admin_token}"}
MESH = auth(TOPO, "mesh")
QUALIFICATION = load("kokuho").definition.items[0].code
PROC = "JT01030000000125"
HELD = {"A" * 32: {"insured": True, "acquired_year": 2001, "household_insured": 1},
        "B" * 32: {"insured": False, "acquired_year": 1999, "household_insured": 4}}
UNKNOWN = "C" * 32


def service_with(defect_id: str, data_dir: Path):  # type: ignore[no-untyped-def]
    """The kokuho service with ``defect_id`` applied, as the harness serves it, and seeded."""
    app = create_app(Settings(name="kokuho", topology=TOPO, data_dir=data_dir / "kokuho",
                              access_log=False))
    served = defects.get(defect_id).apply(app)
    client = client_for(served)
    seeded = client.post("/v1/admin/seed", headers=ADMIN, json={
        "rows": [{"code": code, "figures": figures} for code, figures in HELD.items()]})
    assert seeded.status_code == 200, seeded.text
    return app, client


def ask(client, code: str, record_id: str, headers=MESH):  # type: ignore[no-untyped-def]
    return client.post("/v1/provisions", headers=headers, json={
        "record_id": record_id, "procedure_code": PROC, "item_code": QUALIFICATION,
        "code": code})


def record_ids(client) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["record_id"] for r in client.get("/v1/provision-records",
                                               headers=ADMIN).json()["records"]]


def test_a_store_defect_composes_with_the_service_store(tmp_path: Path):
    app, client = service_with("provisions-processed-twice", tmp_path)
    with client:
        assert isinstance(app.state.store, ServiceStore)
        first = ask(client, "A" * 32, "r-twice")
        again = ask(client, "A" * 32, "r-twice")
        assert first.status_code == again.status_code == 200
        assert first.json()["items"][0]["payload"] == HELD["A" * 32]  # still the service's
        assert record_ids(client) == ["r-twice", "r-twice"]


def test_refusals_go_unrecorded_on_a_service(tmp_path: Path):
    _, client = service_with("refusals-not-recorded", tmp_path)
    with client:
        assert ask(client, UNKNOWN, "r-none").json()["items"][0]["status"] == "02"
        assert ask(client, "A" * 32, "r-given").json()["items"][0]["status"] == "01"
        assert record_ids(client) == ["r-given"]


def test_any_client_gets_the_services_own_provide_role(tmp_path: Path):
    _, client = service_with("provisions-for-any-client", tmp_path)
    with client:
        stranger = ask(client, "A" * 32, "r-stranger", headers=auth(TOPO, "mesh-auditor"))
        assert stranger.status_code == 200, stranger.text
        assert stranger.json()["items"][0]["payload"] == HELD["A" * 32]


def test_the_data_defect_answers_another_codes_figures_on_a_service(tmp_path: Path):
    _, client = service_with("levy-without-per-capita", tmp_path)
    with client:
        for n, (code, other) in enumerate(((("A" * 32), "B" * 32), ("B" * 32, "A" * 32))):
            [entry] = ask(client, code, f"r-{n}").json()["items"]
            assert (entry["status"], entry["payload"]) == ("01", HELD[other])
        [entry] = ask(client, UNKNOWN, "r-unknown").json()["items"]
        assert (entry["status"], entry["payload"]) == ("02", None)


def test_the_data_defect_leaves_the_tax_store_as_it_is(tmp_path: Path):
    app = tax_app(tmp_path)
    defects.get("levy-without-per-capita").apply(app)
    assert type(app.state.store) is TaxStore
