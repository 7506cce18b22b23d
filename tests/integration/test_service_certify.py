"""Each defined service's reference (the generic provider built from fixtures/services/<name>/)
certified through the information-provider suites — the same suites as the resident-tax
reference, judging by the service's committed contract, items and scopes read from the target
(fixtures/vendors/reference-service-<name>.yaml). One run per service, in sequence, every PRV
requirement passing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from meshcert.catalog.requirements import load_catalog
from meshcert.certify.run import certify
from meshcert_simulators.service.definition import load

pytestmark = pytest.mark.slow

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
SERVICES = ("kokuho", "kaigo", "jido-fuyo", "shogai-fukushi")


def test_the_four_defined_services_are_certified_as_information_providers(tmp_path: Path):
    wanted = {r.id for r in load_catalog().for_profile("information-provider")}
    took = {}
    for name in SERVICES:
        started = time.monotonic()
        result = certify(VENDORS / f"reference-service-{name}.yaml", seed=7,
                         out_dir=tmp_path / name)
        took[name] = round(time.monotonic() - started, 1)
        assert result.exit_code == 0 and result.certified, (name, result.harness_error,
                                                            result.verdicts)
        assert result.verdicts == dict.fromkeys(wanted, "pass"), name
        # The suites asked the service's own first item, in its own contract's shape.
        evidence = "".join(p.read_text(encoding="utf-8")
                           for p in (result.report_dir / "evidence").glob("test_items__*.json"))
        assert load(name).definition.items[0].code in evidence, name
    print(f"certified in {took} s")  # shown with -s: the cost of the four
