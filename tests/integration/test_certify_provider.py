"""`meshcert certify` of the bundled reference information provider (meshcert_simulators/tax/) end
to
end: the harness plays the mesh towards it over HTTPS with JWT access tokens, runs J-LIS for its
copies, and certifies every PRV requirement; the signed report verifies."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from meshcert.catalog.requirements import load_catalog
from tests.integration.provider_vendor import Harness
from tests.integration.served import serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "fixtures" / "vendors" / "reference-provider.yaml"


def meshcert(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshcert.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200",
                               "MESHCERT_SIGNING_KEY": str(cwd / "signing-key.pem")})


def test_the_reference_provider_is_certified(tmp_path: Path):
    report = tmp_path / "report"
    run = meshcert("certify", "--target", str(REFERENCE), "--out", str(report), "--seed", "7",
                   cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    certificate = json.loads((report / "certificate.json").read_text(encoding="utf-8"))
    verdicts = {r["id"]: r["verdict"] for r in certificate["requirements"]}
    wanted = {r.id for r in load_catalog().for_profile("information-provider")}
    assert set(verdicts) == wanted and set(verdicts.values()) == {"pass"}, verdicts
    [latency] = [s for s in certificate["latency"] if "PRV-LAT-001" in s["requirements"]]
    assert latency["count"] >= 40 and latency["target"]["met"]
    # The records test kept, as evidence, each provision it asked and the records it read.
    [evidence] = (report / "evidence").glob("test_records__*.json")
    exchanges = json.loads(evidence.read_text(encoding="utf-8"))["exchanges"]
    asked = [e for e in exchanges if e["method"] == "POST" and e["url"].endswith("/v1/provisions")]
    read = [e for e in exchanges if "/v1/provision-records" in e["url"]]
    assert asked and read
    assert all(json.loads(e["request_body"])["record_id"] in "".join(r["response_body"]
                                                                     for r in read)
               for e in asked)
    verified = meshcert("verify", str(report), cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_provider_certified_again_gets_the_same_verdict(tmp_path: Path):
    """A vendor certifies its provider, redeploys it (its data starts afresh) and certifies
    again against the same harness side: J-LIS kept the first run's copies, and the second
    run must not meet them (each certification's persons are its own)."""
    harness = Harness(tmp_path)
    base_url = harness.url("tax")
    target = harness.write_target(tmp_path / "provider.yaml", base_url,
                                  name="the reference provider as a vendor's system")
    verdicts = []
    for run in (1, 2):
        serve = [sys.executable, "-m", "meshcert_simulators.serve", "--name", "tax", "--topology",
                 str(harness.topology_path), "--data-dir", str(tmp_path / f"provider-{run}"),
                 "--tls-dir", str(harness.ca_file.parent)]
        with serving(serve, f"{base_url}/health", tmp_path / "provider.log",
                     verify=ssl.create_default_context(cafile=harness.ca_file)):
            result = harness.certify(target, tmp_path / f"report-{run}", "--seed", "7")
        certificate = json.loads((tmp_path / f"report-{run}" / "certificate.json")
                                 .read_text(encoding="utf-8"))
        verdicts.append({r["id"]: r["verdict"] for r in certificate["requirements"]})
        assert result.returncode == 0, (f"certification {run}:\n" + result.stdout[-4000:]
                                        + result.stderr[-2000:])
    assert verdicts[0] == verdicts[1] and set(verdicts[1].values()) == {"pass"}, verdicts
