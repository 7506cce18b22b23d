"""The information-provider suites can fail on a defined service, not only on the tax reference:
three PRV defects applied to the kokuho reference (the ones whose mutation differs on a service —
its store subclass, its own provide role, its own data) are each detected, and nothing unrelated
fails. `meshcert selftest -p information-provider --reference
fixtures/vendors/reference-service-kokuho.yaml` runs all ten; this keeps the test run short."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from meshcert.certify.selftest import run_selftest

pytestmark = pytest.mark.slow

KOKUHO = Path(__file__).resolve().parents[2] / "fixtures" / "vendors" / \
    "reference-service-kokuho.yaml"
DEFECTS = ["levy-without-per-capita", "provisions-processed-twice",
           "provisions-for-any-client"]


def test_service_defects_are_each_detected_on_the_kokuho_reference(tmp_path: Path,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)  # the report and run folders land here
    monkeypatch.setenv("MESHCERT_SIGNING_KEY", str(tmp_path / "key.pem"))
    started = time.monotonic()
    result = run_selftest("information-provider", only=DEFECTS, jobs=2, reference=KOKUHO)
    assert result.target == KOKUHO.resolve()
    assert result.reference.ok, (result.reference.error, result.reference.verdicts)
    assert sorted(v.defect for v in result.variants) == sorted(DEFECTS)
    for variant in result.variants:
        assert variant.ok, (variant.defect, variant.error, variant.failed, variant.errored)
    assert result.ok and result.detection_rate == 1.0
    print(f"selftest of {len(DEFECTS)} service defects: {time.monotonic() - started:.0f} s")
