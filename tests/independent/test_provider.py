"""An independent information provider (tests/independent/provider/, written from the committed
contract and the catalog, importing nothing of meshcert_simulators/) is certified the way a vendor
certifies a system: its own process, its target file without ``launch``
(tests/independent/provider/target.yaml, here with the port it got) and the published harness
topology fixtures/topologies/information-provider.yaml (a copy on free ports).

It is certified as written; broken in one class at a time (``--broken``), the certification
fails on exactly the requirement that class belongs to.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from meshcert.backends.ports import free_port
from tests.integration.provider_vendor import Harness
from tests.integration.served import serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "tests" / "independent" / "provider" / "target.yaml"
BROKEN = {  # the class broken → the one requirement that must fail
    "mynumber-hyphens": "PRV-MYNUM-001",
    "mynumber-fullwidth": "PRV-MYNUM-001",
    "refusals-unrecorded": "PRV-REC-001",
    "end-a-day-late": "PRV-COPY-001",
    "race-twice": "PRV-DUP-001",
    "jlis-failures-ignored": "PRV-COPY-001",
}


def certify(tmp_path: Path, broken: str | None) -> tuple[int, dict[str, str], str]:
    """Run the independent provider (``broken`` or not) and certify it; (exit status,
    verdict per requirement, output)."""
    harness = Harness(tmp_path)
    port = free_port()
    target = yaml.safe_load(TARGET.read_text(encoding="utf-8"))
    target["base_url"] = f"http://127.0.0.1:{port}"
    target_path = tmp_path / "target.yaml"
    target_path.write_text(yaml.safe_dump(target, allow_unicode=True), encoding="utf-8")
    registering = harness.client("mesh-resident-tax")
    command = [sys.executable, "-m", "tests.independent.provider", "--port", str(port),
               "--db", str(tmp_path / "provider.sqlite3"), "--issuer", harness.url("authz"),
               "--audience", target["auth"]["audience"], "--ca-file", str(harness.ca_file),
               "--jlis", harness.url("jlis"), "--jlis-client", registering["id"],
               "--jlis-token", registering["token"], *(["--broken", broken] if broken else [])]
    with serving(command, f"{target['base_url']}/health", tmp_path / "provider.log"):
        run = harness.certify(target_path, tmp_path / "report", "--seed", "11")
    output = run.stdout[-4000:] + run.stderr[-2000:]
    certificate = tmp_path / "report" / "certificate.json"
    assert certificate.is_file(), output
    requirements = json.loads(certificate.read_text(encoding="utf-8"))["requirements"]
    return run.returncode, {r["id"]: r["verdict"] for r in requirements}, output


def test_the_independent_provider_is_certified(tmp_path: Path):
    status, verdicts, output = certify(tmp_path, None)
    assert status == 0 and set(verdicts.values()) == {"pass"}, (verdicts, output)


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_each_broken_class_fails_its_requirement(tmp_path: Path, broken: str):
    status, verdicts, output = certify(tmp_path, broken)
    failed = {rid for rid, verdict in verdicts.items() if verdict != "pass"}
    assert status == 1 and failed == {BROKEN[broken]}, (
        f"broken {broken!r} must fail {BROKEN[broken]} only; failed {sorted(failed)}\n{output}")
