"""The full demo certification with the simulators as containers: `meshcert certify` of the
bundled reference registry with `--backend docker` — TLS from the run's local CA, JWT access
tokens from the authz container — certifies it, and leaves nothing behind on the engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import docker
import pytest

from tests.conftest import access_entries

pytestmark = [pytest.mark.containers, pytest.mark.slow]
PROJECT = Path(__file__).resolve().parents[2]
REFERENCE = PROJECT / "fixtures" / "vendors" / "reference-registry.yaml"


def test_the_reference_registry_is_certified_against_simulators_in_containers(
        engine: docker.DockerClient, tmp_path: Path) -> None:
    report = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "-m", "meshcert.cli", "certify", "--target", str(REFERENCE),
         "--backend", "docker", "--out", str(report), "--signing-key", str(tmp_path / "key.pem")],
        capture_output=True, text=True, timeout=600, cwd=PROJECT,
        env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Certified" in result.stdout

    certificate = json.loads((report / "certificate.json").read_text(encoding="utf-8"))
    verdicts = {r["id"]: r["verdict"] for r in certificate["requirements"]}
    assert verdicts and set(verdicts.values()) == {"pass"}

    # The simulators' output came from their containers, kept in the report.
    for simulator in ("municipal", "authz"):
        log = (report / "logs" / f"{simulator}.log").read_text(encoding="utf-8")
        assert "output of container meshcert-certify-" in log
        assert any(e.get("status") == 200 for e in access_entries(log))
    # Nothing of the run is left: its containers, network and volumes carry its topology.
    log = (report / "logs" / "municipal.log").read_text(encoding="utf-8")
    container = log.split("output of container ", 1)[1].split(",", 1)[0]
    run_topology = container.removeprefix("meshcert-").removesuffix("-municipal")
    assert run_topology.startswith("certify-2"), run_topology
    labelled = {"label": f"meshcert.topology={run_topology}"}
    assert engine.containers.list(all=True, filters=labelled) == []
    assert engine.networks.list(filters=labelled) == []
    assert engine.volumes.list(filters=labelled) == []
