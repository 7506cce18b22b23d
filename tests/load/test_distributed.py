"""Locust's own master/worker mode: a master (`meshcert load --master`) that starts, seeds,
shapes and reports, and a worker (`meshcert load --worker`) that makes the requests — here both
on this machine, against a registry run as a vendor system would be (no `launch`: the load goes
to its URL, tokens from the harness's issuer given by --topology)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from meshcert.backends.ports import free_port, on_free_ports
from meshcert.load.systems import run_name
from meshcert_simulators.common.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
CERTIFY = ROOT / "fixtures" / "topologies" / "certify.yaml"

pytestmark = pytest.mark.slow


def test_a_master_and_a_worker_share_a_run(tmp_path: Path):
    with on_free_ports(CERTIFY, ["authz", "municipal"], run_name("test-distributed")) as (
            topology, run_dir):
        target = tmp_path / "vendor.yaml"
        target.write_text(yaml.safe_dump({
            "target": 1, "name": "a registry on the network", "vendor": "test",
            "profile": "resident-registry", "base_url": load_topology(topology).url("municipal"),
            "tls": {"ca_file": str(run_dir / "tls" / "ca.pem")},
            "auth": {"audience": "urn:meshcert:municipal"}, "municipality": "131016",
            "seeding": {"method": "endpoint", "persons": 50, "seed": 3}}), encoding="utf-8")
        port = free_port()
        common = ["-m", "meshcert.cli", "load", "-s", "pull-polling", "--target", str(target),
                  "--topology", str(topology), "--master-port", str(port)]
        master = subprocess.Popen(
            [sys.executable, *common, "--master", "--expect-workers", "1", "--rate", "10",
             "--duration", "6s", "--out", str(tmp_path / "report")],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        worker = subprocess.Popen(
            [sys.executable, *common, "--worker", "--master-host", "127.0.0.1"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = master.communicate(timeout=180)
            worker.wait(timeout=60)
        finally:
            for child in (master, worker):
                if child.poll() is None:
                    child.kill()
        assert master.returncode == 0, out + err
        data = json.loads((tmp_path / "report" / "load.json").read_text(encoding="utf-8"))
        assert data["locust"]["master"] is True
        assert data["overall"]["requests"] >= 20 and not data["failures"]
        assert data["checks"] == []  # the feed has no catalog latency target


def test_a_vendor_system_that_does_not_answer_is_one_line_and_status_2(tmp_path: Path):
    with on_free_ports(CERTIFY, ["authz"], run_name("test-unreachable")) as (topology, _):
        target = tmp_path / "vendor.yaml"
        target.write_text(yaml.safe_dump({
            "target": 1, "name": "not running", "vendor": "test",
            "profile": "resident-registry", "base_url": f"https://127.0.0.1:{free_port()}",
            "tls": {"verify": False}, "auth": {"audience": "urn:meshcert:municipal"},
            "municipality": "131016", "seeding": {"method": "endpoint", "persons": 20}}),
            encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "meshcert.cli", "load", "-s", "moving-season", "--target",
             str(target), "--topology", str(topology), "--duration", "3s"],
            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "meshcert: error: seeding https://127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr
