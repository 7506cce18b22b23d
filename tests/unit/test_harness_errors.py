"""A harness failure is not the vendor's failure, end to end without simulators: a suite whose
fixture crashes runs through the real pytest plugin, and its requirement is **error** — in the
verdicts, certificate.json, index.html, junit.xml, the certify command's summary and its exit
status (3, "could not judge"); the run is not certified."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from typer.testing import CliRunner

from meshcert.catalog.requirements import load_catalog
from meshcert.certify.records import RunResults
from meshcert.certify.run import Certification
from meshcert.certify.verdicts import EXIT_INCONCLUSIVE, judge
from meshcert.cli import app
from meshcert.cli import certify as certify_command
from meshcert.errors import HarnessError
from meshcert.reports import signing, write_report
from tests.unit.sample_report import REFERENCE, sample_facts

PROFILE = "resident-registry"
CRASHED = "SEC-TLS-001"
OTHERS = [r.id for r in load_catalog().for_profile(PROFILE) if r.id != CRASHED]

SUITE = f'''
import pytest

OTHERS = {OTHERS!r}


@pytest.fixture
def municipal():
    raise ConnectionRefusedError("the municipal simulator did not start on 127.0.0.1:18201")


@pytest.mark.requirement("{CRASHED}")
def test_tls_only(municipal):
    pass


@pytest.mark.parametrize("rid", [pytest.param(i, marks=pytest.mark.requirement(i))
                                 for i in OTHERS])
def test_the_others_pass(rid):
    pass
'''


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample suite run by the plugin, judged, and written as a signed report."""
    folder = tmp_path_factory.mktemp("harness-error")
    (folder / "test_sample.py").write_text(SUITE, encoding="utf-8")
    report = folder / "report"
    report.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "meshcert.certify.plugin", "-p",
         "no:cacheprovider", "--rootdir", str(folder), str(folder / "test_sample.py"),
         "--meshcert-results", str(folder / "results.json"),
         "--meshcert-evidence", str(report / "evidence"),
         "--junitxml", str(report / "junit.xml"), "-q"],
        cwd=folder, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stdout[-2000:]  # pytest: an error is not a pass
    tests = RunResults.read(folder / "results.json").tests
    catalog = load_catalog()
    outcome = judge(catalog, PROFILE, tests)
    key, _ = signing.load_or_create_key(folder / "key.pem")
    certificate = write_report(report, sample_facts(), outcome, tests, key)
    return {"outcome": outcome, "certificate": certificate, "report": report,
            "tests": tests}


def test_the_crashed_fixture_makes_its_requirement_an_error_not_a_failure(run) -> None:
    outcome = run["outcome"]
    [crashed] = [t for t in run["tests"] if t.requirements == (CRASHED,)]
    assert crashed.outcome == "error" and crashed.phase == "setup"
    assert crashed.message is not None and "did not start" in crashed.message
    assert outcome.by_id()[CRASHED] == "error"
    assert set(outcome.by_id().values()) == {"pass", "error"}
    assert outcome.unexpected_failures == ()
    assert outcome.exit_code == EXIT_INCONCLUSIVE and not outcome.certified


def test_the_certificate_says_error_and_not_certified(run) -> None:
    certificate = json.loads((run["report"] / "certificate.json").read_text(encoding="utf-8"))
    verdicts = {r["id"]: r["verdict"] for r in certificate["requirements"]}
    assert verdicts[CRASHED] == "error"
    assert certificate["summary"]["verdicts"]["error"] == 1
    assert certificate["summary"]["verdicts"]["fail"] == 0
    assert certificate["summary"]["errors"] == [CRASHED]
    assert certificate["exit_code"] == 3 and certificate["certified"] is False
    assert certificate["summary"]["tests"]["error"] == 1


def test_the_html_report_shows_could_not_judge(run) -> None:
    html = (run["report"] / "index.html").read_text(encoding="utf-8")
    assert '<section class="banner error"' in html
    assert "Could not judge: not certified" in html
    assert "No test failed." in html
    errors = html.split('id="harness-errors"', 1)[1]
    assert "the municipal simulator did not start" in errors
    assert f"--requirement {CRASHED}" in errors


