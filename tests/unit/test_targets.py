"""Target files are validated completely before anything runs; problems carry their path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from meshcert.catalog.targets import TargetError, load_target

REFERENCE = Path(__file__).resolve().parents[2] / "fixtures" / "vendors" / "reference-registry.yaml"


def write(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    data.pop("launch")
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_bundled_reference_target_is_valid():
    target, base = load_target(REFERENCE)
    assert target.profile == "resident-registry" and target.launch is not None
    assert (base / target.launch.topology).is_file()


def test_every_problem_is_listed_with_its_path(tmp_path):
    path = write(tmp_path, base_url="ftp://somewhere", municipality="131017",
                 seeding={"method": "file"}, profile="no-such-profile")
    with pytest.raises(TargetError) as caught:
        load_target(path)
    message = str(caught.value)
    assert "base_url" in message and "municipality" in message
    # the cross-checks wait for a structurally valid file; fix and see them:
    path = write(tmp_path, profile="no-such-profile", seeding={"method": "file"})
    with pytest.raises(TargetError) as caught:
        load_target(path)
    message = str(caught.value)
    assert "2 problem(s)" in message
    assert "profile: catalog 2026.2 has no profile 'no-such-profile'" in message
    assert "seeding.file: required" in message


def test_a_missing_ca_file_and_env_credential_are_named(tmp_path, monkeypatch):
    monkeypatch.delenv("VENDOR_SEED_TOKEN", raising=False)
    path = write(tmp_path, tls={"ca_file": "missing-ca.pem"},
                 seeding={"method": "endpoint", "credential": {"env": "VENDOR_SEED_TOKEN"}})
    with pytest.raises(TargetError) as caught:
        load_target(path)
    assert "tls.ca_file: no such file" in str(caught.value)
    assert "VENDOR_SEED_TOKEN is not set" in str(caught.value)


def test_unknown_fields_are_refused(tmp_path):
    with pytest.raises(TargetError, match="basse_url"):
        load_target(write(tmp_path, basse_url="https://x"))


def test_not_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("target: [1,\n", encoding="utf-8")
    with pytest.raises(TargetError, match="not valid YAML"):
        load_target(bad)
    with pytest.raises(TargetError, match="no such target file"):
        load_target(tmp_path / "nope.yaml")
