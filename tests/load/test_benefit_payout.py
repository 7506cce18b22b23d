"""The benefit-payout scenario: every public-fund account holder's account queried through the
mesh on the copy path (mostly in bulk files), each payee's notice pushed to the portal and the
query looked at from the portal, at the rates of docs/domain.md §7; `meshcert load` and
`meshcert capacity` run it (short runs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from meshcert.load import scenarios
from meshcert.load.run import weights
from meshcert.load.scenarios import Scale

ROOT = Path(__file__).resolve().parents[2]
PAYOUT = ROOT / "fixtures" / "topologies" / "benefit-payout.yaml"
MESH = ROOT / "fixtures" / "topologies" / "mesh.yaml"
HISTORY = "GET /v1/records?person= (portal history)"
NOTICE = "POST /v1/notices (the payee's notice)"


def meshcert(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshcert.cli", *args], capture_output=True,
                          text=True, timeout=240, cwd=ROOT)


def test_every_account_holder_is_queried_once_in_the_window():
    payout = scenarios.get("benefit-payout")
    mix = payout.peak_mix(Scale(), "mesh")
    queries = mix["bulk-row"] + mix["inquiry-public-fund"]
    assert queries == pytest.approx(54_000_000 / 86_400)            # ≈ 625/s nationally
    assert mix["bulk-row"] / queries == pytest.approx(0.98)
    assert mix["history"] == pytest.approx(0.3 * queries)
    assert mix["notice"] == pytest.approx(queries)                   # each payee told once
    in_an_hour = payout.peak_mix(Scale(window_s=3600), "mesh")
    assert in_an_hour["bulk-row"] + in_an_hour["inquiry-public-fund"] == \
        pytest.approx(54_000_000 / 3600)                             # 15 k/s


def test_the_payout_scales_with_the_population_served_and_says_what_it_assumes():
    payout = scenarios.get("benefit-payout")
    national = payout.national_peak("mesh")
    assert payout.peak_rate(Scale(population=1_250_000), "mesh") == pytest.approx(national / 100)
    notes = payout.assumptions(Scale(), "mesh")
    assert any("54,000,000 accounts [S]" in n for n in notes)
    assert any(n.startswith("each payee's notice of the payment pushed") for n in notes)
    assert not any(n.startswith("not driven") for n in notes)


def test_bulk_rows_become_files_beside_the_single_queries_notices_and_history_reads():
    mix = scenarios.get("benefit-payout").peak_mix(Scale(), "mesh")
    found = weights(mix, 10_000)
    assert set(found) == {"bulk", "inquiry-public-fund", "history", "notice"}
    assert found["notice"] > found["history"] > found["inquiry-public-fund"] > found["bulk"] >= 1


def test_a_topology_without_the_account_registry_is_refused_before_anything_starts():
    done = meshcert("load", "-s", "benefit-payout", "--target", str(MESH))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "public-fund provider is a simulator of kind accounts" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_payout_run_queries_accounts_through_the_mesh_and_reads_the_records(tmp_path: Path):
    done = meshcert("load", "-s", "benefit-payout", "--target", str(PAYOUT), "--rate", "10",
                    "--duration", "8s", "--bulk-rows", "20", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    names = {e["name"]: e for e in data["endpoints"]}
    assert {"POST /v1/bulk-inquiries", "bulk job (20 rows)", HISTORY, NOTICE} <= set(names)
    # Floors, not the offered rate: on a loaded CI machine the run reached 10 history reads of
    # the ~24 that 10/s for 8 s offers.
    assert names["bulk job (20 rows)"]["requests"] >= 1 and names[HISTORY]["requests"] >= 3
    assert names[NOTICE]["requests"] > names[HISTORY]["requests"]
    assert not data["failures"], data["failures"]


@pytest.mark.slow
def test_capacity_steps_the_payout_and_projects_instances(tmp_path: Path):
    done = meshcert("capacity", "-s", "benefit-payout", "--target", str(PAYOUT),
                    "--start-rate", "5", "--factor", "2", "--max-rate", "10", "--step", "4s",
                    "--threshold", "2000", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((tmp_path / "capacity.json").read_text(encoding="utf-8"))
    assert [s["offered_rps"] for s in data["steps"]] == [5, 10]
    # queries, history looks (30 %) and notices (one each)
    assert data["projection"]["national_peak_rps"] == pytest.approx(54e6 * 2.3 / 86_400)