def test_junit_has_an_error_and_no_failure(run) -> None:
    suite = ET.parse(run["report"] / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("errors"), suite.get("failures")) == ("1", "0")


def certification(run: dict[str, Any]) -> Certification:
    outcome = run["outcome"]
    return Certification(
        run_id="20261126T100000Z-abcdef", report_dir=run["report"],
        exit_code=outcome.exit_code, verdicts=outcome.by_id(), certified=outcome.certified,
        unexpected_failures=outcome.unexpected_failures,
        stale_expectations=outcome.stale_expectations, seed=1234, outcome=outcome,
        certificate=run["certificate"])


def test_certify_prints_could_not_judge_and_exits_3(run, monkeypatch) -> None:
    monkeypatch.setattr(certify_command, "certify", lambda *a, **k: certification(run))
    result = CliRunner().invoke(app, ["certify", "--target", str(REFERENCE)])
    assert result.exit_code == 3, result.output
    assert "Could not judge: not certified" in result.stdout
    assert "Could not judge (harness errors, not failures of the system):" in result.stdout
    assert f"{CRASHED} MUST" in result.stdout
    assert "test_tls_only (error in set-up): ConnectionRefusedError" in result.stdout
    assert "Failed:" not in result.stdout
    assert f"--requirement {CRASHED} --seed 1234" in result.stdout


def test_a_harness_that_cannot_run_at_all_exits_3_not_2(monkeypatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Certification:
        raise HarnessError("cannot start the reference: municipal exited with status 1")

    monkeypatch.setattr(certify_command, "certify", broken)
    result = CliRunner().invoke(app, ["certify", "--target", str(REFERENCE)])
    assert result.exit_code == 3
    assert result.stderr.startswith("meshcert: error: could not judge: cannot start")


def test_the_help_documents_exit_status_3() -> None:
    result = CliRunner().invoke(app, ["certify", "--help"], env={"COLUMNS": "200"})
    assert "3 when the harness could not judge" in " ".join(result.stdout.split())


# -- a harness that cannot run at all: still a report, every requirement in scope an error ------


@pytest.fixture
def simulators_do_not_start(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import contextlib

    from meshcert.certify import run as runner

    @contextlib.contextmanager
    def broken(plan: Any, keep_running: bool) -> Any:
        raise HarnessError("cannot start the reference: municipal exited with status 1\n"
                           "Traceback (most recent call last): ...")
        yield  # pragma: no cover

    monkeypatch.setattr(runner, "simulators_for", broken)
    monkeypatch.setenv("MESHCERT_SIGNING_KEY", str(tmp_path / "key.pem"))


def test_a_run_whose_simulators_do_not_start_still_reports_every_requirement_as_error(
        simulators_do_not_start, tmp_path) -> None:
    from meshcert.certify.run import certify
    from meshcert.reports.certificate import verify_report

    result = certify(REFERENCE, out_dir=tmp_path / "report", seed=5,
                     requirements=["SEC-TLS-001", "SEC-AUTH-002"])
    assert result.exit_code == EXIT_INCONCLUSIVE and not result.certified
    assert {k: v for k, v in result.verdicts.items() if v != "not-tested"} == {
        "SEC-TLS-001": "error", "SEC-AUTH-002": "error"}
    certificate = result.certificate
    assert certificate["harness_error"].startswith("cannot start the reference: municipal")
    assert certificate["summary"]["reasons"][0] == (
        "the harness could not run: cannot start the reference: municipal exited with status 1")
    assert "--seed 5" in certificate["replay"]
    suite = ET.parse(tmp_path / "report" / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    html = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "The harness could not run the suites" in html and "banner error" in html
    assert verify_report(tmp_path / "report").valid


def test_certify_says_the_harness_could_not_run_and_exits_3(simulators_do_not_start,
                                                            tmp_path) -> None:
    result = CliRunner().invoke(app, ["certify", "--target", str(REFERENCE), "--out",
                                      str(tmp_path / "report"), "--seed", "5"])
    assert result.exit_code == 3, result.output
    assert "Could not judge: not certified" in result.stdout
    assert "The harness could not run the suites: cannot start the reference" in result.stdout
    assert "Run again: meshcert certify --target" in result.stdout
    assert "replay:" not in result.stdout  # one command for the run, not one per requirement
