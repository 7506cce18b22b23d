"""Test records and progress events are typed objects with one JSON form: they round-trip
through JSON unchanged, and whatever the suites' pytest writes that does not match is a
HarnessError naming the problem (never a KeyError deep in the runner or the report)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from meshcert.certify import pytest_run
from meshcert.certify.events import (
    Collected,
    Event,
    Finished,
    Phase,
    Started,
    TestFinished,
    parse_event,
)
from meshcert.certify.records import Evidence, RunResults, TestRecord
from meshcert.errors import HarnessError
from tests.unit.sample_report import exchanges_for, record


def results_of(*tests: TestRecord) -> RunResults:
    return RunResults(collected=len(tests), exitstatus=1, started=1.5, finished=2.25,
                      hypothesis_seed="1234", tests=tests)


def test_a_run_s_results_round_trip_through_json(tmp_path: Path) -> None:
    failed = record("meshcert_suites/t.py::test_a[日本]", ["SEC-AUTH-002", "SEC-AUTH-003"],
                    "failed", message="AssertionError: 200 != 401", phase="call",
                    user_properties={"latency_ms": [1.5, 2], "load": {"users": 3}})
    results = results_of(record("meshcert_suites/t.py::test_b", ["SEC-TLS-001"]), failed)
    path = tmp_path / "results.json"
    path.write_text(results.to_json(), encoding="utf-8")
    back = RunResults.read(path)
    assert back == results
    assert back.tests[1].requirements == ("SEC-AUTH-002", "SEC-AUTH-003")
    assert back.tests[1].user_properties["latency_ms"] == [1.5, 2]
    assert "日本" in path.read_text(encoding="utf-8")  # kept as written, not \u-escaped


def test_evidence_round_trips_with_its_exchanges(tmp_path: Path) -> None:
    test = record("meshcert_suites/t.py::test_a", ["ERR-PROB-001"], "failed", message="no")
    evidence = test.evidence_of(exchanges_for(test.nodeid))
    path = tmp_path / "e.json"
    path.write_text(evidence.to_json(), encoding="utf-8")
    back = Evidence.read(path)
    assert back == evidence
    assert [e.status for e in back.exchanges] == [401, 200]
    assert list(json.loads(path.read_text(encoding="utf-8"))) == [
        "nodeid", "requirements", "outcome", "message", "exchanges"]


@pytest.mark.parametrize("event", [
    Phase(text="running the suites"), Collected(total=12), Started(nodeid="t.py::test_a"),
    TestFinished(nodeid="t.py::test_a", outcome="error", requirements=("SEC-TLS-001",),
                 duration_s=0.5),
    Finished(exitstatus=1)], ids=lambda e: type(e).__name__)
def test_every_event_round_trips_through_its_line(event: Event) -> None:
    line = event.to_line()
    assert "\n" not in line
    assert parse_event(line) == event
    assert type(parse_event(line)) is type(event)


def test_the_progress_lines_keep_their_format() -> None:
    assert json.loads(TestFinished(nodeid="n", outcome="passed", requirements=("A",),
                                   duration_s=0.25).to_line()) == {
        "event": "test", "nodeid": "n", "outcome": "passed", "requirements": ["A"],
        "duration_s": 0.25}
    assert Collected(total=5).to_line() == '{"event": "collected", "total": 5}'


@pytest.mark.parametrize(("change", "named"), [
    (lambda t: t.pop("outcome"), "tests.0.outcome: Field required"),
    (lambda t: t.update(outcome="crashed"), "tests.0.outcome"),
    (lambda t: t.update(requirements="SEC-TLS-001"), "tests.0.requirements"),
    (lambda t: t.update(duration_s="0.25"), "tests.0.duration_s"),
    (lambda t: t.update(surprise=1), "tests.0.surprise: Extra inputs are not permitted"),
])
def test_a_malformed_record_is_a_harness_error_naming_the_field(tmp_path: Path, change,
                                                                named: str) -> None:
    data = json.loads(results_of(record("t.py::test_a", ["SEC-TLS-001"])).to_json())
    change(data["tests"][0])
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(HarnessError) as raised:
        RunResults.read(path)
    assert str(path) in str(raised.value) and named in str(raised.value)
    assert "not the system under test's failure" in str(raised.value)


@pytest.mark.parametrize("text", ["", "{\"tests\": [", "[]", "null"])
def test_a_results_file_that_is_not_results_is_a_harness_error(tmp_path: Path,
                                                                text: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HarnessError, match="not a valid results file"):
        RunResults.read(path)


def test_a_missing_results_file_is_a_harness_error(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="cannot read the results file"):
        RunResults.read(tmp_path / "absent.json")


@pytest.mark.parametrize("line", [
    "not json", '{"event": "tick"}', '{"event": "test", "nodeid": "n"}',
    '{"event": "collected", "total": "5"}', '{"total": 5}'])
def test_a_malformed_progress_line_is_a_harness_error(line: str) -> None:
    with pytest.raises(HarnessError, match="not an event") as raised:
        parse_event(line)
    assert line[:20] in str(raised.value)


# -- from the subprocess: run_pytest, with a stand-in for the suites' pytest ---------------------


def stand_in(work: Path, progress: list[str], results: str | None) -> list[str]:
    """A command that writes ``progress`` lines and ``results`` as the plugin would."""
    script = (
        "import pathlib, sys\n"
        f"work = pathlib.Path({str(work)!r})\n"
        f"with (work / 'progress.jsonl').open('a', encoding='utf-8') as f:\n"
        f"    f.write(''.join(line + '\\n' for line in {progress!r}))\n"
        f"results = {results!r}\n"
        "if results is not None:\n"
        "    (work / 'results.json').write_text(results, encoding='utf-8')\n"
        "sys.exit(1)\n")
    return [sys.executable, "-c", script]


@pytest.fixture
def fake_pytest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    work = tmp_path / "work"
    work.mkdir()
    plan = SimpleNamespace(report_dir=tmp_path / "report")
    plan.report_dir.mkdir()

    def run(progress: list[str], results: str | None) -> tuple[RunResults, list[Event]]:
        monkeypatch.setattr(pytest_run, "pytest_command",
                            lambda *_args: stand_in(work, progress, results))
        seen: list[Event] = []
        got = pytest_run.run_pytest(plan, SimpleNamespace(), 1, work,  # type: ignore[arg-type]
                                    seen.append)
        return got, seen

    return run


def test_run_pytest_hands_on_typed_events_and_results(fake_pytest) -> None:
    results = results_of(record("t.py::test_a", ["SEC-TLS-001"], "failed"))
    events = [Collected(total=1), Started(nodeid="t.py::test_a"),
              TestFinished(nodeid="t.py::test_a", outcome="failed",
                           requirements=("SEC-TLS-001",), duration_s=0.25),
              Finished(exitstatus=1)]
    got, seen = fake_pytest([e.to_line() for e in events], results.to_json())
    assert got == results and seen == events


def test_run_pytest_says_a_malformed_record_from_the_subprocess_is_a_harness_error(
        fake_pytest) -> None:
    data = json.loads(results_of(record("t.py::test_a", ["SEC-TLS-001"])).to_json())
    del data["tests"][0]["requirements"]
    with pytest.raises(HarnessError, match=r"results\.json: not a valid results file .*"
                                           r"tests\.0\.requirements: Field required"):
        fake_pytest([], json.dumps(data))


def test_run_pytest_says_a_malformed_progress_line_is_a_harness_error(fake_pytest) -> None:
    with pytest.raises(HarnessError, match=r"not an event.*outcome"):
        fake_pytest(['{"event": "test", "nodeid": "t.py::test_a"}'], None)


def test_the_progress_display_counts_failures_and_harness_errors_from_events() -> None:
    from meshcert.cli.certify import ProgressDisplay

    with ProgressDisplay() as display:
        for event in [Phase(text="running the suites"), Collected(total=3),
                      Started(nodeid="t.py::test_a"),
                      TestFinished(nodeid="t.py::test_a", outcome="failed",
                                   requirements=("SEC-AUTH-002",), duration_s=0.1),
                      TestFinished(nodeid="t.py::test_b", outcome="error",
                                   requirements=("SEC-TLS-001",), duration_s=0.1),
                      TestFinished(nodeid="t.py::test_c", outcome="passed",
                                   requirements=("SEC-TLS-002",), duration_s=0.1),
                      Finished(exitstatus=1)]:
            display.on_event(event)
        [task] = display.progress.tasks
        assert (display.failed, display.errors) == (1, 1)
        assert (task.total, task.completed, task.description) == (3, 3, "tests")
        assert "1 failed" in task.fields["failures"] and "1 error" in task.fields["failures"]
