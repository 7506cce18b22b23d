"""Recorded runs for the console's tests, written by the real report writer (no processes):
certifications of the bundled reference registry and of a defective variant, with evidence
whose exchanges the differential can match. The tests here check the builders themselves."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from meshcert.certify.evidence import Exchange
from meshcert.certify.plugin import safe_test_id
from meshcert.certify.records import TestOutcome
from meshcert.certify.verdicts import judge
from meshcert.reports import write_report
from meshcert.reports.certificate import verify_report
from tests.unit.sample_report import record, sample_facts

KEY = Ed25519PrivateKey.generate()
BASE = "https://127.0.0.1:{port}"
RESIDENT = "/municipalities/131016/residents/0633853568"
LATENCY_TEST = "meshcert_suites/rr/test_latency.py::test_reads_are_fast"
DAY0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

# The requirements the recorded runs test, and the test of each.
TESTS = {
    "PRIV-MYNUM-001": "meshcert_suites/rr/test_privacy.py::test_no_my_number_without_scope",
    "SEC-AUTH-002": "meshcert_suites/rr/test_auth.py::test_another_audience_is_refused",
    "ERR-REQID-001": "meshcert_suites/rr/test_ids.py::test_request_id",
    "PERF-READ-001": LATENCY_TEST,
}


def exchanges(nodeid: str, port: int, defect: str | None, run: int) -> list[Exchange]:
    """What a test sent: a read the reference answers without the My Number (the defect
    ``mynumber-to-everyone`` adds it), and a write with a per-run random id (no partner)."""
    record_body = {"atena_number": "0633853568", "name": {"surname": "𠮷田", "given_name": "髙"},
                   "updated_at": f"2026-11-0{run % 9 + 1}T10:00:00Z"}
    if defect == "mynumber-to-everyone":
        record_body["my_number"] = "123456789018"
    base = BASE.format(port=port)
    return [
        Exchange("GET", base + RESIDENT, {"authorization": "[redacted]"}, None, status=200,
                 response_headers={"content-type": "application/json"},
                 response_body=json.dumps(record_body, ensure_ascii=False), elapsed_ms=3.0,
                 started_at=0.0),
        Exchange("POST", base + "/municipalities/131016/movements", {}, json.dumps(
            {"event_id": f"e-{nodeid[-6:]}-{run}-{port}", "kind": "birth"}), status=201,
                 response_body=json.dumps({"seq": run}), elapsed_ms=5.0, started_at=0.0),
    ]


def make_run(root: Path, name: str, *, run: int = 0, seed: int = 1234,
             defect: str | None = None, failing: tuple[str, ...] = (),
             latency_ms: float = 20.0, tamper: bool = False) -> Path:
    """A signed certification folder ``root/name`` of the reference registry (with ``defect``,
    when given), started ``run`` days after DAY0; ``failing`` requirements fail."""
    folder = root / name
    evidence = folder / "evidence"
    evidence.mkdir(parents=True)
    port = 30000 + run
    tests = []
    for requirement, nodeid in TESTS.items():
        outcome: TestOutcome = "failed" if requirement in failing else "passed"
        extra = {"user_properties": {"latency_ms": [latency_ms + i / 100
                                                    for i in range(100)]}} \
            if nodeid == LATENCY_TEST else {}
        test = record(nodeid, [requirement], outcome,
                      message="AssertionError: recorded failure" if outcome == "failed"
                      else None, phase="call" if outcome == "failed" else None, **extra)
        sent = exchanges(nodeid, port, defect, run)
        file = f"evidence/{safe_test_id(nodeid)}.json"
        (folder / file).write_text(test.evidence_of(sent).to_json(), encoding="utf-8")
        tests.append(test.model_copy(update={"evidence": file, "exchanges": len(sent)}))
    (folder / "junit.xml").write_text("<testsuites/>\n", encoding="utf-8")
    facts = sample_facts()
    started = DAY0 + timedelta(days=run)
    facts = replace(facts, run_id=f"{started:%Y%m%dT%H%M%SZ}-{name[-6:]}", seed=seed,
                    defect=defect, defect_overridden=defect is not None, started=started,
                    finished=started + timedelta(seconds=20), base_url=BASE.format(port=port))
    outcome = judge(facts.catalog, facts.target.profile, tests)
    write_report(folder, facts, outcome, tests, KEY)
    if tamper:
        certificate = folder / "certificate.json"
        certificate.write_text(certificate.read_text(encoding="utf-8").replace(
            '"certified": false', '"certified": true'), encoding="utf-8")
    return folder


def test_a_recorded_run_is_a_report_that_verifies(tmp_path: Path) -> None:
    folder = make_run(tmp_path, "run-a", failing=("SEC-AUTH-002",))
    assert verify_report(folder).valid
    certificate = json.loads((folder / "certificate.json").read_text(encoding="utf-8"))
    verdicts = {r["id"]: r["verdict"] for r in certificate["requirements"]}
    assert verdicts["SEC-AUTH-002"] == "fail" and verdicts["ERR-REQID-001"] == "pass"
    assert certificate["target"]["launch"] == {"simulator": "municipal", "defect": None}


def test_a_tampered_run_does_not_verify(tmp_path: Path) -> None:
    folder = make_run(tmp_path, "run-t", failing=("SEC-AUTH-002",), tamper=True)
    assert not verify_report(folder).signature_valid
