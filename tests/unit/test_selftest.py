"""The selftest's judgement: a defect must trip its requirement and nothing else."""

from __future__ import annotations

import pytest

from meshcert.catalog import load_catalog
from meshcert.selftest import SelftestError, Variant, planned_defects, reference_target


def variant(defect, requirement, **verdicts):
    return Variant(defect, requirement, "MUST", dict(verdicts))


def test_a_defect_tripping_only_its_requirement_is_detected():
    v = variant("ignore-audience", "SEC-AUTH-002", **{"SEC-AUTH-002": "fail",
                                                      "SEC-AUTH-003": "pass"})
    assert v.detected and v.ok and v.unrelated == ()


def test_a_defect_its_tests_miss_is_not_ok():
    v = variant("ignore-audience", "SEC-AUTH-002", **{"SEC-AUTH-002": "pass"})
    assert not v.detected and not v.ok


def test_a_defect_that_also_trips_another_requirement_is_too_broad():
    v = variant("ignore-audience", "SEC-AUTH-002", **{"SEC-AUTH-002": "fail",
                                                      "ERR-PROB-001": "fail"})
    assert v.detected and not v.ok and v.unrelated == ("ERR-PROB-001",)


def test_the_reference_must_pass_everything_including_untested_ones():
    assert variant(None, None, **{"A-001": "pass"}).ok
    assert not variant(None, None, **{"A-001": "pass", "B-001": "fail"}).ok
    assert not variant(None, None, **{"A-001": "not-tested"}).ok


def test_an_error_is_never_ok():
    assert not Variant("x", "SEC-AUTH-002", "MUST", {"SEC-AUTH-002": "fail"}, error="boom").ok


def test_every_defect_of_the_profile_is_planned_once():
    planned = planned_defects(load_catalog(), "resident-registry")
    musts = [r for r in load_catalog().for_profile("resident-registry") if r.level == "MUST"]
    assert {requirement for _, requirement, _ in planned} >= {r.id for r in musts}
    with pytest.raises(SelftestError, match="not-a-defect"):
        planned_defects(load_catalog(), "resident-registry", ["not-a-defect"])


def test_the_reference_target_of_the_profile_is_found():
    assert reference_target("resident-registry").name == "reference-registry.yaml"
    with pytest.raises(SelftestError):
        reference_target("no-such-profile")


def test_selftest_all_runs_every_profile_with_a_reference_and_names_unknown_ones():
    from meshcert.selftest_command import _profiles

    catalog = load_catalog()
    everything = _profiles(catalog, "all")
    assert "resident-registry" in everything
    assert all(reference_target(p).is_file() for p in everything)
    assert _profiles(catalog, "resident-registry") == ["resident-registry"]
    with pytest.raises(SelftestError, match="no profile 'nope'"):
        _profiles(catalog, "nope")
