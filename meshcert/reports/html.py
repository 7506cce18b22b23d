"""index.html of a report: one self-contained file (inline CSS, JS and SVG; no network), made
from the certificate and the evidence of the failing tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import jinja2

from meshcert.certify.evidence import Exchange
from meshcert.certify.latency import samples_of
from meshcert.certify.plugin import safe_test_id
from meshcert.certify.records import Evidence, TestRecord
from meshcert.certify.verdicts import (
    ERROR_OUTCOMES,
    EXIT_INCONCLUSIVE,
    EXIT_OK,
    FAILED_OUTCOMES,
    PHASES,
    VERDICTS,
)
from meshcert.errors import HarnessError
from meshcert.reports.charts import latency_histogram

TEMPLATES = Path(__file__).resolve().parent / "templates"
SHOWN_EXCHANGES = 5  # per failing test: the last ones (the failing exchange is usually last)

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_environment.filters["anchor"] = lambda nodeid: f"fail-{safe_test_id(nodeid)}"


def render_index(certificate: dict[str, Any], tests: Sequence[TestRecord],
                 report_dir: Path) -> str:
    template = _environment.get_template("index.html.j2")
    return template.render(c=certificate, banner=banner(certificate), verdicts=VERDICTS,
                           failures=_failures(certificate, tests, report_dir, FAILED_OUTCOMES),
                           errors=_failures(certificate, tests, report_dir, ERROR_OUTCOMES),
                           phases=PHASES,
                           charts=_charts(certificate, tests),
                           levels=("MUST", "SHOULD", "MAY"))


def banner(certificate: dict[str, Any]) -> dict[str, str]:
    """The headline: certified, not certified (the gate failed), could not judge (the harness
    failed: no requirement failed, some could not be judged), or passed without certifying (a
    partial run, untested or baseline-expected MUST requirements)."""
    summary = certificate["summary"]
    if certificate["certified"]:
        return {"kind": "certified", "title": "Certified", "ja": "適合",
                "text": "Every MUST requirement of the profile passed."}
    if certificate["exit_code"] == EXIT_INCONCLUSIVE:
        return {"kind": "error", "title": "Could not judge: not certified", "ja": "判定不能",
                "text": "The harness failed, not (as far as it could see) the system under "
                        "test; fix the harness error and run again. "
                        + "; ".join(summary["reasons"])}
    if certificate["exit_code"] != EXIT_OK:
        return {"kind": "failed", "title": "Not certified", "ja": "不適合",
                "text": "; ".join(summary["reasons"][:2])}
    partial = certificate["scope"]["requirements"] is not None
    return {"kind": "partial", "title": "Passed, not certified" if partial else "Not certified",
            "ja": "部分実行" if partial else "未認証",
            "text": ("A run limited to some requirements passed; only a run of the whole "
                     "profile certifies. " if partial else "") + "; ".join(summary["reasons"])}


def _pretty(body: str | None) -> str | None:
    if body is None:
        return None
    try:
        return json.dumps(json.loads(body), ensure_ascii=False, indent=2)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to pretty-print
        return body


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "")


def _exchange(exchange: Exchange) -> dict[str, Any]:
    """An exchange as the template shows it: with its problem details and bodies pretty."""
    content_type = _header(exchange.response_headers, "content-type")
    problem = None
    if "problem+json" in content_type and exchange.response_body:
        try:
            parsed = json.loads(exchange.response_body)
            problem = parsed if isinstance(parsed, dict) else None
        except ValueError:
            problem = None
    return {**asdict(exchange), "content_type": content_type, "problem": problem,
            "request_pretty": _pretty(exchange.request_body),
            "response_pretty": _pretty(exchange.response_body)}


def _exchanges(test: TestRecord, report_dir: Path) -> tuple[Exchange, ...]:
    """The exchanges in a test's evidence file (none when it has none, or it is unreadable:
    the page still shows the failure)."""
    if not test.evidence:
        return ()
    try:
        return Evidence.read(report_dir / test.evidence).exchanges
    except HarnessError:
        return ()


def _failures(certificate: dict[str, Any], tests: Sequence[TestRecord], report_dir: Path,
              outcomes: frozenset[str]) -> list[dict[str, Any]]:
    """The tests with one of ``outcomes`` (failed, or harness errors), each with its
    requirements, replay commands and last exchanges."""
    by_id = {r["id"]: r for r in certificate["requirements"]}
    found = []
    for test in (t for t in tests if t.outcome in outcomes):
        exchanges = _exchanges(test, report_dir)
        requirements = [by_id[i] for i in test.requirements if i in by_id]
        found.append({
            "test": test,
            "requirements": requirements,
            "replays": [(r["id"], r["replay"]) for r in requirements if r["replay"]],
            "exchanges": [_exchange(e) for e in exchanges[-SHOWN_EXCHANGES:]],
            "earlier": max(0, len(exchanges) - SHOWN_EXCHANGES),
        })
    return found


def _charts(certificate: dict[str, Any], tests: Sequence[TestRecord]
            ) -> list[dict[str, Any]]:
    samples = {t.nodeid: samples_of(t) for t in tests}
    charts = []
    for summary in certificate["latency"]:
        target = summary["target"]
        svg = latency_histogram(
            samples[summary["test"]],
            threshold=target["threshold_ms"] if target else None,
            percentile=target["percentile"] if target else 95,
            observed=target["observed_ms"] if target else summary["p95_ms"],
            title=summary["test"].split("::")[-1])
        charts.append({"summary": summary, "svg": svg})
    return charts
