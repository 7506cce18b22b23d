"""An independent front service (tests/independent/front_service/, written from OpenID Connect,
the portal's contract and the catalog's FRONT-* text, importing nothing of
meshcert_simulators/) is certified the way a vendor certifies an app: its own process, its
target file without ``launch`` (tests/independent/front_service/target.yaml, here with the port
it got) and the published harness topology fixtures/topologies/front-service.yaml (a copy on
free ports)."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshcert.catalog.requirements import load_catalog
from tests.independent.certifying import (
    assert_certified,
    certify,
    independent_relying_party,
    vendor_topology,
)
from tests.integration.served import serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "fixtures" / "topologies" / "front-service.yaml"


def test_the_independent_front_service_is_certified(tmp_path: Path):
    topology = vendor_topology(PUBLISHED, tmp_path, "front-vendor")
    command, target, target_path = independent_relying_party(
        "front_service", "movers", tmp_path, topology, "portal")
    with serving(command, f"{target['base_url']}/health", tmp_path / "app.log"):
        run = certify(target_path, topology.path, tmp_path / "report", "--seed", "17",
                      cwd=tmp_path, timeout_s=900, signing_key=tmp_path / "signing-key.pem")
    verdicts = run.verdicts
    assert set(verdicts) == {r.id for r in load_catalog().for_profile("front-service")}, verdicts
    assert_certified(run)
