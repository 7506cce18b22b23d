"""The container tests' small mesh (faults.yaml): started as containers under a name and
ports of the test's own, with what a test needs to talk to it."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from meshcert.backends import containers
from meshcert.backends.processes import check_health
from meshcert_simulators.common.identifiers import generate_juminhyo_code
from tests.containers.conftest import unique, write_topology

FAULTS_TOPOLOGY = Path(__file__).with_name("faults.yaml")
LG = "131016"
TAX_ITEM = "TM00000000000002"
CHILD_PROCEDURE = "JT01010000000214"
INQUIRER = "mesh-child-allowance"
PROVIDER = "chiyoda-resident-tax"


@dataclass(frozen=True)
class ContainerMesh:
    name: str
    topology: Path
    run_dir: Path
    urls: dict[str, str]
    tokens: dict[str, str]

    def auth(self, client: str) -> dict[str, str]:
        token = self.tokens["admin"] if client == "admin" else self.tokens[client]
        return {"Authorization": f"Bearer {token}"}

    def container(self, simulator: str):  # type: ignore[no-untyped-def]
        return containers.container_of(self.name, simulator)

    def wait_healthy(self, simulator: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not check_health(self.urls[simulator], simulator, timeout=1)[0]:
            assert time.monotonic() < deadline, f"{simulator} not healthy in {timeout} s"
            time.sleep(0.2)


def start_mesh(folder: Path, prefix: str, first_port: int) -> ContainerMesh:
    """faults.yaml as containers: municipal, mesh and tax on first_port, +1, +2."""
    name = unique(prefix)
    ports = {"municipal": first_port, "mesh": first_port + 1, "tax": first_port + 2}
    topology = write_topology(folder, name, ports, source=FAULTS_TOPOLOGY)
    run_dir = folder / "run"
    containers.up(topology, run_dir)
    raw = yaml.safe_load(topology.read_text(encoding="utf-8"))
    tokens = {c["id"]: c["token"] for c in raw["clients"]} | {"admin": raw["admin_token"]}
    return ContainerMesh(name, topology, run_dir,
                         {sim: f"http://127.0.0.1:{port}" for sim, port in ports.items()},
                         tokens)


def seed_taxpayer(mesh: ContainerMesh, seed: int) -> str:
    """A person known to the tax provider; returns the inquirer's own 符号 for them (the tax
    system fetched its own from the mesh: a call between containers)."""
    person = generate_juminhyo_code(random.Random(seed))
    figures = {"tax_year": 2025, "taxable_income": 3_200_000, "income_levy": 320_000,
               "per_capita_levy": 5000, "dependants": 0}
    seeded = httpx.post(f"{mesh.urls['tax']}/v1/admin/seed", headers=mesh.auth("admin"),
                        json={"rows": [{"juminhyo_code": person, "figures": figures}]},
                        timeout=30)
    assert seeded.status_code == 200, seeded.text
    issued = httpx.post(f"{mesh.urls['mesh']}/v1/codes", json={"juminhyo_code": person},
                        headers=mesh.auth(INQUIRER), timeout=15)
    assert issued.status_code in (200, 201), issued.text
    return str(issued.json()["code"])


def inquiry(code: str, record_id: str) -> dict[str, str]:
    return {"record_id": record_id, "procedure_code": CHILD_PROCEDURE, "item_code": TAX_ITEM,
            "provider": PROVIDER, "code": code}
