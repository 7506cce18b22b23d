"""The account registry behind the mesh, over real HTTP between real processes: a benefit agency
queries a holder's account through the mesh on the copy path, the registry records the query for
the person, and the record is still there after the simulators are stopped and started again."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from meshcert_simulators.common.identifiers import find_my_numbers, generate_juminhyo_code
from meshcert_simulators.fixtures import fixture_path
from tests.integration.topologies import copy_on_free_ports

pytestmark = pytest.mark.slow
TOPOLOGY = fixture_path("topologies", "benefit-payout.yaml")
ITEM = "TM00000000000089"


def test_a_payout_query_through_the_mesh_is_recorded_and_survives_a_restart(tmp_path: Path):
    topology = tmp_path / "benefit-payout.yaml"
    data = copy_on_free_ports(TOPOLOGY, topology)
    url = {n: f"http://127.0.0.1:{s['port']}" for n, s in data["simulators"].items()}
    token = {c["id"]: {"Authorization": f"Bearer {c['token']}"} for c in data["clients"]}
    admin = {"Authorization": f"Bearer {data['admin_token']}"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "meshcert.cli", "sim", *args, "--topology",
                               str(topology), "--run-dir", str(tmp_path / "run")],
                              capture_output=True, text=True, timeout=90)

    started = cli("up")
    assert started.returncode == 0, started.stderr
    try:
        person = generate_juminhyo_code(random.Random(14))
        seeded = httpx.post(f"{url['accounts']}/_meshcert/accounts/seed", headers=admin, json={
            "rows": [{"juminhyo_code": person, "bank_code": "0009", "branch_code": "100",
                      "account_type": "普通", "account_number": "7654321",
                      "holder_kana": "ヤマダ　タロウ", "phone": "08012345678",
                      "email": "yamada@example.jp"}]})
        assert seeded.status_code == 200, seeded.text
        agency = token["mesh-benefit-agency"]
        code = httpx.post(f"{url['mesh']}/v1/codes", json={"juminhyo_code": person},
                          headers=agency).json()["code"]
        answer = httpx.post(f"{url['mesh']}/v1/inquiries", headers=agency, timeout=15, json={
            "record_id": "it-payout-1", "procedure_code": "JT01030000000125",
            "item_code": ITEM, "provider": "public-fund-registry", "code": code})
        assert answer.status_code == 200, answer.text
        [item] = answer.json()["items"]
        assert (answer.json()["route"], item["status"]) == ("copy", "01")
        assert item["payload"]["account_number"] == "7654321"
        assert not find_my_numbers(answer.text)

        assert cli("down").returncode == 0
        assert cli("up").returncode == 0
        records = httpx.get(f"{url['accounts']}/v1/records", params={"person": person},
                            headers=token["portal"]).json()["records"]
        assert [(r["record_id"], r["outcome"]) for r in records] == [("it-payout-1", "provided")]
    finally:
        cli("down")
