"""The plugin records a run for the runner: a progress line per test, the results file with
outcomes, requirements, durations, failure text and latency, evidence and Allure attachments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from meshcert.certify.events import Collected, Finished, Started, TestFinished, parse_event
from meshcert.certify.records import Evidence, RunResults, TestRecord

ROOT = Path(__file__).resolve().parents[2]

SUITE = '''
import pytest

from meshcert.certify.events import Collected, Finished, Started, TestFinished, parse_event
from meshcert.certify.records import Evidence, RunResults, TestRecord
from meshcert.certify.evidence import Exchange, Recorder
from meshcert.certify.harness import RECORDER
from meshcert.certify.verdicts import HarnessFault


@pytest.fixture
def recorded(request):
    recorder = Recorder()
    recorder.exchanges.append(Exchange("GET", "https://sut/x", {}, None, status=404,
        response_headers={"content-type": "application/problem+json"},
        response_body='{"type": "urn:meshcert:problem:not-found", "status": 404}'))
    request.node.stash[RECORDER] = recorder
    return recorder


@pytest.fixture
def broken():
    raise RuntimeError("the seeding endpoint is down")


@pytest.mark.requirement("ERR-REQID-001")
def test_passes(record_property):
    record_property("latency_ms", [1.5, 2.5, 3.0])


@pytest.mark.requirement("ERR-PROB-001")
def test_fails(recorded):
    assert 404 == 200, "the target answered 404"


@pytest.mark.requirement("SEC-TLS-001")
def test_errors(broken):
    pass


@pytest.mark.requirement("SEC-TLS-002")
def test_skips():
    pytest.skip("needs TLS 1.1 in the client")


@pytest.mark.requirement("SEC-AUTH-002")
def test_harness_gives_up():
    raise HarnessFault("the mesh simulator's fault-injection endpoint answered 503")
'''


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("recording")
    (folder / "test_sample.py").write_text(SUITE, encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "meshcert.certify.plugin", "-p",
         "no:cacheprovider", "--rootdir", str(folder), str(folder / "test_sample.py"),
         "--meshcert-results", str(folder / "results.json"),
         "--meshcert-progress", str(folder / "progress.jsonl"),
         "--meshcert-evidence", str(folder / "evidence"),
         "--alluredir", str(folder / "allure"), "--junitxml", str(folder / "junit.xml"), "-q"],
        cwd=folder, capture_output=True, text=True, timeout=120, check=False)
    return folder


def results(run: Path) -> dict[str, TestRecord]:
    return {t.name: t for t in RunResults.read(run / "results.json").tests}


def test_each_test_gets_one_outcome_with_its_requirements(run: Path) -> None:
    found = results(run)
    assert {n: t.outcome for n, t in found.items()} == {
        "test_passes": "passed", "test_fails": "failed", "test_errors": "error",
        "test_skips": "skipped", "test_harness_gives_up": "error"}
    assert {n: t.phase for n, t in found.items()} == {
        "test_passes": None, "test_fails": "call", "test_errors": "setup",
        "test_skips": "call", "test_harness_gives_up": "call"}
    assert found["test_fails"].requirements == ("ERR-PROB-001",)
    assert all(t.duration_s >= 0 for t in found.values())


def test_the_short_failure_text_says_what_went_wrong(run: Path) -> None:
    found = results(run)
    assert "the target answered 404" in (found["test_fails"].message or "")
    assert "the seeding endpoint is down" in (found["test_errors"].message or "")
    assert found["test_skips"].message == "needs TLS 1.1 in the client"
    assert found["test_passes"].message is None


def test_latency_recorded_by_a_suite_is_kept(run: Path) -> None:
    assert results(run)["test_passes"].user_properties == {"latency_ms": [1.5, 2.5, 3.0]}


def test_the_exchanges_of_a_test_are_its_evidence(run: Path) -> None:
    failing = results(run)["test_fails"]
    assert failing.exchanges == 1 and failing.evidence is not None
    evidence = Evidence.read(run / failing.evidence)
    assert evidence.outcome == "failed" and evidence.nodeid == failing.nodeid
    assert evidence.exchanges[0].status == 404
    assert len(list((run / "evidence").iterdir())) == 5  # one file per test


def test_the_files_keep_their_json_format(run: Path) -> None:
    """results.json and the evidence files read back to the bytes the plugin wrote: the typed
    records lose nothing of the format."""
    results_text = (run / "results.json").read_text(encoding="utf-8")
    assert RunResults.read(run / "results.json").to_json() == results_text
    assert list(json.loads(results_text)["tests"][0]) == [
        "nodeid", "name", "requirements", "outcome", "duration_s", "call_duration_s",
        "message", "phase", "details", "location", "user_properties", "exchanges", "evidence"]
    for path in (run / "evidence").iterdir():
        assert Evidence.read(path).to_json() == path.read_text(encoding="utf-8")


def test_progress_is_one_line_per_event_in_order(run: Path) -> None:
    lines = (run / "progress.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0]) == {"event": "collected", "total": 5}
    events = [parse_event(line) for line in lines]
    assert events[0] == Collected(total=5)
    assert [type(e) for e in events[1:-1]] == [Started, TestFinished] * 5
    assert isinstance(events[-1], Finished) and events[-1].exitstatus == 1
    assert [e.outcome for e in events if isinstance(e, TestFinished)] == [
        "passed", "failed", "error", "skipped", "error"]
    assert [e.to_line() for e in events] == lines


def test_junit_keeps_harness_errors_apart_from_failures(run: Path) -> None:
    import xml.etree.ElementTree as ET

    suite = ET.parse(run / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert [e.tag for e in cases["test_fails"]] == ["failure"]
    assert cases["test_errors"].find("error") is not None          # pytest's own: set-up
    harness = cases["test_harness_gives_up"]                        # the HarnessFault
    assert harness.find("failure") is None and harness.find("error") is not None
    assert "fault-injection endpoint answered 503" in harness.find("error").get("message")
    assert (suite.get("failures"), suite.get("errors")) == ("1", "2")


def test_allure_gets_the_exchanges_as_a_json_attachment(run: Path) -> None:
    attachments = list((run / "allure").glob("*-attachment.json"))
    assert len(attachments) == 1
    assert "urn:meshcert:problem:not-found" in attachments[0].read_text(encoding="utf-8")


def test_a_streamed_request_body_is_sent_and_noted_not_consumed():
    import httpx

    from meshcert.certify.evidence import Recorder

    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.read())
        return httpx.Response(413)

    recorder = Recorder()
    with httpx.Client(transport=httpx.MockTransport(handler),
                      event_hooks=recorder.hooks()) as client:
        client.post("http://target/x", content=iter([b"chunk-1", b"chunk-2"]))
    assert seen == [b"chunk-1chunk-2"]
    [exchange] = recorder.exchanges
    assert exchange.request_body == "[streamed body: not recorded]" and exchange.status == 413
