"""An independent relying party (tests/independent/private_service/, written from OpenID
Connect, the gateway's contract and the catalog's RP-* text, importing nothing of
meshcert_simulators/) is certified the way a vendor certifies a system: its own process, its
target file without ``launch`` (tests/independent/private_service/target.yaml, here with the
port it got) and the published harness topology fixtures/topologies/private-service.yaml (a
copy on free ports).

It is certified as written; broken in one class at a time (``--broken``), the certification
fails on exactly the requirement that class belongs to."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.independent.certifying import (
    Certification,
    assert_certified,
    assert_fails_only,
    certify,
    independent_relying_party,
    vendor_topology,
)
from tests.integration.served import serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "fixtures" / "topologies" / "private-service.yaml"
BROKEN = {  # the class broken → the one requirement that must fail
    "nonce-unchecked": "RP-IDTOKEN-NONCE-001",
    "facts-remembered": "RP-CONSENT-REVOKE-001",
}


def certified(tmp_path: Path, broken: str | None) -> Certification:
    """Run the independent relying party (``broken`` or not) and certify it."""
    topology = vendor_topology(PUBLISHED, tmp_path, "rp-vendor")
    command, target, target_path = independent_relying_party(
        "private_service", "carrier", tmp_path, topology, "gateway",
        *(["--broken", broken] if broken else []))
    with serving(command, f"{target['base_url']}/health", tmp_path / "rp.log"):
        return certify(target_path, topology.path, tmp_path / "report", "--seed", "13",
                       cwd=tmp_path, signing_key=tmp_path / "signing-key.pem")


def test_the_independent_relying_party_is_certified(tmp_path: Path):
    run = certified(tmp_path, None)
    assert len(run.verdicts) == 21, run.verdicts
    assert_certified(run)


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_each_broken_class_fails_its_requirement(tmp_path: Path, broken: str):
    run = certified(tmp_path, broken)
    assert_fails_only(run, broken, BROKEN[broken])
