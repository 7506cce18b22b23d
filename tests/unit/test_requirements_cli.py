"""`meshcert requirements`: list, show, coverage and diff as a user runs them."""

from __future__ import annotations

from typer.testing import CliRunner

from meshcert.cli import app


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_list_filters_by_level():
    result = run("requirements", "list", "--level", "SHOULD")
    assert result.exit_code == 0
    assert "ERR-REQID-001" in result.stdout and "SEC-AUTH-002" not in result.stdout


def test_show_prints_basis_and_defect():
    result = run("requirements", "show", "sec-auth-002")
    assert result.exit_code == 0
    assert "RFC 9068" in result.stdout and "ignore-audience" in result.stdout


def test_show_unknown_id_is_a_user_error():
    result = run("requirements", "show", "NOPE-001")
    assert result.exit_code == 2 and "no requirement 'NOPE-001'" in result.stderr


def test_an_unknown_catalog_version_is_a_user_error():
    result = run("requirements", "list", "--catalog", "1999.9")
    assert result.exit_code == 2 and "no such catalog" in result.stderr


def test_coverage_lists_tests_found_by_marker():
    result = run("requirements", "coverage", "--profile", "resident-registry")
    assert result.exit_code == 0
    assert "test_request_id_is_echoed" in result.stdout  # ERR-REQID-001's suite test
