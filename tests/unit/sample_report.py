"""A report folder made from invented test results (no processes): for the certificate,
signature, verify and HTML tests."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from meshcert.catalog.requirements import load_catalog
from meshcert.catalog.targets import load_target
from meshcert.certify.baseline import Baseline
from meshcert.certify.evidence import Exchange
from meshcert.certify.plugin import safe_test_id
from meshcert.certify.records import TestOutcome, TestRecord
from meshcert.certify.verdicts import judge
from meshcert.reports import RunFacts, write_report

REFERENCE = Path(__file__).resolve().parents[2] / "fixtures" / "vendors" / "reference-registry.yaml"

PROBLEM = {"type": "urn:meshcert:problem:invalid-token", "title": "Invalid token",
           "status": 401, "detail": "the token's audience is not this system",
           "reason": "wrong-audience"}


def record(nodeid: str, requirements: list[str], outcome: TestOutcome = "passed",
           **extra: Any) -> TestRecord:
    """A test record as the plugin makes it; ``extra`` sets further fields."""
    fields: dict[str, Any] = {
        "nodeid": nodeid, "name": nodeid.split("::")[-1], "requirements": tuple(requirements),
        "outcome": outcome, "duration_s": 0.25, "call_duration_s": 0.2, "message": None,
        "phase": None, "details": None, "location": f"{nodeid.split('::')[0]}:10",
        "user_properties": {}, "exchanges": 0, "evidence": None}
    return TestRecord(**(fields | extra))


def sample_tests() -> list[TestRecord]:
    rng = random.Random(7)
    latency = [round(rng.lognormvariate(3.2, 0.45), 2) for _ in range(400)]
    return [
        record("meshcert_suites/rr/test_tls.py::test_tls_only", ["SEC-TLS-001"]),
        record("meshcert_suites/rr/test_auth.py::test_another_audience_is_refused[single]",
                    ["SEC-AUTH-002"], "failed",
                    message="AssertionError: a token for another audience must be refused "
                            "with 401; the target answered 200"),
        record("meshcert_suites/rr/test_auth.py::test_expired_is_refused", ["SEC-AUTH-003"]),
        record("meshcert_suites/rr/test_errors.py::test_problem_json", ["ERR-PROB-001"], "error",
                    message="RuntimeError: the seeding endpoint is down", phase="setup"),
        record("meshcert_suites/rr/test_ids.py::test_request_id", ["ERR-REQID-001"], "failed",
                    message="AssertionError: no X-Request-ID"),
        record("meshcert_suites/rr/test_perf.py::test_reads_are_fast", ["PERF-READ-001"],
                    user_properties={"latency_ms": latency}),
    ]


def exchanges_for(nodeid: str) -> list[Exchange]:
    return [
        Exchange("GET", "https://127.0.0.1:18201/municipalities/131016/residents/1",
                 {"authorization": "[redacted]", "accept": "*/*"}, None, status=401,
                 response_headers={"content-type": "application/problem+json"},
                 response_body=json.dumps(PROBLEM), elapsed_ms=3.2, started_at=0.0),
        Exchange("POST", "https://127.0.0.1:18201/municipalities/131016/movements",
                 {"authorization": "[redacted]", "content-type": "application/json"},
                 json.dumps({"event_id": "e-1", "kind": "birth", "name": "𠮷田 髙"},
                            ensure_ascii=False),
                 status=200, response_headers={"content-type": "application/json"},
                 response_body=json.dumps({"lg_code": "131016", "atena_number": "0633853568"}),
                 elapsed_ms=10.0, started_at=0.0),
    ]


def make_report(folder: Path, key: Ed25519PrivateKey, *, tests: list[TestRecord] | None
                = None, scope: tuple[str, ...] | None = None,
                baseline: Baseline | None = None, **facts: Any) -> dict[str, Any]:
    """Write a complete signed report into ``folder``; returns the certificate. ``facts``
    override fields of the run's RunFacts (``topology``, ``backend``, ...)."""
    target, _ = load_target(REFERENCE)
    catalog = load_catalog(target.catalog)
    tests = sample_tests() if tests is None else tests
    folder.mkdir(parents=True, exist_ok=True)
    evidence = folder / "evidence"
    evidence.mkdir(exist_ok=True)
    with_evidence = []
    for test in tests:
        name = f"{safe_test_id(test.nodeid)}.json"
        exchanges = exchanges_for(test.nodeid)
        (evidence / name).write_text(test.evidence_of(exchanges).to_json(), encoding="utf-8")
        with_evidence.append(test.model_copy(update={"evidence": f"evidence/{name}",
                                                     "exchanges": len(exchanges)}))
    tests = with_evidence
    (folder / "junit.xml").write_text("<testsuites/>\n", encoding="utf-8")
    outcome = judge(catalog, target.profile, tests, scope, baseline)
    run = sample_facts(scope=scope, baseline=baseline, **facts)
    return write_report(folder, run, outcome, tests, key)


def sample_facts(**overrides: Any) -> RunFacts:
    """The facts of a run of the bundled reference registry (``overrides`` change fields)."""
    target, _ = load_target(REFERENCE)
    started = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    run = RunFacts(run_id="20261126T100000Z-abcdef", target=target, target_path=REFERENCE,
                   base_url="https://127.0.0.1:18201", launch_simulator="municipal",
                   defect=None, defect_overridden=False, catalog=load_catalog(target.catalog),
                   seed=1234, started=started, finished=started + timedelta(seconds=42),
                   scope=None, rerun_of=None, baseline=None, pytest_exit=1,
                   simulators={"municipal": "https://127.0.0.1:18201"})
    return replace(run, **overrides)
