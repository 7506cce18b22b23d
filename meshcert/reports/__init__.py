"""Report builders: certificate.json (content.py), index.html (html.py with the Jinja2 template
in templates/, SVG charts from charts.py), signed with meshcert.reports.certificate; junit.py keeps
harness errors apart from failures in junit.xml.

A report folder (default reports/out/<run id>/, git-ignored)::

    certificate.json        verdict per requirement, facts of the run, SHA-256 of every file
    certificate.json.sig    Ed25519 signature over the exact bytes of certificate.json (base64)
    signing-key.pub.pem     the public key it verifies with
    index.html              self-contained: banner, matrix, failing exchanges, latency charts
    junit.xml               the suites' JUnit XML: harness errors as <error> (junit.py),
                            failures of the system as <failure>
    allure-results/         Allure results: labels per requirement, exchanges attached
    evidence/<test>.json    per test: outcome and the exchanges it recorded
    pytest.log              pytest's own output
    logs/<simulator>.log    for a launched reference: the simulators' logs (access log)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from meshcert.certify.records import TestRecord
from meshcert.certify.verdicts import Outcome
from meshcert.reports.certificate import write_signed
from meshcert.reports.content import RunFacts, build_certificate
from meshcert.reports.html import render_index

__all__ = ["RunFacts", "build_certificate", "render_index", "write_report"]


def write_report(report_dir: Path, facts: RunFacts, outcome: Outcome,
                 tests: Sequence[TestRecord], key: Ed25519PrivateKey) -> dict[str, Any]:
    """Write index.html and the signed certificate.json into ``report_dir`` (which already
    holds junit.xml, evidence/ and allure-results/ from the run); returns the certificate."""
    certificate = build_certificate(facts, outcome, tests, key)
    html = render_index(certificate, tests, report_dir)
    (report_dir / "index.html").write_text(html, encoding="utf-8")
    write_signed(report_dir, certificate, key)
    return certificate
