"""An independent information provider (tests/independent/provider/, written from the committed
contract and the catalog, importing nothing of meshcert_simulators/) is certified the way a vendor
certifies a system: its own process, its target file without ``launch``
(tests/independent/provider/target.yaml, here with the port it got) and the published harness
topology fixtures/topologies/information-provider.yaml (a copy on free ports).

It is certified as written; broken in one class at a time (``--broken``), the certification
fails on exactly the requirement that class belongs to.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from meshcert.backends.ports import free_port
from tests.independent.certifying import (
    Certification,
    assert_certified,
    assert_fails_only,
    certification,
    vendor_target,
)
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


def certified(tmp_path: Path, broken: str | None) -> Certification:
    """Run the independent provider (``broken`` or not) and certify it."""
    harness = Harness(tmp_path)
    port = free_port()
    target, target_path = vendor_target(TARGET, tmp_path, port)
    registering = harness.client("mesh-resident-tax")
    command = [sys.executable, "-m", "tests.independent.provider", "--port", str(port),
               "--db", str(tmp_path / "provider.sqlite3"), "--issuer", harness.url("authz"),
               "--audience", target["auth"]["audience"], "--ca-file", str(harness.ca_file),
               "--jlis", harness.url("jlis"), "--jlis-client", registering["id"],
               "--jlis-token", registering["token"], *(["--broken", broken] if broken else [])]
    with serving(command, f"{target['base_url']}/health", tmp_path / "provider.log"):
        run = harness.certify(target_path, tmp_path / "report", "--seed", "11")
    return certification(run, tmp_path / "report")


def test_the_independent_provider_is_certified(tmp_path: Path):
    run = certified(tmp_path, None)
    assert_certified(run)


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_each_broken_class_fails_its_requirement(tmp_path: Path, broken: str):
    run = certified(tmp_path, broken)
    assert_fails_only(run, broken, BROKEN[broken])
