"""An independent downstream system (tests/independent/downstream/, a 印鑑登録 register written
from the profile's text, importing nothing of meshcert_simulators/) is certified the way a
vendor certifies one: its own process, its target file without ``launch`` (no sync trigger, a
restart path, no My Number), and the published harness topology
fixtures/topologies/downstream-system.yaml (a copy on free ports, under a name of its own).

It is certified as written; broken in one way at a time (``--broken``), the certification fails
on exactly the requirement that way belongs to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from meshcert.backends.ports import free_port
from tests.integration.served import serving
from tests.integration.topologies import copy_on_free_ports

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "fixtures" / "topologies" / "downstream-system.yaml"
TARGET = ROOT / "tests" / "independent" / "downstream" / "target.yaml"
KEY = ROOT / "fixtures" / "keys" / "seal-register.private.jwk.json"
BROKEN = {  # the way it is broken → the one requirement that must fail
    "ghost-households": "DOWN-GHOST-001",
    "retry-at-interval": "DOWN-BACKOFF-001",
    "page-start-cursor": "DOWN-APPLY-001",
}


def url(topology: dict, name: str) -> str:
    spec = topology["simulators"][name]
    return f"http://{spec.get('host', '127.0.0.1')}:{spec['port']}"


def certify(tmp_path: Path, broken: str | None) -> tuple[int, dict[str, str], str]:
    """Run the independent system (``broken`` or not) and certify it; (exit status, verdict
    per requirement, output)."""
    topology_path = tmp_path / "topology.yaml"
    topology = copy_on_free_ports(PUBLISHED, topology_path, change=lambda data: data.update(
        name=f"down-vendor-{uuid.uuid4().hex[:8]}"))
    port = free_port()
    target = yaml.safe_load(TARGET.read_text(encoding="utf-8"))
    target["base_url"] = f"http://127.0.0.1:{port}"
    target_path = tmp_path / "target.yaml"
    target_path.write_text(yaml.safe_dump(target, allow_unicode=True), encoding="utf-8")
    command = [sys.executable, "-m", "tests.independent.downstream", "--port", str(port),
               "--db", str(tmp_path / "seal.sqlite3"), "--issuer", url(topology, "authz"),
               "--audience", target["auth"]["audience"],
               "--registry", url(topology, "municipal"), "--lg-code", "131016",
               "--client", target["downstream"]["client"], "--key", str(KEY),
               "--resource", topology["simulators"]["municipal"]["audience"],
               "--interval", str(target["downstream"]["poll_interval_s"]),
               *(["--broken", broken] if broken else [])]
    # Started first, as a vendor's system is: it polls a registry that is not up yet.
    with serving(command, f"{target['base_url']}/health", tmp_path / "downstream.log"):
        run = subprocess.run(
            [sys.executable, "-m", "meshcert.cli", "certify", "--target", str(target_path),
             "--topology", str(topology_path), "--out", str(tmp_path / "report"),
             "--seed", "11"],
            cwd=tmp_path, capture_output=True, text=True, timeout=600,
            env={**os.environ, "COLUMNS": "200",
                 "MESHCERT_SIGNING_KEY": str(tmp_path / "signing-key.pem")})
    output = run.stdout[-4000:] + run.stderr[-2000:]
    certificate = tmp_path / "report" / "certificate.json"
    assert certificate.is_file(), output
    requirements = json.loads(certificate.read_text(encoding="utf-8"))["requirements"]
    return run.returncode, {r["id"]: r["verdict"] for r in requirements}, output


def test_the_independent_downstream_system_is_certified(tmp_path: Path):
    status, verdicts, output = certify(tmp_path, None)
    assert status == 0 and set(verdicts.values()) == {"pass"}, (verdicts, output)


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_each_broken_way_fails_its_requirement(tmp_path: Path, broken: str):
    status, verdicts, output = certify(tmp_path, broken)
    failed = {rid for rid, verdict in verdicts.items() if verdict != "pass"}
    assert status == 1 and failed == {BROKEN[broken]}, (
        f"broken {broken!r} must fail {BROKEN[broken]} only; failed {sorted(failed)}\n{output}")
