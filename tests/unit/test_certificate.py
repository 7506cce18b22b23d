"""certificate.json and `meshcert verify`: the signature covers the certificate, the certificate
covers every file, and each altered, missing or added file is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshcert.cli import app
from meshcert.reports import signing
from meshcert.reports.certificate import UnreadableReport, verify_report
from tests.unit.sample_report import REFERENCE, make_report

runner = CliRunner()


@pytest.fixture
def key(tmp_path: Path):  # type: ignore[no-untyped-def]
    return signing.load_or_create_key(tmp_path / "signing-key.pem")[0]


@pytest.fixture
def report(tmp_path: Path, key) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path / "report"
    make_report(folder, key)
    return folder


def test_a_fresh_report_verifies(report: Path) -> None:
    result = verify_report(report)
    assert result.valid, result
    assert result.checked == len(json.loads((report / "certificate.json").read_text())["files"])


def test_the_certificate_lists_every_file_with_its_hash(report: Path) -> None:
    certificate = json.loads((report / "certificate.json").read_text(encoding="utf-8"))
    assert {"junit.xml", "index.html"} <= set(certificate["files"])
    assert any(name.startswith("evidence/") for name in certificate["files"])
    assert all(len(digest) == 64 for digest in certificate["files"].values())
    assert certificate["signature"]["fingerprint"].startswith("SHA256:")


def test_an_altered_evidence_file_is_named(report: Path) -> None:
    evidence = sorted((report / "evidence").iterdir())[0]
    evidence.write_text(evidence.read_text().replace("401", "200"), encoding="utf-8")
    result = verify_report(report)
    assert not result.valid
    assert result.signature_valid  # the certificate itself is intact
    assert result.altered == [f"evidence/{evidence.name}"]


def test_missing_and_added_files_are_named(report: Path) -> None:
    (report / "junit.xml").unlink()
    (report / "evidence" / "planted.json").write_text("{}")
    result = verify_report(report)
    assert result.missing == ["junit.xml"]
    assert result.added == ["evidence/planted.json"]


def test_an_altered_certificate_breaks_the_signature(report: Path) -> None:
    path = report / "certificate.json"
    path.write_bytes(path.read_bytes().replace(b'"certified": false', b'"certified": true'))
    result = verify_report(report)
    assert not result.signature_valid
    assert not result.valid


def test_another_signers_key_does_not_verify(report: Path, tmp_path: Path) -> None:
    other, _ = signing.load_or_create_key(tmp_path / "other.pem")
    (tmp_path / "other.pub.pem").write_bytes(signing.public_pem(other))
    result = verify_report(report, tmp_path / "other.pub.pem")
    assert not result.signature_valid


def test_a_folder_without_a_certificate_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableReport, match=r"no certificate\.json"):
        verify_report(tmp_path)


def test_verify_exit_status_valid_invalid_unreadable(report: Path, tmp_path: Path) -> None:
    valid = runner.invoke(app, ["verify", str(report)])
    assert valid.exit_code == 0, valid.output
    assert "valid" in valid.stdout
    (report / "index.html").write_text("<p>certified!</p>")
    (report / "certificate.json.sig").write_text("AAAA\n")
    invalid = runner.invoke(app, ["verify", str(report)])
    assert invalid.exit_code == 1
    assert "altered: index.html" in invalid.stdout
    assert "signature: certificate.json does not verify" in invalid.stdout
    unreadable = runner.invoke(app, ["verify", str(tmp_path / "nowhere")])
    assert unreadable.exit_code == 2
    assert unreadable.stderr.startswith("meshcert: error: ")


# -- harness errors apart from failures, and the replay ------------------------------------------


def test_a_harness_error_is_its_own_verdict_in_the_certificate(tmp_path: Path, key) -> None:
    certificate = make_report(tmp_path / "r", key)
    by_id = {r["id"]: r for r in certificate["requirements"]}
    assert by_id["ERR-PROB-001"]["verdict"] == "error"      # its fixture crashed
    assert by_id["SEC-AUTH-002"]["verdict"] == "fail"       # judged, and failed
    assert certificate["summary"]["errors"] == ["ERR-PROB-001"]
    assert certificate["summary"]["verdicts"]["error"] == 1
    [test] = by_id["ERR-PROB-001"]["tests"]
    assert test["outcome"] == "error" and test["phase"] == "setup"
    # an error is replayable like a failure
    assert "--requirement ERR-PROB-001" in by_id["ERR-PROB-001"]["replay"]
    assert certificate["exit_code"] == 1 and not certificate["certified"]  # a MUST failed too


def test_a_run_with_only_harness_errors_exits_3_and_is_not_certified(tmp_path: Path,
                                                                      key) -> None:
    from meshcert.catalog.requirements import load_catalog
    from tests.unit.sample_report import record

    first, *others = load_catalog().for_profile("resident-registry")
    tests = [record(f"meshcert_suites/t.py::test_{first.id}", [first.id], "error",
                    phase="setup"),
             *(record(f"meshcert_suites/t.py::test_{r.id}", [r.id]) for r in others)]
    certificate = make_report(tmp_path / "r", key, tests=tests)
    assert certificate["exit_code"] == 3
    assert not certificate["certified"]
    assert certificate["summary"]["errors"] == [first.id]
    assert certificate["summary"]["verdicts"]["fail"] == 0


def test_the_replay_carries_target_requirement_seeds_topology_and_backend(tmp_path: Path,
                                                                          key) -> None:
    import shlex

    topology = tmp_path / "my-harness.yaml"
    certificate = make_report(tmp_path / "r", key, topology=topology, backend="docker",
                              hypothesis_seed="1234")
    replay = {r["id"]: r["replay"] for r in certificate["requirements"]}["SEC-AUTH-002"]
    words = shlex.split(replay)
    assert words[:2] == ["meshcert", "certify"]
    option = dict(zip(words[2::2], words[3::2], strict=True))
    assert Path(option.pop("--target")).resolve() == REFERENCE  # as typed from here
    assert option == {"--requirement": "SEC-AUTH-002", "--seed": "1234",
                      "--topology": str(topology), "--backend": "docker"}
    # the seed given is the one pytest reports it seeded Hypothesis with, and the population's
    # seed is the target file's (hashed in the certificate)
    assert certificate["seeds"] == {"hypothesis": 1234, "population": 1}
    assert certificate["target"]["sha256"]
    assert certificate["scope"]["topology"] == str(topology)
    assert certificate["scope"]["backend"] == "docker"
    # nothing failed, nothing to replay; the whole run's replay has no --requirement
    assert {r["id"]: r["replay"] for r in certificate["requirements"]}["SEC-TLS-001"] is None
    assert "--requirement" not in certificate["replay"] and "--seed 1234" in certificate["replay"]
