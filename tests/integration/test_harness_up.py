"""`meshcert harness up/status/down` with real processes on free ports: the harness side of an
information provider starts (TLS issuer, J-LIS), prints what the vendor's system must trust and
call, every printed value works as printed, certify would reuse what runs, and down stops it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml

from meshcert.backends import processes
from meshcert.backends.ports import free_port
from meshcert.certify.harness import PROFILE_TOPOLOGIES
from meshcert_simulators.common.tls import client_context
from tests.integration.topologies import copy_on_free_ports

pytestmark = pytest.mark.slow
PROFILE = "information-provider"


def harness(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``meshcert harness <args>`` as a vendor runs it, from ``cwd`` (its run folder is there)."""
    return subprocess.run([sys.executable, "-m", "meshcert.cli", "harness", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=90,
                          env={**os.environ, "COLUMNS": "200"})


def test_up_prints_what_to_trust_and_call_and_down_stops_it(tmp_path: Path) -> None:
    topology = tmp_path / "harness-ports.yaml"
    copy_on_free_ports(PROFILE_TOPOLOGIES[PROFILE], topology)
    target = tmp_path / "my-provider.yaml"
    target.write_text(yaml.safe_dump({
        "target": 1, "name": "a provider", "vendor": "someone", "profile": PROFILE,
        "base_url": f"https://127.0.0.1:{free_port()}", "tls": {"ca_file": "run"},
        "auth": {"audience": "urn:vendor:tax"},
        "provider": {"institution": "chiyoda-resident-tax",
                     "item_codes": ["TM00000000000002"]}}), encoding="utf-8")
    run_dir = tmp_path / ".meshcert" / "run" / "information-provider"
    try:
        up = harness(tmp_path, "up", "--target", str(target), "--topology", str(topology))
        assert up.returncode == 0, up.stderr
        brief = json.loads((run_dir / "harness.json").read_text(encoding="utf-8"))
        [jlis] = brief["you_call"]
        for printed in (brief["ca_file"], brief["issuer"]["url"], brief["issuer"]["jwks_url"],
                        brief["certify"], jlis["url"], jlis["token"], "urn:vendor:tax"):
            assert printed in up.stdout

        # The CA made at start verifies the issuer; the JWKS file is what it serves.
        trust = client_context(Path(brief["ca_file"]))
        issuer = brief["issuer"]["url"]
        assert issuer.startswith("https://")
        metadata = httpx.get(f"{issuer}/.well-known/oauth-authorization-server",
                             verify=trust).json()
        assert (metadata["issuer"], metadata["token_endpoint"], metadata["jwks_uri"]) == (
            issuer, brief["issuer"]["token_endpoint"], brief["issuer"]["jwks_url"])
        served = httpx.get(brief["issuer"]["jwks_url"], verify=trust).json()
        assert served == json.loads(Path(brief["issuer"]["jwks_file"]).read_text())

        # A copy registered exactly as printed is taken.
        path = jlis["operations"][0].removeprefix("PUT ").format(
            符号="A" * 32, item="TM00000000000002")
        put = httpx.put(path, headers={"Authorization": f"Bearer {jlis['token']}"}, json={
            "data_set_key": "resident-tax-2025", "version": 1,
            "publication_start": datetime.now(UTC).isoformat(), "payload": {"x": 1}})
        assert put.status_code == 201, put.text

        # What certify does for a vendor target with the printed --topology: it finds the
        # harness side running on those ports and reuses it (nothing busy, nothing restarted).
        again = processes.up(Path(brief["topology"]), Path(brief["run_dir"]),
                             list(brief["simulators"]))
        assert all(item.already_running for item in again)
        assert {i.name: i.pid for i in again} == {
            n: s["pid"] for n, s in brief["simulators"].items()}

        # `up` again: the same configuration is left running; another one is refused.
        same = harness(tmp_path, "up", "--target", str(target), "--topology", str(topology))
        assert same.returncode == 0 and "already running" in same.stdout, same.stderr
        other = tmp_path / "another-provider.yaml"
        other.write_text(target.read_text().replace("https://127.0.0.1:", "https://localhost:"),
                         encoding="utf-8")
        refused = harness(tmp_path, "up", "--target", str(other), "--topology", str(topology))
        assert refused.returncode == 2
        assert "another configuration" in refused.stderr
        assert f"meshcert harness down --profile {PROFILE} --topology" in refused.stderr

        status = harness(tmp_path, "status", "--profile", PROFILE, "--topology", str(topology),
                         "--json")
        assert status.returncode == 0, status.stderr
        assert set(json.loads(status.stdout)["health"]) == {"authz", "jlis"}
    finally:
        down = harness(tmp_path, "down", "--profile", PROFILE, "--topology", str(topology))
    assert down.returncode == 0, down.stderr
    pids = [s["pid"] for s in brief["simulators"].values()]
    assert all(processes.running_pid(run_dir, n) is None for n in brief["simulators"]), pids
    assert Path(brief["ca_file"]).is_file()  # kept: the vendor's system still trusts it
    after = harness(tmp_path, "status", "--profile", PROFILE, "--topology", str(topology))
    assert after.returncode == 1
