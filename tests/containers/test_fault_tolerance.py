"""Kill simulator containers in the middle of a run of writes, start them again: no record
that was acknowledged is lost — movements, their audit entries, the mesh's provision records —
and the run goes on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from meshcert.backends import containers
from meshcert_suites.resident_registry.builders import move_in, person
from tests.containers.mesh_support import (
    LG,
    ContainerMesh,
    inquiry,
    seed_taxpayer,
    start_mesh,
)

pytestmark = [pytest.mark.containers, pytest.mark.slow]


@pytest.fixture
def mesh(engine: object, tmp_path: Path) -> Iterator[ContainerMesh]:
    started = start_mesh(tmp_path, "ct-faults", 19301)
    try:
        yield started
    finally:
        containers.down(started.run_dir, topology=started.name, volumes=True)


class Writer(threading.Thread):
    """Writes without pause: a move-in at the registry and an inquiry at the mesh per round.
    Keeps what was acknowledged (201/200) and counts what failed (refused, reset, 5xx)."""

    def __init__(self, mesh: ContainerMesh, code: str) -> None:
        super().__init__(daemon=True)
        self.mesh, self.code = mesh, code
        self.movements: list[str] = []     # atena numbers of acknowledged move-ins
        self.inquiries: list[str] = []     # record ids of acknowledged inquiries
        self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=5) as http:
            round_no = 0
            while not self.stop.is_set():
                round_no += 1
                self._move_in(http, round_no)
                self._inquire(http, round_no)

    def _move_in(self, http: httpx.Client, n: int) -> None:
        body = move_in(person("耐障", f"太郎{n}"), event_id=f"ct-move-{n}")
        try:
            answer = http.post(f"{self.mesh.urls['municipal']}/municipalities/{LG}/movements",
                               json=body, headers=self.mesh.auth("demo-clerk"))
        except httpx.HTTPError:
            self.failures += 1
            return
        if answer.status_code == 201:
            self.movements.append(answer.json()["affected"][0]["atena_number"])
        else:
            self.failures += 1

    def _inquire(self, http: httpx.Client, n: int) -> None:
        try:
            answer = http.post(f"{self.mesh.urls['mesh']}/v1/inquiries",
                               json=inquiry(self.code, f"ct-inq-{n}"),
                               headers=self.mesh.auth("mesh-child-allowance"))
        except httpx.HTTPError:
            self.failures += 1
            return
        if answer.status_code == 200:
            self.inquiries.append(f"ct-inq-{n}")
        else:
            self.failures += 1

    def wait_for(self, movements: int, inquiries: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.movements) < movements or len(self.inquiries) < inquiries:
            assert self.is_alive() and time.monotonic() < deadline, (
                f"only {len(self.movements)} movements and {len(self.inquiries)} inquiries "
                f"acknowledged ({self.failures} failures)")
            time.sleep(0.05)


def test_no_acknowledged_record_is_lost_when_containers_are_killed_mid_run(
        mesh: ContainerMesh) -> None:
    code = seed_taxpayer(mesh, seed=23)
    writer = Writer(mesh, code)
    writer.start()
    try:
        writer.wait_for(movements=15, inquiries=15)
        # SIGKILL, not a stop: no shutdown hook runs, whatever was not committed is gone.
        for simulator in ("municipal", "mesh"):
            mesh.container(simulator).kill()
        acknowledged_before = (len(writer.movements), len(writer.inquiries))
        failures_before = writer.failures
        time.sleep(1.5)
        assert writer.failures > failures_before, "writes went on while the simulators were down"
        for simulator in ("municipal", "mesh"):
            mesh.container(simulator).start()
        for simulator in ("municipal", "mesh"):
            mesh.wait_healthy(simulator)
        # The run continues: new writes are acknowledged after the restart.
        writer.wait_for(movements=acknowledged_before[0] + 10,
                        inquiries=acknowledged_before[1] + 10)
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert writer.failures > 0

    clerk = mesh.auth("demo-clerk")
    with httpx.Client(base_url=mesh.urls["municipal"], headers=clerk, timeout=15) as registry:
        logged: set[str] = set()
        after = 0
        while True:  # the whole log, page by page (the reads below add to it)
            page = registry.get(f"/municipalities/{LG}/audit-log",
                                params={"limit": 1000, "after": after}).json()
            logged |= {e["target"] for e in page["entries"] if e["action"] == "resident.move-in"}
            if not page["has_more"]:
                break
            after = page["entries"][-1]["seq"]
        assert set(writer.movements) <= logged, "acknowledged writes missing from the audit log"
        for atena in writer.movements:
            assert registry.get(f"/municipalities/{LG}/residents/{atena}").status_code == 200, (
                f"acknowledged move-in {atena} is lost")
        verification = registry.get(f"/municipalities/{LG}/audit-log/verification").json()
        assert verification["valid"], verification

    records = httpx.get(f"{mesh.urls['mesh']}/v1/provision-records", params={"code": code},
                        headers=mesh.auth("mesh-child-allowance"), timeout=15)
    assert records.status_code == 200, records.text
    recorded = {r["record_id"] for r in records.json()["records"]}
    assert set(writer.inquiries) <= recorded, "acknowledged inquiries without provision record"
