"""A fifth area is one folder of data: `meshcert service new` scaffolds a definition in a
temporary folder, the test edits it as a service designer would (its own item, fields and
rules), `meshcert service contract` and `check` pass, and a topology naming only that folder
runs it beside the mesh as real processes — the mesh answers an inquiry for the new item from
the new simulator, under the legal basis the folder states. No code changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from meshcert.backends.ports import assign_free_ports
from meshcert_simulators.service import population
from meshcert_simulators.service.definition import load
from tests.integration.test_mesh_copy_path import MESH_TOPOLOGY, token
from tests.integration.topologies import copy_on_free_ports

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
ITEM = "TM00000000000051"  # 就学援助関係情報 (assumed, as the new area's designer would)


def meshcert(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshcert.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})


def design(folder: Path) -> None:
    """What a designer of 就学援助 (school-expense aid) writes into the scaffold."""
    path = folder / "service.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["title"] = {"ja": "就学援助", "en": "School expense aid"}
    raw["variables"] = {"income": "draw(0, 6000000, 1000)",
                        "pupils": "household_children"}
    raw["items"] = [{
        "code": ITEM, "key": "aid", "assumed": True,
        "title": {"ja": "就学援助関係情報", "en": "School expense aid"},
        "fields": {
            "eligible": {"type": "boolean", "title": {"ja": "認定", "en": "Approved"},
                         "rule": "pupils >= 1 and income < 2500000 + 500000 * household_size"},
            "pupils_aided": {"type": "integer", "min": 0, "max": 10,
                             "title": {"ja": "援助対象児童数", "en": "Pupils aided"},
                             "rule": "min(pupils, 10) if eligible else 0"},
            "category": {"type": "enum", "values": ["要保護", "準要保護", "非該当"],
                         "title": {"ja": "区分", "en": "Category"},
                         "rule": "'非該当' if not eligible else "
                                 "('要保護' if income < 1000000 else '準要保護')"}}}]
    raw["legal_basis"][0]["items"] = [ITEM]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_new_area_from_a_folder_of_data_answers_through_the_mesh(tmp_path: Path):
    folder = tmp_path / "services" / "gakko"
    made = meshcert("service", "new", "gakko", "--dir", str(folder.parent))
    assert made.returncode == 0, made.stderr
    design(folder)
    stale = meshcert("service", "check", str(folder))
    assert stale.returncode == 2 and "openapi.json: differs" in stale.stderr, stale.stderr
    assert meshcert("service", "contract", str(folder)).returncode == 0
    checked = meshcert("service", "check", str(folder))
    assert checked.returncode == 0, checked.stderr

    def only_the_new_area(data: dict) -> None:
        kept = {"mesh", "authz"}
        data["simulators"] = {n: s for n, s in data["simulators"].items() if n in kept}
        data["simulators"]["gakko"] = {"kind": "service", "service": str(folder),
                                       "host": "127.0.0.1"}
        assign_free_ports(data["simulators"])  # all three on different ports
        data["institutions"] = [i for i in data["institutions"]
                                if i.get("simulator") in (None, *kept)]

    topology = tmp_path / "mesh.yaml"
    data = copy_on_free_ports(MESH_TOPOLOGY, topology, only_the_new_area)
    mesh = f"http://127.0.0.1:{data['simulators']['mesh']['port']}"
    gakko = f"http://127.0.0.1:{data['simulators']['gakko']['port']}"

    def sim(*args: str) -> subprocess.CompletedProcess[str]:
        return meshcert("sim", *args, "--topology", str(topology), "--run-dir",
                        str(tmp_path / "run"))

    started = sim("up")
    assert started.returncode == 0, started.stderr
    try:
        seeded = httpx.post(f"{gakko}/v1/admin/seed", timeout=60, json={"population": {
            "lg_code": "131016", "persons": 30, "seed": 2}},
            headers={"Authorization": f"Bearer {data['admin_token']}"})
        assert seeded.status_code == 200, seeded.text
        service = load(folder)
        people = list(population.persons("131016", 30, 2))
        # A person with children, whose answer says more than "not eligible".
        n, (key, attributes) = next((n, p) for n, p in enumerate(people)
                                    if p[1]["household_children"] >= 1)
        want = population.figures(service, 2, key, attributes)
        inquirer = token(data, "mesh-benefit-agency")
        mine = httpx.post(f"{mesh}/v1/codes", json={"juminhyo_code": key},
                          headers=inquirer).json()["code"]
        answer = httpx.post(f"{mesh}/v1/inquiries", headers=inquirer, timeout=15, json={
            "record_id": "it-gakko-1", "procedure_code": "JT01030000000125",
            "item_code": ITEM, "provider": "chiyoda-gakko", "code": mine})
        assert answer.status_code == 200, answer.text
        [entry] = answer.json()["items"]
        assert entry["status"] == "01" and entry["payload"] == want
        assert seeded.json()["codes"][n] not in answer.text
    finally:
        sim("down")
