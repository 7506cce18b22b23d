"""The four defined services on the mesh, over real HTTP between real processes
(fixtures/topologies/mesh.yaml as `meshcert sim up` runs it): each service seeds the synthetic
population (its data derived by its definition's rules, its 符号 from the mesh), a copy-path
service registers its copies at J-LIS, and an inquirer the definition's legal basis names asks
the mesh with its own 符号 — answered with exactly the data the rules give that person, by the
service itself (real time) or by J-LIS (copy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from meshcert_simulators.common.identifiers import find_my_numbers
from meshcert_simulators.service import population
from meshcert_simulators.service.definition import load
from tests.integration.test_mesh_copy_path import MESH_TOPOLOGY, token
from tests.integration.topologies import copy_on_free_ports

pytestmark = pytest.mark.slow
SERVICES = ("kokuho", "kaigo", "jido-fuyo", "shogai-fukushi")
POPULATION = {"lg_code": "131016", "persons": 40, "seed": 7}


def inquire_each_item(data: dict, name: str, url: str, mesh: str) -> None:
    service = load(name)
    d = service.definition
    admin = {"Authorization": f"Bearer {data['admin_token']}"}
    seeded = httpx.post(f"{url}/v1/admin/seed", headers=admin, timeout=60,
                        json={"population": POPULATION})
    assert seeded.status_code == 200, seeded.text
    people = list(population.persons(POPULATION["lg_code"], POPULATION["persons"],
                                     POPULATION["seed"]))
    codes = seeded.json()["codes"]
    assert len(codes) == len(people)
    if d.route == "copy":
        published = httpx.post(f"{url}/v1/copies/publish", headers=admin, timeout=60,
                               json={"delay_s": 0})
        assert published.status_code == 200, published.text
        assert published.json()["registered"] == len(people) * len(d.items)
    clients = {c["id"] for c in data["clients"]}
    institutions = {i["code"]: i["client"] for i in data.get("institutions", [])}
    for item in d.items:
        rule = next(r for r in d.legal_basis if item.code in r.items
                    and institutions.get(r.inquirer) in clients)
        inquirer = token(data, institutions[rule.inquirer])
        for n in (0, len(people) - 1):  # two persons of the population
            juminhyo_code, attributes = people[n]
            expected = population.figures(service, POPULATION["seed"], juminhyo_code,
                                          attributes)
            mine = httpx.post(f"{mesh}/v1/codes", json={"juminhyo_code": juminhyo_code},
                              headers=inquirer).json()["code"]
            answer = httpx.post(f"{mesh}/v1/inquiries", headers=inquirer, timeout=15, json={
                "record_id": f"it-{name}-{item.key}-{n}", "procedure_code": rule.procedure_code,
                "item_code": item.code, "provider": d.institution.code, "code": mine})
            assert answer.status_code == 200, f"{name} {item.code}: {answer.text}"
            body = answer.json()
            assert body["route"] == d.route and body["status"] == "09"
            [entry] = body["items"]
            assert entry["status"] == "01", f"{name} {item.code}: {entry}"
            assert entry["payload"] == {k: expected[k] for k in item.fields}, (
                f"{name} {item.code} answered {entry['payload']}, the rules give {expected}")
            assert codes[n] not in answer.text and not find_my_numbers(answer.text)
    # Not permitted: an item under a procedure no rule of the definition names.
    stranger = token(data, "mesh-child-allowance")
    mine = httpx.post(f"{mesh}/v1/codes", json={"juminhyo_code": people[0][0]},
                      headers=stranger).json()["code"]
    refused = httpx.post(f"{mesh}/v1/inquiries", headers=stranger, timeout=15, json={
        "record_id": f"it-{name}-refused", "procedure_code": "JT09990000000001",
        "item_code": d.items[0].code, "provider": d.institution.code, "code": mine})
    assert refused.status_code == 403 and refused.json()["message"] == "照会は許可されていません"


def test_each_defined_service_answers_inquiries_through_the_mesh(tmp_path: Path):
    topology = tmp_path / "mesh.yaml"
    data = copy_on_free_ports(MESH_TOPOLOGY, topology)
    mesh = f"http://127.0.0.1:{data['simulators']['mesh']['port']}"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "meshcert.cli", "sim", *args, "--topology",
                               str(topology), "--run-dir", str(tmp_path / "run")],
                              capture_output=True, text=True, timeout=120)

    started = cli("up")
    assert started.returncode == 0, started.stderr
    try:
        for name in SERVICES:
            port = data["simulators"][name]["port"]
            inquire_each_item(data, name, f"http://127.0.0.1:{port}", mesh)
    finally:
        cli("down")
