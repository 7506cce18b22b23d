"""An independent relying party (tests/independent/private_service/, written from OpenID
Connect, the gateway's contract and the catalog's RP-* text, importing nothing of
meshcert_simulators/) is certified the way a vendor certifies a system: its own process, its
target file without ``launch`` (tests/independent/private_service/target.yaml, here with the
port it got) and the published harness topology fixtures/topologies/private-service.yaml (a
copy on free ports).

It is certified as written; broken in one class at a time (``--broken``), the certification
fails on exactly the requirement that class belongs to."""

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
HERE = ROOT / "tests" / "independent" / "private_service"
PUBLISHED = ROOT / "fixtures" / "topologies" / "private-service.yaml"
BROKEN = {  # the class broken → the one requirement that must fail
    "nonce-unchecked": "RP-IDTOKEN-NONCE-001",
    "facts-remembered": "RP-CONSENT-REVOKE-001",
}


def certify(tmp_path: Path, broken: str | None) -> tuple[int, dict[str, str], str]:
    """Run the independent relying party (``broken`` or not) and certify it; (exit status,
    verdict per requirement, output)."""
    name = f"rp-vendor-{uuid.uuid4().hex[:8]}"
    topology_path = tmp_path / "topology.yaml"
    topology = copy_on_free_ports(PUBLISHED, topology_path,
                                  change=lambda data: data.update(name=name))

    def url(simulator: str) -> str:
        spec = topology["simulators"][simulator]
        return f"http://{spec.get('host', '127.0.0.1')}:{spec['port']}"

    port = free_port()
    target = yaml.safe_load((HERE / "target.yaml").read_text(encoding="utf-8"))
    target["base_url"] = f"http://127.0.0.1:{port}"
    target["relying_party"]["public_jwk"] = str(HERE / "carrier.public.jwk.json")
    target_path = tmp_path / "target.yaml"
    target_path.write_text(yaml.safe_dump(target, allow_unicode=True), encoding="utf-8")
    command = [sys.executable, "-m", "tests.independent.private_service", "--port", str(port),
               "--issuer", url("idp"), "--gateway", url("gateway"),
               "--client-id", target["relying_party"]["client_id"],
               "--key", str(HERE / "carrier.private.jwk.json"),
               "--redirect-uri", f"{target['base_url']}{target['relying_party']['redirect_uri']}",
               *(["--broken", broken] if broken else [])]
    with serving(command, f"{target['base_url']}/health", tmp_path / "rp.log"):
        run = subprocess.run(
            [sys.executable, "-m", "meshcert.cli", "certify", "--target", str(target_path),
             "--topology", str(topology_path), "--out", str(tmp_path / "report"),
             "--seed", "13"],
            cwd=tmp_path, capture_output=True, text=True, timeout=600,
            env={**os.environ, "COLUMNS": "200",
                 "MESHCERT_SIGNING_KEY": str(tmp_path / "signing-key.pem")})
    output = run.stdout[-4000:] + run.stderr[-2000:]
    certificate = tmp_path / "report" / "certificate.json"
    assert certificate.is_file(), output
    requirements = json.loads(certificate.read_text(encoding="utf-8"))["requirements"]
    return run.returncode, {r["id"]: r["verdict"] for r in requirements}, output


def test_the_independent_relying_party_is_certified(tmp_path: Path):
    status, verdicts, output = certify(tmp_path, None)
    assert len(verdicts) == 21, verdicts
    assert status == 0 and set(verdicts.values()) == {"pass"}, (verdicts, output)


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_each_broken_class_fails_its_requirement(tmp_path: Path, broken: str):
    status, verdicts, output = certify(tmp_path, broken)
    failed = {rid for rid, verdict in verdicts.items() if verdict != "pass"}
    assert status == 1 and failed == {BROKEN[broken]}, (
        f"broken {broken!r} must fail {BROKEN[broken]} only; failed {sorted(failed)}\n{output}")
