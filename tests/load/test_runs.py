"""Load runs end to end: Locust in its own process against the bundled reference and the mesh,
stats read back, the catalog target judged, the knee found. Short runs: these are not
benchmarks (bench/ has those)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "fixtures" / "vendors" / "reference-registry.yaml"
MESH = ROOT / "fixtures" / "topologies" / "mesh.yaml"
READ = "GET /municipalities/{lg_code}/residents/{atena_number}"
MOVEOUT = "POST /municipalities/{lg_code}/moveout-notifications"

pytestmark = pytest.mark.slow


def meshcert(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshcert.cli", *args], capture_output=True,
                          text=True, timeout=240, cwd=ROOT)


def test_moving_season_against_the_reference_is_judged_against_its_latency_target(
        tmp_path: Path):
    # Move-outs are ~5 % of the mix, picked at random: 60 req/s for 10 s makes ~14 expected, so
    # none at all (p ~ 1e-6) means the task is missing, not bad luck (30 × 6 s gave ~4: p ~ 2 %).
    done = meshcert("load", "-s", "moving-season", "--target", str(REFERENCE), "--rate", "60",
                    "--duration", "10s", "--out", str(tmp_path))
    assert done.returncode in (0, 1), done.stdout + done.stderr
    data = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    names = {e["name"]: e for e in data["endpoints"]}
    assert names[READ]["requests"] > 100 and names[MOVEOUT]["requests"] > 0
    assert not data["failures"]
    [check] = data["checks"]
    # Met on a quiet machine (p95 of a few ms); the exit status follows the verdict either way.
    assert check["requirement"] == "PERF-READ-001"
    assert (done.returncode == 0) == (check["met"] and data["passed"])
    assert check["how"].startswith("exact")
    assert len(data["history"]["Aggregated"]) >= 3 and data["history"][READ]
    assert data["load"]["peak_rate"] == 60
    html = (tmp_path / "load.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 4 and "PERF-READ-001" in html
    assert "PERF-READ-001: p95" in done.stdout and "Report:" in done.stdout


def test_mesh_inquiries_run_single_and_bulk_inquiries(tmp_path: Path):
    done = meshcert("load", "-s", "mesh-inquiries", "--target", str(MESH), "--rate", "10",
                    "--duration", "8s", "--bulk-rows", "20", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    names = {e["name"] for e in data["endpoints"]}
    assert {"POST /v1/inquiries (tax)", "POST /v1/inquiries (public-fund)",
            "POST /v1/bulk-inquiries", "bulk job (20 rows)"} <= names
    assert not data["failures"], data["failures"]


def test_several_locust_processes_share_the_load(tmp_path: Path):
    done = meshcert("load", "-s", "pull-polling", "--target", str(REFERENCE), "--rate", "20",
                    "--duration", "5s", "--processes", "2", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    assert data["locust"]["processes"] == 2 and data["overall"]["requests"] > 20


def test_capacity_steps_the_rate_and_projects_instances(tmp_path: Path):
    done = meshcert("capacity", "-s", "nationwide-notice", "--target", str(REFERENCE),
                    "--start-rate", "5", "--factor", "2", "--max-rate", "10", "--step", "4s",
                    "--threshold", "2000", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((tmp_path / "capacity.json").read_text(encoding="utf-8"))
    assert [s["offered_rps"] for s in data["steps"]] == [5, 10]
    assert data["knee"] is not None and data["knee"]["sustained"]
    projection = data["projection"]
    assert projection["national_peak_rps"] == pytest.approx(125e6 / 86400, rel=0.001)
    assert projection["instances_national"] >= 1
    assert any("[I]" in a for a in projection["assumptions"])
    assert "Knee:" in done.stdout and (tmp_path / "capacity.html").is_file()


def test_certify_drives_the_stated_load_and_records_it_in_the_certificate(tmp_path: Path):
    done = meshcert("certify", "--target", str(REFERENCE), "--requirement", "PERF-READ-001",
                    "--out", str(tmp_path / "report"))
    # 0 or 1: whether p95 stays under 200 ms depends on this machine's load; what is checked
    # here is that the stated load ran and its figures reached the certificate and report.
    assert done.returncode in (0, 1), done.stdout + done.stderr
    certificate = json.loads((tmp_path / "report" / "certificate.json").read_text("utf-8"))
    [latency] = certificate["latency"]
    load = latency["load"]
    assert load["tool"].startswith("locust") and load["users"] == 4
    assert load["rate_offered"] == 40 and load["requests"] == latency["count"] >= 60
    assert load["failed"] == 0 and latency["target"]["percentile"] == 95
    assert "40 req/s from 4 users for 3 s" in latency["target"]["load"]
    html = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "Under load (locust" in html
