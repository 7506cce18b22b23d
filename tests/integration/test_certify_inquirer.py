"""The bundled reference inquirer (profile mesh-inquirer) certified end to end — the mesh, its
issuer and the counterpart provider started from the launch topology on free ports — and, with
one defect, failing exactly its requirement. `meshcert selftest --profile mesh-inquirer` runs
every defect; this keeps the project's own test run short."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshcert.catalog.requirements import load_catalog
from meshcert.certify.run import certify

pytestmark = pytest.mark.slow

REFERENCE = Path(__file__).resolve().parents[2] / "fixtures" / "vendors" / "reference-inquirer.yaml"


def test_the_reference_inquirer_is_certified(tmp_path: Path):
    result = certify(REFERENCE, seed=7, out_dir=tmp_path / "report")
    wanted = {r.id for r in load_catalog().for_profile("mesh-inquirer")}
    assert result.exit_code == 0 and result.certified, result.verdicts
    assert result.verdicts == dict.fromkeys(wanted, "pass")
    assert (result.report_dir / "evidence").is_dir()


def test_an_inquirer_that_never_retries_fails_only_the_retry_requirement(tmp_path: Path):
    result = certify(REFERENCE, defect="no-retry", seed=7, out_dir=tmp_path / "report",
                     requirements=["INQ-RES-001", "INQ-RES-004", "INQ-RES-005"])
    assert result.exit_code == 1
    assert result.verdicts["INQ-RES-001"] == "fail"
    assert result.verdicts["INQ-RES-004"] == "pass"
    assert result.verdicts["INQ-RES-005"] == "pass"
