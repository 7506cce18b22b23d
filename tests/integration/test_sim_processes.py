"""`meshcert sim up/status/down` with real processes on free loopback ports."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest

from meshcert_simulators.common.topology import DEFAULT_TOPOLOGY
from tests.conftest import access_entries
from tests.integration.topologies import copy_on_free_ports

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Mesh:
    topology: Path
    run_dir: Path
    url: str
    clerk_token: str

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run ``meshcert <args> --topology T --run-dir R`` as a user would."""
        return subprocess.run(
            [sys.executable, "-m", "meshcert.cli", *args, "--topology", str(self.topology),
             "--run-dir", str(self.run_dir)],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "COLUMNS": "200", **env})

    def pid(self) -> int:
        return int((self.run_dir / "municipal.pid").read_text().strip())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


@pytest.fixture
def mesh(tmp_path: Path) -> Iterator[Mesh]:
    # A copy elsewhere: key paths made absolute, every simulator on a free port.
    topology = tmp_path / "topology.yaml"
    data = copy_on_free_ports(DEFAULT_TOPOLOGY, topology)
    port = data["simulators"]["municipal"]["port"]
    clerk = next(c["token"] for c in data["clients"] if "registry:write" in c["roles"])
    mesh = Mesh(topology, tmp_path / "run", f"http://127.0.0.1:{port}", clerk)
    yield mesh
    mesh.cli("sim", "down")  # whatever a test left running


def test_up_serves_health_status_sees_it_and_a_second_up_reuses_it(mesh: Mesh) -> None:
    started = mesh.cli("sim", "up")
    assert started.returncode == 0, started.stderr
    assert mesh.url in started.stdout
    health = httpx.get(f"{mesh.url}/health", timeout=5)
    assert health.status_code == 200
    assert health.json()["simulator"] == "municipal"
    for name in ("municipal.pid", "municipal.port", "municipal.log", "data"):
        assert (mesh.run_dir / name).exists(), name

    status = mesh.cli("sim", "status")
    assert status.returncode == 0, status.stdout
    assert "healthy" in status.stdout
    assert str(mesh.pid()) in status.stdout

    pid = mesh.pid()
    again = mesh.cli("sim", "up")
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout
    assert mesh.pid() == pid
    # The access log is JSON, a line per request, in the run folder.
    logged = access_entries((mesh.run_dir / "municipal.log").read_text())
    assert any(e.get("path") == "/health" and e.get("status") == 200 for e in logged)


def test_data_written_survives_down_and_up(mesh: Mesh) -> None:
    assert mesh.cli("sim", "up").returncode == 0
    auth = {"Authorization": f"Bearer {mesh.clerk_token}"}
    today = date.today().isoformat()
    moved_in = httpx.post(f"{mesh.url}/municipalities/131016/movements", headers=auth,
                          timeout=10, json={"movement": {
        "kind": "move-in", "event_id": "it-persist-1", "event_date": today,
        "notified_date": today,
        "address": {"lg_code": "131016", "prefecture": "東京都", "city": "千代田区",
                    "town": "丸の内一丁目", "banchi": "1-1"},
        "persons": [{"name": {"surname": "試験", "given_name": "花子",
                              "surname_kana": "シケン", "given_name_kana": "ハナコ"},
                     "sex": "2", "birth_date": {"iso": "1990-04-01"},
                     "relationship": "02"}]}})
    assert moved_in.status_code == 201, moved_in.text
    atena = moved_in.json()["affected"][0]["atena_number"]
    first_pid = mesh.pid()

    stopped = mesh.cli("sim", "down")
    assert stopped.returncode == 0
    assert "stopped" in stopped.stdout
    assert not alive(first_pid)
    assert not (mesh.run_dir / "municipal.pid").exists()
    assert mesh.cli("sim", "status").returncode == 1

    assert mesh.cli("sim", "up").returncode == 0
    read = httpx.get(f"{mesh.url}/municipalities/131016/residents/{atena}", headers=auth,
                     timeout=10)
    assert read.status_code == 200
    assert read.json()["name"]["given_name"] == "花子"


def test_down_never_kills_a_process_that_is_not_its_simulator(mesh: Mesh) -> None:
    mesh.run_dir.mkdir(parents=True)
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        (mesh.run_dir / "municipal.pid").write_text(f"{stranger.pid}\n")
        result = mesh.cli("sim", "down")
        assert result.returncode == 0
        assert "left alone" in result.stdout
        assert stranger.poll() is None
        assert not (mesh.run_dir / "municipal.pid").exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_a_simulator_that_dies_while_starting_is_reported_with_its_log(mesh: Mesh) -> None:
    # An invalid setting makes the simulator exit before it listens.
    result = mesh.cli("sim", "up", MESHCERT_SQLITE_SYNCHRONOUS="bogus")
    assert result.returncode == 1
    # Every simulator of the topology reads the setting; whichever exits first is named.
    assert "exited with status 2 while starting" in result.stderr
    assert "SYNCHRONOUS must be one of" in result.stderr  # the tail of its log
    assert not (mesh.run_dir / "municipal.pid").exists()
