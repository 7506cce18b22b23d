"""`meshcert certify` refuses what cannot run before anything starts: exit 2 and what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from meshcert.certify.run import previous_run
from meshcert.cli import app
from meshcert.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "fixtures" / "vendors" / "reference-registry.yaml"
runner = CliRunner()


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder, so a test that started anything would leave .meshcert/ here."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MESHCERT_SIGNING_KEY", str(tmp_path / "key.pem"))


def certify(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["certify", *args])


def assert_config_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("meshcert: error: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert not Path(".meshcert").exists(), "nothing may start before the configuration is valid"


def vendor_target(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    data.pop("launch")
    data["tls"] = {"verify": True}
    data.update(changes)
    path = tmp_path / "vendor.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_every_problem_of_a_target_is_listed_at_once(tmp_path: Path) -> None:
    path = vendor_target(tmp_path, base_url="ftp://example", municipality="131017",
                         seeding={"method": "carrier-pigeon"})
    assert_config_error(certify("--target", str(path)), "3 problem(s)", "base_url",
                        "municipality", "seeding.method")


def test_a_missing_target_file_is_named(tmp_path: Path) -> None:
    assert_config_error(certify("--target", str(tmp_path / "nope.yaml")),
                        "nope.yaml: no such target file")


def test_an_unknown_requirement_is_refused(tmp_path: Path) -> None:
    assert_config_error(certify("--target", str(REFERENCE), "--requirement", "NOPE-XXX-001"),
                        "NOPE-XXX-001")


def test_a_missing_baseline_is_refused(tmp_path: Path) -> None:
    assert_config_error(certify("--target", str(REFERENCE), "--baseline",
                                str(tmp_path / "baseline.yaml")), "no such baseline file")


def test_an_invalid_baseline_is_refused_with_its_problems(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text('catalog: "2026.1"\nexpected_failures:\n  - id: SEC-TLS-002\n')
    assert_config_error(certify("--target", str(REFERENCE), "--baseline", str(baseline)),
                        "reason")


def test_a_defect_needs_a_bundled_reference(tmp_path: Path) -> None:
    assert_config_error(certify("--target", str(vendor_target(tmp_path)), "--defect",
                                "ignore-audience"), "has none")


def test_an_unknown_defect_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    assert_config_error(certify("--target", str(REFERENCE), "--defect", "no-such-defect"),
                        "no defect 'no-such-defect'")


def test_a_report_folder_is_never_written_over(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "certificate.json").write_text("{}")
    assert_config_error(certify("--target", str(REFERENCE), "--out", str(tmp_path / "out")),
                        "not an empty folder")


def test_an_unusable_signing_key_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("not a key")
    key.chmod(0o600)
    assert_config_error(certify("--target", str(REFERENCE), "--signing-key", str(key)),
                        "not an unencrypted PEM private key")


def write_run(folder: Path, verdicts: dict[str, str], seed: int = 77) -> Path:
    folder.mkdir(parents=True)
    (folder / "certificate.json").write_text(json.dumps({
        "seed": seed, "requirements": [{"id": i, "verdict": v} for i, v in verdicts.items()]}))
    return folder


def test_rerun_failed_takes_the_failures_and_the_seed_of_a_run(tmp_path: Path) -> None:
    run = write_run(tmp_path / "reports" / "out" / "RUN1", {
        "SEC-TLS-001": "pass", "SEC-AUTH-002": "fail", "SEC-TLS-002": "expected-fail",
        "ERR-REQID-001": "not-tested", "ERR-PROB-001": "error"})
    for reference in ("RUN1", str(run)):
        previous = previous_run(reference)
        # a requirement the harness could not judge is rerun too
        assert previous.failed == ("SEC-AUTH-002", "SEC-TLS-002", "ERR-PROB-001")
        assert previous.seed == 77


def test_rerun_failed_of_an_unknown_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no certificate\.json"):
        previous_run("no-such-run")
    assert_config_error(certify("--target", str(REFERENCE), "--rerun-failed", "no-such-run"),
                        "no-such-run")


def test_rerun_failed_with_nothing_failed_runs_nothing(tmp_path: Path) -> None:
    write_run(tmp_path / "reports" / "out" / "GREEN", {"SEC-TLS-001": "pass"})
    result = certify("--target", str(REFERENCE), "--rerun-failed", "GREEN")
    assert result.exit_code == 0, result.output
    assert "nothing to rerun" in result.stdout
    assert not Path(".meshcert").exists()


def test_rerun_failed_and_requirement_do_not_combine(tmp_path: Path) -> None:
    write_run(tmp_path / "reports" / "out" / "RED", {"SEC-TLS-001": "fail"})
    assert_config_error(certify("--target", str(REFERENCE), "--rerun-failed", "RED",
                                "--requirement", "SEC-TLS-001"), "not both")


def test_no_docker_engine_for_the_docker_backend_is_a_configuration_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    result = certify("--target", str(REFERENCE), "--backend", "docker",
                     "--out", str(tmp_path / "report"))
    assert result.exit_code == 2, result.output
    assert "no Docker engine is reachable" in result.stderr, result.stderr
    assert "Traceback" not in result.output
