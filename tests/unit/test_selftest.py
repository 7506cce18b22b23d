"""The selftest's judgement: a defect must trip its requirement and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshcert.catalog.requirements import load_catalog
from meshcert.certify.selftest import SelftestError, Variant, planned_defects, reference_target


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
    from meshcert.cli.selftest import _profiles

    catalog = load_catalog()
    everything = _profiles(catalog, "all")
    assert "resident-registry" in everything
    assert all(reference_target(p).is_file() for p in everything)
    assert _profiles(catalog, "resident-registry") == ["resident-registry"]
    with pytest.raises(SelftestError, match="no profile 'nope'"):
        _profiles(catalog, "nope")


def test_a_defect_whose_requirement_only_errored_is_inconclusive_not_detected():
    v = variant("ignore-audience", "SEC-AUTH-002", **{"SEC-AUTH-002": "error",
                                                      "SEC-AUTH-003": "pass"})
    assert v.inconclusive and not v.detected and not v.ok
    from meshcert.cli.selftest import _result

    assert "inconclusive" in _result(v)


def test_a_harness_error_elsewhere_makes_a_detected_defect_too_broad():
    v = variant("ignore-audience", "SEC-AUTH-002", **{"SEC-AUTH-002": "fail",
                                                      "ERR-PROB-001": "error"})
    assert v.detected and not v.inconclusive and not v.ok
    assert v.unrelated == () and v.unrelated_errors == ("ERR-PROB-001",)


def test_a_reference_with_a_harness_error_is_not_clean_and_says_why():
    from meshcert.cli.selftest import _result, _unrelated

    reference = variant(None, None, **{"A-001": "pass", "B-001": "error"})
    assert not reference.ok and reference.errored == ("B-001",)
    assert "inconclusive" in _result(reference)
    assert _unrelated(reference, ()) == [
        "  (reference) could not be judged on B-001 (harness errors)"]


def test_the_detection_rate_counts_an_inconclusive_must_defect_as_not_detected(tmp_path):
    from meshcert.certify.selftest import Selftest

    found = variant("ignore-audience", "SEC-AUTH-002", **{"SEC-AUTH-002": "fail"})
    unjudged = variant("accept-expired", "SEC-AUTH-003", **{"SEC-AUTH-003": "error"})
    result = Selftest("resident-registry", "2026.1", 1, variant(None, None, **{"A": "pass"}),
                      (found, unjudged), tmp_path)
    assert result.detection_rate == 0.5 and not result.ok
    row = result.to_json()["variants"][1]
    assert row["inconclusive"] is True and row["detected"] is False


def test_a_variant_the_harness_could_not_run_says_why(monkeypatch, tmp_path):
    import meshcert.certify.selftest as selftest_module
    from meshcert.certify.run import Certification
    from meshcert.certify.verdicts import unjudged

    catalog = load_catalog()
    [(defect, _, _)] = planned_defects(catalog, "information-provider")[:1]

    def certify(target, *, defect=None, seed=None, out_dir=None):
        outcome = unjudged(catalog, "information-provider", "mesh did not start\nmore")
        return Certification("r", Path(out_dir), 3, outcome.by_id(), False, (), (), 1,
                             outcome, {"harness_error": "mesh did not start\nmore"},
                             harness_error="mesh did not start\nmore")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(selftest_module, "certify", certify)
    result = selftest_module.run_selftest("information-provider", only=[defect], jobs=1)
    [variant] = result.variants
    assert variant.error == "mesh did not start" and variant.inconclusive
    assert not variant.ok and not result.reference.ok


def test_a_shared_pool_starts_the_longest_profiles_certifications_first_and_interleaved(tmp_path):
    from meshcert.certify.selftest import Planned, longest_first

    catalog = load_catalog()

    def plan(profile):
        jobs = ((None, None, None), *planned_defects(catalog, profile))
        return Planned(profile, catalog, 1, reference_target(profile), tmp_path, jobs)

    plans = [plan(p) for p in ("resident-registry", "information-provider", "mesh-inquirer")]
    order = [(p.profile, job[0]) for p, job in longest_first(plans)]
    # Every certification once, each profile's own in its order (the reference first).
    assert sorted(order, key=str) == sorted(
        ((p.profile, job[0]) for p in plans for job in p.jobs), key=str)
    for p in plans:
        assert [d for name, d in order if name == p.profile] == [job[0] for job in p.jobs]
    # The mesh inquirer's (the longest: mostly waits) start first, one in every round, so
    # none is left to start at the end while the short ones are done.
    profiles = [name for name, _ in order]
    assert profiles[:3] == ["mesh-inquirer", "information-provider", "resident-registry"]
    inquirer = [i for i, name in enumerate(profiles) if name == "mesh-inquirer"]
    assert inquirer == list(range(0, 3 * len(inquirer), 3))


@pytest.mark.parametrize("second_verdict, ok", [("pass", True), ("fail", False)])
def test_an_unrelated_failure_is_certified_again_and_only_a_pass_clears_it(
        monkeypatch, tmp_path, second_verdict, ok):
    """A requirement failing beside the defect's own is certified again alone, same defect
    and seed: a pass then is the machine's load (listed, not hidden); a failure again is the
    defect's reach (too broad)."""
    from types import SimpleNamespace

    import meshcert.certify.selftest as selftest_module

    catalog = load_catalog()
    [(defect, requirement, level)] = planned_defects(catalog, "resident-registry")[:1]
    other = next(r.id for r in catalog.for_profile("resident-registry") if r.id != requirement)
    calls = []

    def certify(target, *, requirements=None, defect=None, seed=None, out_dir=None):
        calls.append((requirements, defect, seed))
        verdicts = ({other: second_verdict} if requirements else
                    {requirement: "fail", other: "fail"})
        return SimpleNamespace(verdicts=verdicts, report_dir=out_dir, harness_error=None)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(selftest_module, "certify", certify)
    plan = selftest_module.plan_selftest("resident-registry", only=[defect])
    variant = plan.run(defect, requirement, level)
    assert calls == [(None, defect, plan.seed), ([other], defect, plan.seed)]
    assert variant.ok is ok and variant.detected
    assert variant.not_reproduced == ((other,) if ok else ())
    assert variant.unrelated == (() if ok else (other,))
