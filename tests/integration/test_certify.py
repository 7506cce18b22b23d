"""`meshcert certify` end to end: the bundled reference certified in a subprocess, with a second
run (one requirement) at the same time on other ports, then `meshcert verify` on the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "fixtures" / "vendors" / "reference-registry.yaml"


@dataclass(frozen=True)
class Run:
    folder: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def certificate(self) -> dict:
        return json.loads((self.folder / "certificate.json").read_text(encoding="utf-8"))


def meshcert(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "meshcert.cli", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200",
                                 "MESHCERT_SIGNING_KEY": str(cwd / "signing-key.pem")})


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """A full certification and a one-requirement run, started together."""
    cwd = tmp_path_factory.mktemp("certify")
    started = {
        "full": meshcert("certify", "--target", str(REFERENCE), "--out", str(cwd / "full"),
                         "--seed", "4242", cwd=cwd),
        "reqid": meshcert("certify", "--target", str(REFERENCE), "--requirement",
                          "ERR-REQID-001", "--out", str(cwd / "reqid"), cwd=cwd),
    }
    done = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=900)
        done[name] = Run(cwd / name, process.returncode, stdout, stderr)
    return done


def test_the_reference_is_certified(runs: dict[str, Run]) -> None:
    full = runs["full"]
    assert full.returncode == 0, full.stdout + full.stderr
    certificate = full.certificate
    verdicts = {r["id"]: r["verdict"] for r in certificate["requirements"]}
    assert "fail" not in verdicts.values(), verdicts
    assert all(verdicts[r["id"]] == "pass" for r in certificate["requirements"] if r["tests"])
    assert certificate["seed"] == 4242
    assert certificate["replay"].endswith("--seed 4242")
    assert certificate["target"]["launch"] == {"simulator": "municipal", "defect": None}
    assert "Report:" in full.stdout


def test_the_report_has_every_file_and_a_valid_signature(runs: dict[str, Run]) -> None:
    folder = runs["full"].folder
    for name in ("junit.xml", "certificate.json", "certificate.json.sig",
                 "signing-key.pub.pem", "index.html", "pytest.log", "logs/municipal.log"):
        assert (folder / name).is_file(), name
    assert list((folder / "evidence").glob("*.json"))
    assert list((folder / "allure-results").glob("*-result.json"))
    verified = subprocess.run([sys.executable, "-m", "meshcert.cli", "verify", str(folder)],
                              capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    tests = sum(len(r["tests"]) for r in runs["full"].certificate["requirements"])
    junit = (folder / "junit.xml").read_text(encoding="utf-8")
    assert junit.count("<testcase ") >= len(list((folder / "evidence").glob("*.json"))) > 0
    assert tests >= junit.count("<testcase ")  # a test may verify several requirements


def test_allure_results_carry_the_requirement_profile_and_catalog(runs: dict[str, Run]) -> None:
    result = json.loads(next((runs["full"].folder / "allure-results")
                             .glob("*-result.json")).read_text(encoding="utf-8"))
    labels = {label["name"]: label["value"] for label in result["labels"]}
    assert labels["profile"] == "resident-registry"
    assert labels["catalog_version"] == "2026.2"
    assert labels["requirement"]


def test_a_run_of_one_requirement_runs_only_its_tests(runs: dict[str, Run]) -> None:
    run = runs["reqid"]
    assert run.returncode == 0, run.stdout + run.stderr
    certificate = run.certificate
    assert certificate["scope"]["requirements"] == ["ERR-REQID-001"]
    ran = [(r["id"], t) for r in certificate["requirements"] for t in r["tests"]]
    assert ran and {rid for rid, _ in ran} == {"ERR-REQID-001"}
    evidence = [json.loads(p.read_text(encoding="utf-8"))
                for p in (run.folder / "evidence").glob("*.json")]
    assert evidence and all("ERR-REQID-001" in e["requirements"] for e in evidence)
    assert not certificate["certified"]  # a partial run gates, it does not certify


def test_runs_at_the_same_time_keep_apart_and_clean_up(runs: dict[str, Run]) -> None:
    full, one = runs["full"].certificate, runs["reqid"].certificate
    assert full["run_id"] != one["run_id"]
    assert full["target"]["base_url"] != one["target"]["base_url"]
    assert set(full["simulators"].values()).isdisjoint(one["simulators"].values())
    for url in [*full["simulators"].values(), *one["simulators"].values()]:
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url}/health", verify=False, timeout=2)
    cwd = runs["full"].folder.parent
    assert not list((cwd / ".meshcert" / "run").glob("certify-*"))
