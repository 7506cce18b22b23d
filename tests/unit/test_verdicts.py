"""Verdicts per requirement and the gate: baselines fail a run on an unexpected failure and on a
stale expected failure, and say which."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from meshcert.catalog.requirements import Catalog, load_catalog
from meshcert.certify.baseline import BaselineError, load_baseline
from meshcert.certify.records import TestRecord
from meshcert.certify.verdicts import EXIT_FAILED, EXIT_INCONCLUSIVE, judge
from tests.unit.sample_report import record

PROFILE = "resident-registry"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog("2026.1")


def every_must_passing(catalog: Catalog) -> list[TestRecord]:
    return [record(f"meshcert_suites/t.py::test_{r.id}", [r.id])
            for r in catalog.for_profile(PROFILE)]


def baseline_file(tmp_path: Path, entries: list[dict], catalog: str = "2026.1") -> Path:
    path = tmp_path / "baseline.yaml"
    path.write_text(yaml.safe_dump({"catalog": catalog, "expected_failures": entries}),
                    encoding="utf-8")
    return path


def with_outcome(tests: list[TestRecord], requirement: str, outcome: str
                 ) -> list[TestRecord]:
    return [t.model_copy(update={"outcome": outcome}) if t.verifies(requirement) else t
            for t in tests]


def test_every_must_passing_certifies(catalog: Catalog) -> None:
    outcome = judge(catalog, PROFILE, every_must_passing(catalog))
    assert outcome.exit_code == 0
    assert outcome.certified
    assert set(outcome.by_id().values()) == {"pass"}


def test_a_failing_must_fails_the_run_and_is_named(catalog: Catalog) -> None:
    tests = with_outcome(every_must_passing(catalog), "SEC-AUTH-002", "failed")
    outcome = judge(catalog, PROFILE, tests)
    assert outcome.exit_code == 1
    assert outcome.unexpected_failures == ("SEC-AUTH-002",)
    assert outcome.by_id()["SEC-AUTH-002"] == "fail"
    assert not outcome.certified


def test_a_harness_error_is_inconclusive_not_a_failure(catalog: Catalog) -> None:
    tests = with_outcome(every_must_passing(catalog), "SEC-TLS-001", "error")
    outcome = judge(catalog, PROFILE, tests)
    assert outcome.by_id()["SEC-TLS-001"] == "error"
    assert outcome.unexpected_failures == ()
    assert outcome.errors == ("SEC-TLS-001",)
    assert outcome.exit_code == EXIT_INCONCLUSIVE == 3
    assert not outcome.certified  # a run with errors certifies nothing
    assert outcome.counts()["error"] == 1 and outcome.counts()["fail"] == 0
    assert any("could not be judged" in r and "SEC-TLS-001" in r for r in outcome.reasons)


def test_one_erroring_test_among_passing_ones_leaves_the_requirement_unjudged(
        catalog: Catalog) -> None:
    tests = [*every_must_passing(catalog),
             record("meshcert_suites/t.py::test_more_tls", ["SEC-TLS-001"], "error")]
    assert judge(catalog, PROFILE, tests).by_id()["SEC-TLS-001"] == "error"


def test_a_failure_outranks_an_error_in_the_requirement_and_in_the_exit_status(
        catalog: Catalog) -> None:
    tests = [*with_outcome(every_must_passing(catalog), "SEC-TLS-001", "error"),
             record("meshcert_suites/t.py::test_more_tls", ["SEC-TLS-001"], "failed")]
    outcome = judge(catalog, PROFILE, tests)
    assert outcome.by_id()["SEC-TLS-001"] == "fail"
    tests = with_outcome(with_outcome(every_must_passing(catalog), "SEC-TLS-001", "error"),
                         "SEC-AUTH-002", "failed")
    outcome = judge(catalog, PROFILE, tests)
    assert outcome.exit_code == EXIT_FAILED == 1
    assert outcome.errors == ("SEC-TLS-001",) and outcome.unexpected_failures == (
        "SEC-AUTH-002",)


def test_an_erroring_should_is_not_certified_either(catalog: Catalog) -> None:
    tests = with_outcome(every_must_passing(catalog), "ERR-REQID-001", "error")
    outcome = judge(catalog, PROFILE, tests)
    assert outcome.exit_code == EXIT_INCONCLUSIVE
    assert not outcome.certified


def test_an_expected_failure_that_errors_is_neither_expected_nor_stale(
        tmp_path: Path, catalog: Catalog) -> None:
    baseline = load_baseline(baseline_file(tmp_path, [
        {"id": "SEC-TLS-002", "reason": "known"}]), catalog, PROFILE)
    tests = with_outcome(every_must_passing(catalog), "SEC-TLS-002", "error")
    outcome = judge(catalog, PROFILE, tests, baseline=baseline)
    assert outcome.by_id()["SEC-TLS-002"] == "error"
    assert outcome.stale_expectations == ()
    assert outcome.exit_code == EXIT_INCONCLUSIVE


def test_a_failing_should_shows_but_does_not_fail_the_gate(catalog: Catalog) -> None:
    tests = with_outcome(every_must_passing(catalog), "ERR-REQID-001", "failed")
    outcome = judge(catalog, PROFILE, tests)
    assert outcome.by_id()["ERR-REQID-001"] == "fail"
    assert outcome.exit_code == 0
    assert outcome.certified


def test_requirements_without_a_run_test_are_not_tested_and_not_certified(catalog: Catalog) -> None:
    tests = [t for t in every_must_passing(catalog) if not t.verifies("SEC-TLS-002")]
    tests = with_outcome(tests, "SEC-TLS-001", "skipped")
    outcome = judge(catalog, PROFILE, tests)
    assert outcome.by_id()["SEC-TLS-002"] == "not-tested"
    assert outcome.by_id()["SEC-TLS-001"] == "not-tested"
    assert outcome.exit_code == 0
    assert not outcome.certified
    assert any("not tested" in reason for reason in outcome.reasons)


def test_a_run_limited_to_some_requirements_gates_but_does_not_certify(catalog: Catalog) -> None:
    tests = [t for t in every_must_passing(catalog) if t.verifies("ERR-REQID-001")]
    outcome = judge(catalog, PROFILE, tests, scope=["ERR-REQID-001"])
    assert outcome.exit_code == 0
    assert not outcome.certified
    in_scope = [v.id for v in outcome.verdicts if v.in_scope]
    assert in_scope == ["ERR-REQID-001"]


def test_an_expected_failure_passes_the_gate(tmp_path: Path, catalog: Catalog) -> None:
    baseline = load_baseline(baseline_file(tmp_path, [
        {"id": "SEC-TLS-002", "reason": "TLS ends at the load balancer until 3.2"}]),
        catalog, PROFILE)
    tests = with_outcome(every_must_passing(catalog), "SEC-TLS-002", "failed")
    outcome = judge(catalog, PROFILE, tests, baseline=baseline)
    assert outcome.by_id()["SEC-TLS-002"] == "expected-fail"
    assert outcome.exit_code == 0
    assert not outcome.certified  # a gate passed with known failures is not a certificate


def test_an_unexpected_failure_fails_even_with_a_baseline(tmp_path: Path, catalog: Catalog) -> None:
    baseline = load_baseline(baseline_file(tmp_path, [
        {"id": "SEC-TLS-002", "reason": "known"}]), catalog, PROFILE)
    tests = with_outcome(every_must_passing(catalog), "SEC-TLS-002", "failed")
    tests = with_outcome(tests, "SEC-AUTH-004", "failed")
    outcome = judge(catalog, PROFILE, tests, baseline=baseline)
    assert outcome.exit_code == 1
    assert outcome.unexpected_failures == ("SEC-AUTH-004",)
    assert outcome.stale_expectations == ()


def test_an_expected_failure_that_passes_is_stale_and_fails_the_run(
        tmp_path: Path, catalog: Catalog) -> None:
    baseline = load_baseline(baseline_file(tmp_path, [
        {"id": "SEC-TLS-002", "reason": "known"}]), catalog, PROFILE)
    outcome = judge(catalog, PROFILE, every_must_passing(catalog), baseline=baseline)
    assert outcome.exit_code == 1
    assert outcome.stale_expectations == ("SEC-TLS-002",)
    assert outcome.unexpected_failures == ()
    assert any("SEC-TLS-002 no longer fail" in reason for reason in outcome.reasons)


def test_an_expected_failure_outside_the_run_is_not_stale(tmp_path: Path, catalog: Catalog) -> None:
    baseline = load_baseline(baseline_file(tmp_path, [
        {"id": "SEC-TLS-002", "reason": "known"}]), catalog, PROFILE)
    tests = [t for t in every_must_passing(catalog) if t.verifies("ERR-REQID-001")]
    outcome = judge(catalog, PROFILE, tests, scope=["ERR-REQID-001"], baseline=baseline)
    assert outcome.exit_code == 0
    assert outcome.by_id()["SEC-TLS-002"] == "not-tested"


def test_a_baseline_lists_every_problem(tmp_path: Path, catalog: Catalog) -> None:
    path = baseline_file(tmp_path, [{"id": "NOPE-XXX-001", "reason": "x"},
                                    {"id": "SEC-TLS-002", "reason": "y"},
                                    {"id": "SEC-TLS-002", "reason": "z"}], catalog="2025.9")
    with pytest.raises(BaselineError) as caught:
        load_baseline(path, catalog, PROFILE)
    message = str(caught.value)
    assert "3 problem(s)" in message
    assert "catalog 2025.9" in message
    assert "NOPE-XXX-001" in message and "no such requirement" in message
    assert "listed twice" in message


def test_a_baseline_entry_needs_a_reason(tmp_path: Path, catalog: Catalog) -> None:
    path = baseline_file(tmp_path, [{"id": "SEC-TLS-002"}])
    with pytest.raises(BaselineError, match=r"expected_failures\.0\.reason"):
        load_baseline(path, catalog, PROFILE)


def test_a_missing_baseline_file_is_named(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(BaselineError, match="no such baseline file"):
        load_baseline(tmp_path / "absent.yaml", catalog, PROFILE)
