"""The copy path fed by J-LIS's batch sync, over real processes: the registry's records become
the municipality's copies under its real 符号 (asked of the mesh), a mesh inquiry on the copy
route reaches them — and tells the old address until the next sync is published, the
staleness the real-time path removes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from meshcert_simulators.common.identifiers import find_my_numbers
from meshcert_suites.resident_registry.builders import ADDRESS, move_in, movement, person
from tests.integration.topologies import copy_on_free_ports

pytestmark = pytest.mark.slow
MESH_TOPOLOGY = Path(__file__).resolve().parents[2] / "fixtures" / "topologies" / "mesh.yaml"
LG = "131016"
RESIDENT_ITEM = "TM00000000000001"
DELAY_S = 2


def test_synced_copies_answer_mesh_inquiries_and_lag_behind_the_registry(tmp_path: Path):
    topology = tmp_path / "mesh.yaml"
    data = copy_on_free_ports(MESH_TOPOLOGY, topology)
    url = {name: f"http://127.0.0.1:{spec['port']}" for name, spec in data["simulators"].items()}
    tokens = {c["id"]: {"Authorization": f"Bearer {c['token']}"} for c in data["clients"]
              if "token" in c}
    admin = {"Authorization": f"Bearer {data['admin_token']}"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "meshcert.cli", "sim", *args, "--topology",
                               str(topology), "--run-dir", str(tmp_path / "run")],
                              capture_output=True, text=True, timeout=90,
                              env={**os.environ, "MESHCERT_JLIS_SYNC_DELAY_S": str(DELAY_S)})

    started = cli("up")
    assert started.returncode == 0, started.stderr
    try:
        family = httpx.post(f"{url['municipal']}/municipalities/{LG}/movements", headers=admin,
                            json=move_in(person("佐藤", "花子", "02", kana=("サトウ", "ハナコ"),
                                                sex="2")), timeout=15)
        assert family.status_code == 201, family.text
        [head] = family.json()["affected"]
        jumin = head["juminhyo_code"]

        def sync() -> dict:
            answer = httpx.post(f"{url['jlis']}/v1/sync", headers=admin, timeout=30)
            assert answer.status_code == 200, answer.text
            [summary] = answer.json()["municipalities"]
            return summary

        first = sync()
        assert (first["institution"], first["registered"]) == ("mesh-chiyoda-residents", 1)

        inquirer = tokens["mesh-benefit-agency"]
        code = httpx.post(f"{url['mesh']}/v1/codes", json={"juminhyo_code": jumin},
                          headers=inquirer).json()["code"]

        def ask() -> dict:
            answer = httpx.post(f"{url['mesh']}/v1/inquiries", headers=inquirer, timeout=15,
                                json={"record_id": f"sync-{uuid.uuid4().hex[:12]}",
                                      "procedure_code": "JT01030000000125",
                                      "item_code": RESIDENT_ITEM,
                                      "provider": "chiyoda-residents", "code": code})
            assert answer.status_code == 200, answer.text
            assert not find_my_numbers(answer.text)
            assert answer.json()["route"] == "copy"
            return answer.json()["items"][0]

        assert ask()["status"] == "02"  # pulled, not yet published
        time.sleep(DELAY_S + 0.5)
        served = ask()
        assert served["status"] == "01"
        assert served["payload"]["resident"]["juminhyo_code"] == jumin
        old_banchi = served["payload"]["resident"]["address"]["banchi"]

        moved = httpx.post(f"{url['municipal']}/municipalities/{LG}/movements", headers=admin,
                           json=movement("move-within", setai_number=head["setai_number"],
                                         address={**ADDRESS, "banchi": "9-9"}), timeout=15)
        assert moved.status_code == 201, moved.text
        assert sync()["registered"] == 1
        # The registry says 9-9; the copy path still tells the old address until published.
        assert ask()["payload"]["resident"]["address"]["banchi"] == old_banchi != "9-9"
        time.sleep(DELAY_S + 0.5)
        assert ask()["payload"]["resident"]["address"]["banchi"] == "9-9"
    finally:
        cli("down")
