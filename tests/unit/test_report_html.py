"""index.html: self-contained, the matrix filterable in a real browser (headless Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from meshcert.catalog.requirements import load_catalog
from meshcert.reports import signing
from tests.unit.sample_report import make_report

REQUIREMENTS = len(load_catalog("2026.1").for_profile("resident-registry"))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    key, _ = signing.load_or_create_key(folder.parent / f"{folder.name}-key.pem")
    make_report(folder / "out", key)
    return folder / "out"


def rows(html: str) -> list[str]:
    return re.findall(r'<tr id="req-[^"]+"[^>]*>', html)


def test_the_report_needs_no_network(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script src" not in html and '<link rel="stylesheet"' not in html
    assert "default-src 'none'" in html  # the page may not load anything, even if edited


def test_the_matrix_failures_and_chart_are_in_the_page(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    assert len(rows(html)) == REQUIREMENTS
    assert "Not certified" in html
    assert "宛先違いのトークンを拒否する" in html  # titles in Japanese and English
    assert "Token for another audience refused" in html
    # the failing exchange with its problem+json, and the replay command
    assert "urn:meshcert:problem:invalid-token" in html
    assert ("meshcert certify --target fixtures/vendors/reference-registry.yaml "
            "--requirement SEC-AUTH-002 --seed 1234") in html
    assert "<svg" in html and "target p95 ≤ 200 ms" in html
    assert "𠮷田 髙" in html  # hard characters kept exactly


def test_a_harness_error_is_shown_apart_from_the_failures(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    failures, _, errors = html.partition('id="harness-errors"')
    assert "test_another_audience_is_refused" in failures.split("<h2>Failures")[1]
    assert "test_problem_json" not in failures.split("<h2>Failures")[1]
    assert "the seeding endpoint is down" in errors
    assert "could not judge this test (an error in set-up)" in errors
    assert '<span class="badge error">error</span>' in html
    assert "--requirement ERR-PROB-001" in errors  # a harness error can be replayed too


def test_a_run_with_only_harness_errors_says_could_not_judge(tmp_path: Path) -> None:
    from tests.unit.sample_report import record

    key, _ = signing.load_or_create_key(tmp_path / "key.pem")
    first, *others = load_catalog("2026.1").for_profile("resident-registry")
    tests = [record(f"meshcert_suites/t.py::test_{first.id}", [first.id], "error",
                    phase="setup", message="the municipal simulator is down"),
             *(record(f"meshcert_suites/t.py::test_{r.id}", [r.id]) for r in others)]
    make_report(tmp_path / "out", key, tests=tests)
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert '<section class="banner error" id="banner">' in html
    assert "Could not judge: not certified" in html and "Not certified<" not in html
    assert "No test failed." in html and "the municipal simulator is down" in html


def test_a_failure_whose_evidence_is_malformed_is_shown_without_exchanges(tmp_path: Path
                                                                           ) -> None:
    from meshcert.reports.html import render_index
    from tests.unit.sample_report import record

    key, _ = signing.load_or_create_key(tmp_path / "key.pem")
    certificate = make_report(tmp_path / "out", key)
    (tmp_path / "out" / "evidence" / "bad.json").write_text('{"nodeid": 1}', encoding="utf-8")
    failed = record("meshcert_suites/rr/test_ids.py::test_request_id", ["ERR-REQID-001"],
                    "failed", message="AssertionError: no X-Request-ID", exchanges=2,
                    evidence="evidence/bad.json")
    html = render_index({**certificate, "latency": []}, [failed], tmp_path / "out")
    section = html.split("<h2>Failures", 1)[1]
    assert "AssertionError: no X-Request-ID" in section
    assert "This test recorded no exchanges." in section


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or \
        shutil.which("google-chrome")


def dump_dom(page: str) -> str:
    browser = chromium()
    if browser is None:
        if os.environ.get("MESHCERT_REQUIRE_BROWSER") == "1":
            pytest.fail("MESHCERT_REQUIRE_BROWSER=1 but no chromium on PATH")
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", "--dump-dom", page],
            capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_in_a_browser_the_script_runs_and_shows_every_row(report: Path) -> None:
    dom = dump_dom((report / "index.html").as_uri())
    assert 'data-ready="true"' in dom
    assert len(rows(dom)) == REQUIREMENTS
    assert f"showing {REQUIREMENTS} of {REQUIREMENTS} requirements" in dom
    assert not [row for row in rows(dom) if " hidden" in row]


def test_in_a_browser_the_matrix_filters_by_status_and_level(report: Path) -> None:
    dom = dump_dom((report / "index.html").as_uri() + "#status=fail&level=MUST")
    visible = [row for row in rows(dom) if " hidden" not in row]
    assert len(rows(dom)) == REQUIREMENTS
    assert [re.search(r'id="req-([^"]+)"', row).group(1) for row in visible] == \
        ["SEC-AUTH-002"]  # ERR-REQID-001 fails too, but is a SHOULD; ERR-PROB-001 errored
    assert "showing 1 of" in dom
    dom = dump_dom((report / "index.html").as_uri() + "#status=error")
    visible = [row for row in rows(dom) if " hidden" not in row]
    assert [re.search(r'id="req-([^"]+)"', row).group(1) for row in visible] == ["ERR-PROB-001"]


def test_a_body_nested_too_deep_to_parse_is_shown_as_sent() -> None:
    from meshcert.reports.html import _pretty

    deep = "[" * 100_000 + "]" * 100_000  # what the malformed-input tests send
    assert _pretty(deep) == deep
    assert _pretty('{"a": 1}') == '{\n  "a": 1\n}'
