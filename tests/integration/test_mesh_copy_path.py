"""Horizontal linkage on the copy path, over real HTTP between real processes: a provider
registers a copy (副本) at the J-LIS intermediate server under its own 符号, an inquirer asks the
mesh with its own 符号, and the mesh converts the code and routes the inquiry to J-LIS."""

from __future__ import annotations

import random
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from meshcert_simulators.common.identifiers import find_my_numbers, generate_juminhyo_code
from tests.integration.topologies import copy_on_free_ports

pytestmark = pytest.mark.slow
MESH_TOPOLOGY = Path(__file__).resolve().parents[2] / "fixtures" / "topologies" / "mesh.yaml"
PUBLIC_FUND_ACCOUNT = "TM00000000000089"


def token(data: dict, client: str) -> dict[str, str]:
    found = next(c["token"] for c in data["clients"] if c["id"] == client)
    return {"Authorization": f"Bearer {found}"}


def test_an_inquiry_on_the_copy_path_is_answered_from_the_registered_copy(tmp_path: Path):
    topology = tmp_path / "mesh.yaml"
    data = copy_on_free_ports(MESH_TOPOLOGY, topology)
    mesh = f"http://127.0.0.1:{data['simulators']['mesh']['port']}"
    jlis = f"http://127.0.0.1:{data['simulators']['jlis']['port']}"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "meshcert.cli", "sim", *args, "--topology",
                               str(topology), "--run-dir", str(tmp_path / "run")],
                              capture_output=True, text=True, timeout=90)

    started = cli("up")
    assert started.returncode == 0, started.stderr
    try:
        person = generate_juminhyo_code(random.Random(7))  # a valid 住民票コード
        provider = token(data, "mesh-public-fund-registry")
        inquirer = token(data, "mesh-benefit-agency")
        provider_code = httpx.post(f"{mesh}/v1/codes", json={"juminhyo_code": person},
                                   headers=provider).json()["code"]
        inquirer_code = httpx.post(f"{mesh}/v1/codes", json={"juminhyo_code": person},
                                   headers=inquirer).json()["code"]
        assert provider_code != inquirer_code

        account = {"bank_code": "0001", "branch_code": "001", "account_type": "普通",
                   "account_number": "1234567", "holder_kana": "ヤマダ タロウ"}
        registered = httpx.put(
            f"{jlis}/v1/copies/mesh-public-fund-registry/{provider_code}/{PUBLIC_FUND_ACCOUNT}",
            json={"data_set_key": "account", "version": 1,
                  "publication_start": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                  "publication_end": None, "payload": account},
            headers=provider)
        assert registered.status_code in (200, 201), registered.text

        record_id = f"it-{uuid.uuid4().hex[:12]}"
        answer = httpx.post(f"{mesh}/v1/inquiries", headers=inquirer, timeout=15, json={
            "record_id": record_id, "procedure_code": "JT01030000000125",
            "item_code": PUBLIC_FUND_ACCOUNT, "provider": "public-fund-registry",
            "code": inquirer_code})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["route"] == "copy" and body["status"] == "09"
        [item] = body["items"]
        assert (item["status"], item["payload"]) == ("01", account)
        assert provider_code not in answer.text and not find_my_numbers(answer.text)

        # Both sides keep an art. 23 record of the exchange.
        mesh_records = httpx.get(f"{mesh}/v1/provision-records", params={"code": inquirer_code},
                                 headers=inquirer).json()
        assert record_id in str(mesh_records)
        jlis_records = httpx.get(f"{jlis}/v1/provision-records",
                                 headers=token(data, "mesh-jlis-auditor")).json()
        assert record_id in str(jlis_records)
    finally:
        cli("down")
