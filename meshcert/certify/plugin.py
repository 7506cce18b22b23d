"""The pytest plugin behind every certification run (loaded by the root conftest.py).

It adds the ``requirement`` marker, the options that name the system under test (``--target``,
``--profile``, ``--requirement``), selects the tests of the profile's requirements, and gives the
suites their fixtures: the target, the catalog, a token factory, an HTTP client for the target
that records every exchange as evidence, and the seeded population.

For ``meshcert certify`` (meshcert/certify/run.py) it also records what happened, when asked to:

- ``--meshcert-progress FILE``: one JSON line per event (meshcert/certify/events.py:
  ``collected`` with the total, ``start`` and ``test`` per test, ``finished``), appended and
  flushed as it happens so the runner can tail it for its progress bar;
- ``--meshcert-evidence DIR``: per test, ``DIR/<safe test id>.json`` with its outcome and the
  exchanges its clients recorded (``harness.recorder_for(item)``; records.Evidence);
- ``--meshcert-results FILE``: at the end (records.RunResults, one records.TestRecord per
  test), every test's outcome, requirement ids, duration, short
  failure text and user_properties (suites record ``("latency_ms", [floats])`` there);
  the outcome ``error`` (the harness could not judge) for a crash in set-up or teardown and
  for a :class:`~meshcert.certify.verdicts.HarnessFault` raised by the test, ``failed`` for
  the rest;
- with ``--alluredir``: Allure labels for the requirement (also as story), profile and catalog
  version, severity by level, and the exchanges attached as JSON in the test's teardown.

With ``--junitxml``, a test that raised a ``HarnessFault`` is an ``<error>`` there too (pytest
itself writes ``<failure>`` for whatever the test body raises).

The ``meshcert-certify`` Hypothesis profile (no example database, no deadline) makes a run
depend on ``--hypothesis-seed`` only, so a failure replays exactly.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from meshcert.catalog.requirements import DEFAULT_VERSION, Catalog, load_catalog
from meshcert.catalog.targets import Target, TargetError, load_target
from meshcert.certify.events import Collected, Event, Finished, Started, TestFinished
from meshcert.certify.harness import RECORDER, Harness, harness_for
from meshcert.certify.records import RunResults, TestOutcome, TestRecord
from meshcert.certify.verdicts import HarnessFault

SUITES_DIR = Path(__file__).resolve().parents[2] / "meshcert_suites"
HYPOTHESIS_PROFILE = "meshcert-certify"
MESSAGE_LIMIT = 4000      # the short failure text kept per test
DETAILS_LIMIT = 8000      # the tail of the full failure report kept per test
SEVERITY = {"MUST": "critical", "SHOULD": "normal", "MAY": "minor"}

# Replay needs the seed alone: no saved examples replayed first, no timing-dependent deadline
# (the system under test is across a network).
hypothesis_settings.register_profile(HYPOTHESIS_PROFILE, database=None, deadline=None)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("meshcert", "meshcert certification")
    group.addoption("--target", metavar="FILE", help="target file of the system under test")
    group.addoption("--profile", metavar="NAME", help="profile (default: the target's)")
    group.addoption("--requirement", metavar="ID", action="append", default=[],
                    help="run only the tests of this requirement (repeatable)")
    group.addoption("--meshcert-topology", metavar="FILE",
                    help="topology of the harness side (issuer, simulators); default: "
                         "fixtures/topologies/certify.yaml")
    group.addoption("--meshcert-run-dir", metavar="DIR",
                    help="run folder of the harness's simulators (local CA, keys)")
    group.addoption("--meshcert-results", metavar="FILE",
                    help="write every test's outcome, requirements and timings here (JSON)")
    group.addoption("--meshcert-progress", metavar="FILE",
                    help="append one JSON line per collected/started/finished test")
    group.addoption("--meshcert-evidence", metavar="DIR",
                    help="write each test's recorded exchanges to DIR/<test>.json")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requirement(*ids): the catalog requirements this test verifies")
    if any(config.getoption(o) for o in ("meshcert_results", "meshcert_progress",
                                         "meshcert_evidence")):
        config.pluginmanager.register(RunRecorder(config), "meshcert-run-recorder")


def requirement_ids(item: pytest.Item) -> tuple[str, ...]:
    """Every requirement id named by ``@pytest.mark.requirement`` on a test."""
    return tuple(i for mark in item.iter_markers("requirement") for i in mark.args)


def _in_suites(item: pytest.Item) -> bool:
    return SUITES_DIR in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    suite_items = [i for i in items if _in_suites(i)]
    if not suite_items:
        return
    unmarked = [i.nodeid for i in suite_items if not requirement_ids(i)]
    if unmarked:
        raise pytest.UsageError(
            "every test in meshcert_suites/ names the requirement it verifies with "
            "@pytest.mark.requirement(\"ID\"); these do not:\n  " + "\n  ".join(unmarked))
    catalog = _catalog(config)
    known = {r.id for r in catalog.requirements}
    unknown = sorted({i for item in suite_items for i in requirement_ids(item)} - known)
    if unknown:
        raise pytest.UsageError(f"suites name requirements not in catalog {catalog.version}: "
                                f"{', '.join(unknown)}")
    profile = _profile(config)
    if profile is None:
        return
    wanted = {r.id for r in catalog.for_profile(profile)}
    chosen = set(config.getoption("requirement"))
    if chosen - known:
        raise pytest.UsageError(f"--requirement names unknown ids: {sorted(chosen - known)}")
    if chosen:
        wanted &= chosen
    keep, drop = [], []
    for item in items:
        if not _in_suites(item) or set(requirement_ids(item)) & wanted:
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    if config.getoption("allure_report_dir", None):
        _allure_labels(items, catalog, profile)


def _allure_labels(items: list[pytest.Item], catalog: Catalog, profile: str) -> None:
    """Requirement, profile and catalog version as Allure labels (read at teardown by
    allure-pytest from these markers); the requirement also as story, its level as severity."""
    label = pytest.mark.allure_label
    for item in items:
        ids = requirement_ids(item)
        if not ids:
            continue
        levels = [catalog.get(i).level for i in ids]
        item.add_marker(label(*ids, label_type="requirement"))
        item.add_marker(label(*(f"{i} {catalog.get(i).title.en}" for i in ids),
                              label_type="story"))
        item.add_marker(label(profile, label_type="feature"))
        item.add_marker(label(profile, label_type="profile"))
        item.add_marker(label(catalog.version, label_type="catalog_version"))
        item.add_marker(label(f"{catalog.title.en} {catalog.version}", label_type="epic"))
        strongest = min(levels, key=["MUST", "SHOULD", "MAY"].index)
        item.add_marker(label(SEVERITY[strongest], label_type="severity"))


def _catalog(config: pytest.Config) -> Catalog:
    target = _target_or_none(config)
    return load_catalog(target.catalog if target else DEFAULT_VERSION)


def _profile(config: pytest.Config) -> str | None:
    explicit = config.getoption("profile")
    if explicit:
        return str(explicit)
    target = _target_or_none(config)
    return target.profile if target else None


def _target_or_none(config: pytest.Config) -> Target | None:
    path = config.getoption("target")
    if not path:
        return None
    cached = getattr(config, "_meshcert_target", None)
    if cached is None:
        try:
            cached = load_target(Path(path))
        except TargetError as exc:
            raise pytest.UsageError(str(exc)) from None
        config._meshcert_target = cached  # type: ignore[attr-defined]
    return cached[0]


# -- fixtures for the suites ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    """The system under test, as its target file describes it."""
    found = _target_or_none(pytestconfig)
    if found is None:
        pytest.skip("no --target given: the suites certify a system named by a target file")
    return found


@pytest.fixture(scope="session")
def catalog(pytestconfig: pytest.Config) -> Catalog:
    return _catalog(pytestconfig)


@pytest.fixture(scope="session")
def harness(pytestconfig: pytest.Config, target: Target) -> Harness:
    """The harness side: token issuer, TLS trust, and the target's HTTP access."""
    _, base = pytestconfig._meshcert_target  # type: ignore[attr-defined]
    return harness_for(target, base, pytestconfig.getoption("meshcert_topology"),
                       pytestconfig.getoption("meshcert_run_dir"))


