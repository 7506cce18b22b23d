"""The load commands refuse what cannot run with one precise line and exit status 2, and the
catalog's structured load keeps older (prose) catalogs valid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from meshcert.catalog.requirements import LoadSpec, catalog_path, load_catalog
from meshcert.cli import app
from meshcert.load.run import MAX_RATE, LoadConfigError, LoadOptions, locust_command, plan_for
from meshcert.load.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "fixtures" / "vendors" / "reference-registry.yaml"
MESH = ROOT / "fixtures" / "topologies" / "mesh.yaml"


def meshcert(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshcert.cli", *args], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


@pytest.mark.parametrize(("args", "message"), [
    (["load", "-s", "christmas", "--target", str(REFERENCE)],
     "no scenario 'christmas' (scenarios: moving-season, pull-polling"),
    (["load", "-s", "mesh-inquiries", "--target", str(REFERENCE)],
     "scenario mesh-inquiries runs against a mesh topology"),
    (["load", "-s", "moving-season", "--target", str(MESH)],
     "runs against a resident-registry target file"),
    (["load", "-s", "moving-season", "--target", "nowhere.yaml"], "nowhere.yaml: no such file"),
    (["load", "-s", "moving-season", "--target", str(REFERENCE), "--duration", "soon"],
     "--duration: not a duration: 'soon'"),
    (["load", "-s", "moving-season", "--target", str(REFERENCE), "--worker"],
     "--worker needs --master-host"),
    (["load", "-s", "moving-season", "--target", str(REFERENCE), "--worker",
      "--master-host", "10.0.0.5"], "is a bundled reference, started on the master's loopback"),
    (["capacity", "-s", "moving-season", "--target", str(REFERENCE), "--start-rate", "50",
      "--max-rate", "10"], "max-rate ≥ start-rate"),
])
def test_what_cannot_run_is_one_line_and_status_2(args: list[str], message: str):
    done = meshcert(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


LOAD = ["load", "-s", "moving-season", "--target", str(REFERENCE)]
CAPACITY = ["capacity", "-s", "moving-season", "--target", str(REFERENCE)]


@pytest.mark.parametrize(("args", "fragment"), [
    ([*LOAD, "--rate", "inf"], "'--rate' / '-r'"),
    ([*LOAD, "--rate", "1e12"], "'--rate' / '-r'"),
    ([*LOAD, "--rate", "nan"], "'--rate' / '-r'"),
    ([*LOAD, "--rate", "0"], "'--rate' / '-r'"),
    ([*LOAD, "--duration", "inf"], "--duration: must be longer than 0 s and at most 86400 s"),
    ([*LOAD, "--duration", "nan"], "--duration: must be longer than 0 s"),
    ([*LOAD, "--duration", "1e12"], "--duration: must be longer than 0 s"),
    ([*LOAD, "--window", "inf"], "--window: must be longer than 0 s"),
    ([*LOAD, "--poll-interval", "inf"], "'--poll-interval'"),
    ([*LOAD, "--processes", "1000000"], "'--processes' / '-p'"),
    ([*LOAD, "--population", "1000000000000"], "'--population'"),
    (["load", "-s", "nationwide-notice", "--target", str(REFERENCE), "--window", "1s"],
     "a peak of 125,000,000 requests/s is beyond what a run can offer"),
    ([*CAPACITY, "--max-rate", "inf"], "'--max-rate'"),
    ([*CAPACITY, "--start-rate", "1e12"], "'--start-rate'"),
    ([*CAPACITY, "--factor", "inf"], "'--factor'"),
    ([*CAPACITY, "--threshold", "nan"], "'--threshold'"),
    ([*CAPACITY, "--threshold", "-1"], "'--threshold'"),
    ([*CAPACITY, "--step", "inf"], "--step: must be longer than 0 s and at most 3600 s"),
], ids=lambda value: " ".join(value[4:]) if isinstance(value, list) else None)
def test_an_out_of_range_option_is_one_line_and_status_2_before_anything_runs(
        args: list[str], fragment: str):
    # In-process (CliRunner): refused before a simulator or Locust could start.
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("meshcert: error: ") and fragment in line, line


def test_the_peak_a_run_may_offer_ends_at_max_rate():
    scenario = SCENARIOS["moving-season"]
    at_edge = plan_for(scenario, "registry", LoadOptions(scenario=scenario.name,
                                                         target=REFERENCE, rate=MAX_RATE))
    assert at_edge["peak_rate"] == MAX_RATE
    with pytest.raises(LoadConfigError, match="beyond what a run can offer"):
        plan_for(scenario, "registry", LoadOptions(scenario=scenario.name, target=REFERENCE,
                                                   rate=MAX_RATE * 1.001))


def test_a_broken_target_file_lists_its_problems(tmp_path: Path):
    broken = tmp_path / "t.yaml"
    broken.write_text("target: 1\nname: x\n", encoding="utf-8")
    done = meshcert("load", "-s", "moving-season", "--target", str(broken))
    assert done.returncode == 2 and "problem(s)" in done.stderr


def test_help_teaches_the_scenarios_and_gives_examples():
    for command in ("load", "capacity"):
        done = meshcert(command, "--help")
        assert done.returncode == 0
        for word in ("moving-season", "pull-polling", "mesh-inquiries", "nationwide-notice",
                     "Example"):
            assert word in done.stdout, (command, word)


def test_the_reference_catalog_states_the_load_of_its_latency_target():
    target = load_catalog().get("PERF-READ-001").target
    assert target is not None and isinstance(target.load, LoadSpec)
    assert target.load.request == "GET /municipalities/{lg_code}/residents/{atena_number}"
    assert target.load.duration_s <= 5  # the certification of the reference stays fast
    shown = meshcert("requirements", "show", "PERF-READ-001")
    assert "40 req/s from 4 users for 3 s" in shown.stdout


def test_a_catalog_stating_its_load_in_prose_stays_valid(tmp_path: Path):
    raw = yaml.safe_load(catalog_path().read_text(encoding="utf-8"))
    for requirement in raw["requirements"]:
        if requirement["id"] == "PERF-READ-001":
            requirement["target"]["load"] = "sequential reads"
    path = tmp_path / "psm-2026.9.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert load_catalog(path).get("PERF-READ-001").target.load == "sequential reads"


def test_distributed_modes_are_lent_to_locusts_own_flags():
    local = locust_command("moving_season.py", "https://h", Path("/tmp/x"), processes=4)
    assert local[1:3] == ["-m", "locust"] and "--headless" in local
    assert local[local.index("--processes") + 1] == "4"
    master = locust_command("moving_season.py", "https://h", Path("/tmp/x"), processes=None,
                            master=True, expect_workers=3, master_bind_port=5600)
    assert master[master.index("--expect-workers") + 1] == "3"
    assert master[master.index("--master-bind-port") + 1] == "5600"


def test_meshcert_itself_never_imports_locust():
    # Locust's gevent patching breaks ssl in pytest and the harness: it runs in its own process.
    for path in [*(ROOT / "meshcert").rglob("*.py"), *(ROOT / "meshcert_suites").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "import locust" not in text and "from locust" not in text, path
