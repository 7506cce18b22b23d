"""A real certification (the reference provider's contract requirement, the quickest with
Hypothesis in it), run from a folder of its own as a vendor would: passing contract tests keep
their exchanges as evidence, the run writes nothing outside its report, and the certificate
records the seeds its replay commands carry."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "fixtures" / "vendors" / "reference-provider.yaml"
CONTRACT = "PRV-CONTRACT-001"


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_a_contract_certification_keeps_passing_evidence_and_only_its_report(tmp_path: Path):
    cwd = tmp_path / "vendor"
    cwd.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "meshcert.cli", "certify", "--target", str(REFERENCE),
         "--requirement", CONTRACT, "--seed", "7"],
        cwd=cwd, capture_output=True, text=True, timeout=600,
        env={**os.environ, "COLUMNS": "200",
             "MESHCERT_SIGNING_KEY": str(tmp_path / "signing-key.pem")})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # Nothing but the report: no Hypothesis or pytest cache where the run was started.
    written = files(cwd)
    assert written and all(name.startswith("reports/out/") for name in written), written
    [report] = (cwd / "reports" / "out").iterdir()
    certificate = json.loads((report / "certificate.json").read_text(encoding="utf-8"))
    [contract] = [r for r in certificate["requirements"] if r["id"] == CONTRACT]
    assert contract["verdict"] == "pass"
    # Every passing contract test kept what it sent and what came back.
    assert contract["tests"] and all(t["outcome"] == "passed" for t in contract["tests"])
    for test in contract["tests"]:
        assert test["exchanges"] > 0, test["nodeid"]
        exchanges = json.loads((report / test["evidence"]).read_text(encoding="utf-8"))[
            "exchanges"]
        assert len(exchanges) == test["exchanges"]
        assert all(e["status"] and e["error"] is None for e in exchanges), test["nodeid"]
        assert all(e["request_headers"].get("authorization") in (None, "[redacted]")
                   for e in exchanges)
    # The seed pytest used is the one given, and the replay of the run carries it.
    assert certificate["seeds"]["hypothesis"] == certificate["seed"] == 7
    words = shlex.split(certificate["replay"])
    assert words[words.index("--seed") + 1] == "7"
    assert Path(words[words.index("--target") + 1]).resolve() == REFERENCE
