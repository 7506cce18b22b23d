"""`meshcert sim up|status|logs|down --backend docker` against a real engine, as a user runs
them: what up makes, what down removes (and what it leaves alone), state across down and up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import docker
import docker.errors
import httpx
import pytest
import yaml

from meshcert.backends import containers
from meshcert_suites.resident_registry.builders import move_in, person
from tests.conftest import access_entries
from tests.containers.conftest import unique, write_topology

pytestmark = [pytest.mark.containers, pytest.mark.slow]
PORTS = {"municipal": 19101, "authz": 19100}
LG = "131016"


def cli(topology: Path, run_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meshcert.cli", "sim", *args, "--topology", str(topology),
         "--run-dir", str(run_dir)],
        capture_output=True, text=True, timeout=180, env={**os.environ, "COLUMNS": "200", **env})


def clerk(topology: Path) -> dict[str, str]:
    raw = yaml.safe_load(topology.read_text(encoding="utf-8"))
    token = next(c["token"] for c in raw["clients"] if c["id"] == "demo-clerk")
    return {"Authorization": f"Bearer {token}"}


def test_up_status_logs_down_make_and_remove_exactly_the_meshs_resources(
        engine: docker.DockerClient, tmp_path: Path, cleanup: list) -> None:
    name = unique("ct-sim")
    topology = write_topology(tmp_path, name, PORTS)
    run = tmp_path / "run"
    cleanup.append((run, name))
    # Someone else's things on the same engine, one of them even named like ours would be.
    decoy = engine.containers.create(containers.default_image(), name=f"{name}-decoy",
                                     labels={"meshcert.topology": "someone-else"})
    decoy_volume = engine.volumes.create(f"{name}-decoy-data")
    try:
        started = cli(topology, run, "up", "--backend", "docker")
        assert started.returncode == 0, started.stderr
        assert "meshcert-" in started.stdout and "started" in started.stdout

        # One container per simulator, as planned, ports on 127.0.0.1 only, on its network.
        plan = containers.make_plan(topology)
        for item in plan.containers:
            made = engine.containers.get(item.name)
            assert item.labels.items() <= made.labels.items()
            assert made.attrs["Config"]["User"] == "10001:10001"
            bindings = made.attrs["HostConfig"]["PortBindings"]
            assert bindings == {f"{item.port}/tcp": [{"HostIp": "127.0.0.1",
                                                       "HostPort": str(item.port)}]}
            assert list(made.attrs["NetworkSettings"]["Networks"]) == [plan.network]
            env = dict(e.split("=", 1) for e in made.attrs["Config"]["Env"])
            assert {k: env[k] for k in item.environment} == item.environment
            [mount] = made.attrs["Mounts"]
            assert (mount["Type"], mount["Name"]) == ("volume", item.volume)

        # State written through the published port survives down and up (named volume).
        url = f"http://127.0.0.1:{PORTS['municipal']}"
        written = httpx.post(f"{url}/municipalities/{LG}/movements", headers=clerk(topology),
                             json=move_in(person("河野", "実", kana=("コウノ", "ミノル"))),
                             timeout=15)
        assert written.status_code == 201, written.text
        atena = written.json()["affected"][0]["atena_number"]

        # The image's own HEALTHCHECK (GET /health from inside) turns healthy too.
        deadline = time.monotonic() + 40
        while {engine.containers.get(c.name).attrs["State"]["Health"]["Status"]
               for c in plan.containers} != {"healthy"}:
            assert time.monotonic() < deadline, "the engine never saw the containers healthy"
            time.sleep(1)
        status = cli(topology, run, "status", "--backend", "docker")
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("healthy") >= 4  # engine health and GET /health, each

        logs = cli(topology, run, "logs", "municipal", "--backend", "docker", "--tail", "50")
        assert logs.returncode == 0, logs.stderr
        assert any(e.get("path") == f"/municipalities/{LG}/movements"
                   for e in access_entries(logs.stdout))

        stopped = cli(topology, run, "down", "--backend", "docker")
        assert stopped.returncode == 0, stopped.stderr
        labelled = {"label": f"meshcert.topology={name}"}
        assert engine.containers.list(all=True, filters=labelled) == []
        assert engine.networks.list(filters=labelled) == []
        assert {v.name for v in engine.volumes.list(filters=labelled)} == {
            c.volume for c in plan.containers}  # data kept
        assert "output of container" in (run / "municipal.log").read_text(encoding="utf-8")
        decoy.reload()
        engine.volumes.get(decoy_volume.name)  # still there

        again = cli(topology, run, "up", "--backend", "docker")
        assert again.returncode == 0, again.stderr
        read = httpx.get(f"{url}/municipalities/{LG}/residents/{atena}",
                         headers=clerk(topology), timeout=15)
        assert read.status_code == 200 and read.json()["name"]["surname"] == "河野"

        # A stopped simulator is reported, and status says so in its exit code.
        engine.containers.get(f"meshcert-{name}-authz").stop(timeout=5)
        unhealthy = cli(topology, run, "status", "--backend", "docker")
        assert unhealthy.returncode == 1
        assert "exited" in unhealthy.stdout

        purged = cli(topology, run, "down", "--backend", "docker", "--volumes")
        assert purged.returncode == 0, purged.stderr
        assert engine.volumes.list(filters=labelled) == []
        decoy.reload()
        engine.volumes.get(decoy_volume.name)
    finally:
        decoy.remove(force=True, v=True)
        decoy_volume.remove(force=True)


def test_a_missing_image_is_a_configuration_error_naming_the_build_command(
        engine: docker.DockerClient, tmp_path: Path) -> None:
    name = unique("ct-noimage")
    topology = write_topology(tmp_path, name, {"municipal": 19111, "authz": 19110})
    result = cli(topology, tmp_path / "run", "up", "--backend", "docker",
                 MESHCERT_IMAGE="meshcert:no-such-tag")
    assert result.returncode == 2
    assert "meshcert:no-such-tag is not in the Docker engine" in result.stderr
    assert "meshcert image build" in result.stderr
    assert engine.containers.list(all=True, filters={"label": f"meshcert.topology={name}"}) == []


def test_no_reachable_engine_is_a_configuration_error_not_a_traceback(tmp_path: Path) -> None:
    # Needs no engine: it points the SDK at a socket where none listens.
    topology = write_topology(tmp_path, unique("ct-noengine"),
                              {"municipal": 19121, "authz": 19120})
    for command in (("up",), ("status",), ("down",)):
        result = cli(topology, tmp_path / "run", *command, "--backend", "docker",
                     DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock")
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "meshcert: error: no Docker engine is reachable" in result.stderr
        assert "Traceback" not in result.stderr


def test_image_build_says_first_when_no_engine_answers(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "meshcert.cli", "image", "build", "--wheelhouse",
         str(tmp_path / "wheels")],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert result.returncode == 2
    assert "no Docker engine is reachable" in result.stderr
    assert not (tmp_path / "wheels").exists()  # nothing slow was started


def test_image_build_names_the_offline_base_when_the_base_image_is_missing(
        engine: docker.DockerClient, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "meshcert.cli", "image", "build", "--base-image",
         "meshcert-base:no-such-release", "--wheelhouse", str(tmp_path / "wheels")],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "meshcert-base:no-such-release is not in the Docker engine" in result.stderr
    assert "docker/make-base-image.sh" in result.stderr