@pytest.fixture
def api(harness: Harness, request: pytest.FixtureRequest) -> Any:
    """An HTTP client for the target, authenticated with every scope of the profile, whose
    exchanges are recorded as this test's evidence."""
    client = harness.client(recorder=harness.recorder_for(request.node))
    yield client
    client.close()


def _meshcert_attach_exchanges(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test (in its teardown, so allure-pytest takes it), attach the exchanges the
    test's clients recorded. First in, last out: the test's clients are closed by then."""
    yield
    recorder = request.node.stash.get(RECORDER, None)
    if recorder is None or not recorder.exchanges:
        return
    if not request.config.getoption("allure_report_dir", None):
        return
    import allure

    allure.attach(json.dumps(recorder.dump(), ensure_ascii=False, indent=1),
                  name=f"exchanges ({len(recorder.exchanges)})",
                  attachment_type=allure.attachment_type.JSON)


# What Allure shows for this teardown step (allure-pytest reads this attribute).
_meshcert_attach_exchanges.__allure_display_name__ = "meshcert evidence"  # type: ignore[attr-defined]
_meshcert_attach_exchanges = pytest.fixture(autouse=True)(_meshcert_attach_exchanges)


# -- harness faults: "could not judge", apart from failures --------------------------------------

HARNESS_FAULT = pytest.StashKey[bool]()
FAULTED = pytest.StashKey[list[str]]()  # node ids of tests that raised a HarnessFault


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    if call.when == "call" and call.excinfo is not None \
            and call.excinfo.errisinstance(HarnessFault):
        item.stash[HARNESS_FAULT] = True
        item.config.stash.setdefault(FAULTED, []).append(item.nodeid)
    return report


@pytest.hookimpl(trylast=True)  # after junitxml has written its file
def pytest_sessionfinish(session: pytest.Session) -> None:
    faulted = session.config.stash.get(FAULTED, [])
    xml_path = session.config.getoption("xmlpath", None)
    if faulted and xml_path:
        from meshcert.reports.junit import failures_to_errors  # the reports import this module

        failures_to_errors(Path(xml_path), faulted, session.config.getoption("junitprefix", None))


# -- recording a certification run ---------------------------------------------------------------


def safe_test_id(nodeid: str) -> str:
    """A file name for a test id: readable, short, and unique (a hash of the full id)."""
    path, _, name = nodeid.partition("::")
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{Path(path).stem}__{name}").strip("_.")[:100]
    return f"{readable}-{hashlib.sha256(nodeid.encode()).hexdigest()[:8]}"


PHASES = pytest.StashKey[dict[str, pytest.TestReport]]()


class RunRecorder:
    """Writes progress lines, evidence files and the results file of a certification run."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        results = config.getoption("meshcert_results")
        evidence = config.getoption("meshcert_evidence")
        progress = config.getoption("meshcert_progress")
        self.results_path = Path(results) if results else None
        self.evidence_dir = Path(evidence) if evidence else None
        self.progress_path = Path(progress) if progress else None
        self.tests: list[TestRecord] = []
        self.collected = 0
        self.started = time.time()

    def _emit(self, event: Event) -> None:
        # Opened per line: each line is whole on disk when the runner reads it.
        if self.progress_path is not None:
            with self.progress_path.open("a", encoding="utf-8") as stream:
                stream.write(event.to_line() + "\n")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = len(session.items)
        self._emit(Collected(total=self.collected))

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self._emit(Started(nodeid=nodeid))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
        report: pytest.TestReport = yield
        phases = item.stash.setdefault(PHASES, {})
        phases[report.when] = report
        if report.when == "teardown":
            self._finish(item, phases)
        return report

    def _finish(self, item: pytest.Item, phases: dict[str, pytest.TestReport]) -> None:
        outcome, failed_report = _outcome(phases, item.stash.get(HARNESS_FAULT, False))
        recorder = item.stash.get(RECORDER, None)
        exchanges = recorder.exchanges if recorder is not None else []
        record = TestRecord(
            nodeid=item.nodeid,
            name=item.name,
            requirements=requirement_ids(item),
            outcome=outcome,
            duration_s=round(sum(r.duration for r in phases.values()), 6),
            call_duration_s=round(phases["call"].duration, 6) if "call" in phases else None,
            message=_short_message(failed_report) if failed_report else None,
            phase=failed_report.when if failed_report else None,  # where it went wrong
            details=_details(failed_report) if failed_report else None,
            location=f"{item.location[0]}:{(item.location[1] or 0) + 1}",
            user_properties=_json_safe(dict(item.user_properties)),
            exchanges=len(exchanges),
        )
        if self.evidence_dir is not None:
            self.evidence_dir.mkdir(parents=True, exist_ok=True)
            name = f"{safe_test_id(item.nodeid)}.json"
            (self.evidence_dir / name).write_text(record.evidence_of(exchanges).to_json(),
                                                  encoding="utf-8")
            record = record.model_copy(update={"evidence": f"{self.evidence_dir.name}/{name}"})
        self.tests.append(record)
        self._emit(TestFinished(nodeid=record.nodeid, outcome=record.outcome,
                                requirements=record.requirements, duration_s=record.duration_s))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self._emit(Finished(exitstatus=int(exitstatus)))
        if self.results_path is not None:
            results = RunResults(collected=self.collected, exitstatus=int(exitstatus),
                                 started=self.started, finished=time.time(),
                                 hypothesis_seed=_hypothesis_seed(session.config),
                                 tests=tuple(self.tests))
            self.results_path.write_text(results.to_json(), encoding="utf-8")


def _outcome(phases: dict[str, pytest.TestReport], harness_fault: bool = False
             ) -> tuple[TestOutcome, pytest.TestReport | None]:
    """One word per test, and the report that explains it when it did not pass: ``error``
    when the harness could not judge (a crash in set-up or teardown, or ``harness_fault``: the
    test raised a HarnessFault), ``failed`` when the system under test was judged and failed."""
    setup, call, teardown = (phases.get(w) for w in ("setup", "call", "teardown"))
    if setup is not None and setup.failed:
        return "error", setup
    if setup is not None and setup.skipped:
        return ("xfailed" if hasattr(setup, "wasxfail") else "skipped"), setup
    result: TestOutcome = "passed"
    explained: pytest.TestReport | None = None
    if call is not None:
        if call.failed:
            result, explained = ("error" if harness_fault else "failed"), call
        elif call.skipped:
            result, explained = ("xfailed" if hasattr(call, "wasxfail") else "skipped"), call
        elif hasattr(call, "wasxfail"):
            result = "xpassed"
    if teardown is not None and teardown.failed and result in ("passed", "xpassed"):
        return "error", teardown
    return result, explained


def _short_message(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")[:MESSAGE_LIMIT]
    crash = getattr(longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(longrepr).strip().splitlines()[-1:]
    return str(message if isinstance(message, str) else "\n".join(message))[:MESSAGE_LIMIT]


def _details(report: pytest.TestReport) -> str | None:
    if isinstance(report.longrepr, tuple):
        return None
    text = report.longreprtext
    return text if len(text) <= DETAILS_LIMIT else "…\n" + text[-DETAILS_LIMIT:]


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _hypothesis_seed(config: pytest.Config) -> str | None:
    seed = config.getoption("hypothesis_seed", None)
    return None if seed is None else str(seed)
