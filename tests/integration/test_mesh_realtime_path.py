"""Horizontal linkage on the real-time path, over real HTTP between real processes: the
reference resident-tax system (meshcert_simulators/tax/) is seeded (it gets its own 符号 from the
mesh),
the child-allowance institution asks the mesh with its own 符号, and the mesh converts the code
and routes the inquiry to the tax system, which answers from its own data."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from meshcert_simulators.common.identifiers import find_my_numbers, generate_juminhyo_code
from tests.integration.test_mesh_copy_path import MESH_TOPOLOGY, token
from tests.integration.topologies import copy_on_free_ports

pytestmark = pytest.mark.slow
TAX_ITEM = "TM00000000000002"
CHILD_PROC = "JT01010000000214"


def test_a_real_time_inquiry_is_answered_by_the_tax_system(tmp_path: Path):
    topology = tmp_path / "mesh.yaml"
    data = copy_on_free_ports(MESH_TOPOLOGY, topology)
    mesh = f"http://127.0.0.1:{data['simulators']['mesh']['port']}"
    tax = f"http://127.0.0.1:{data['simulators']['tax']['port']}"
    admin = {"Authorization": f"Bearer {data['admin_token']}"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "meshcert.cli", "sim", *args, "--topology",
                               str(topology), "--run-dir", str(tmp_path / "run")],
                              capture_output=True, text=True, timeout=90)

    started = cli("up")
    assert started.returncode == 0, started.stderr
    try:
        person = generate_juminhyo_code(random.Random(17))
        figures = {"tax_year": 2025, "taxable_income": 4_150_000, "income_levy": 415_000,
                   "per_capita_levy": 5000, "dependants": 1}
        seeded = httpx.post(f"{tax}/v1/admin/seed", headers=admin, timeout=15, json={
            "rows": [{"juminhyo_code": person, "figures": figures}]})
        assert seeded.status_code == 200, seeded.text
        [tax_code] = seeded.json()["codes"]

        inquirer = token(data, "mesh-child-allowance")
        mine = httpx.post(f"{mesh}/v1/codes", json={"juminhyo_code": person},
                          headers=inquirer).json()["code"]
        assert mine != tax_code
        answer = httpx.post(f"{mesh}/v1/inquiries", headers=inquirer, timeout=15, json={
            "record_id": "it-realtime-1", "procedure_code": CHILD_PROC, "item_code": TAX_ITEM,
            "provider": "chiyoda-resident-tax", "code": mine})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["route"] == "realtime" and body["status"] == "09"
        [item] = body["items"]
        assert item["status"] == "01"
        assert {k: item["payload"][k] for k in figures} == figures
        assert tax_code not in answer.text and not find_my_numbers(answer.text)

        # The tax system keeps its own art. 23 record of the exchange.
        records = httpx.get(f"{tax}/v1/provision-records",
                            headers=token(data, "mesh-tax-auditor")).json()
        assert "it-realtime-1" in str(records)
    finally:
        cli("down")
