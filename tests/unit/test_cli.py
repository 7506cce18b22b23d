"""The CLI's user errors: one ``meshcert: error:`` line, exit status 2, never a traceback."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from meshcert.cli import app
from meshcert_simulators.common.identifiers import is_valid_mod11, is_valid_my_number
from meshcert_simulators.common.topology import DEFAULT_TOPOLOGY
from meshcert_simulators.municipal.models import SeedResident

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def assert_user_error(result, *fragments: str, lines: int = 1) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    err_lines = result.stderr.strip().splitlines()
    assert err_lines[0].startswith("meshcert: error: "), result.stderr
    assert len(err_lines) == lines, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def topology_on(tmp_path: Path, port: int, **changes: object) -> Path:
    """A copy of the embedded topology with the municipal simulator on ``port``."""
    data = yaml.safe_load(DEFAULT_TOPOLOGY.read_text(encoding="utf-8"))
    data["simulators"]["municipal"]["port"] = port
    data["simulators"]["municipal"].update(changes)
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_missing_topology_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run("sim", "up", "--topology", str(missing), "--run-dir", str(tmp_path / "run"))
    assert_user_error(result, str(missing), "no such topology file")


def test_a_topology_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    result = run("sim", "status", "--topology", str(bad))
    # PyYAML's own message spans lines (it quotes the line, a caret under the column): one line.
    assert_user_error(result, f"{bad}: not valid YAML: line 2, column 1: expected ',' or ']'",
                      "flow sequence at line 1, column 7")


def test_an_invalid_field_is_reported_with_its_path(tmp_path: Path) -> None:
    topology = topology_on(tmp_path, 70000)
    result = run("sim", "up", "--topology", str(topology), "--run-dir", str(tmp_path / "run"))
    assert_user_error(result, "simulators.municipal.port", "65535", lines=2)


def test_a_busy_port_stops_up_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run_dir = tmp_path / "run"
        result = run("sim", "up", "--topology", str(topology_on(tmp_path, port)),
                     "--run-dir", str(run_dir))
    assert_user_error(result, f"port {port}", "already in use")
    assert not list(run_dir.glob("*.pid"))


def test_status_exits_1_when_a_simulator_is_down(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run("sim", "status", "--topology", str(topology_on(tmp_path, port)),
                 "--run-dir", str(tmp_path / "run"))
    assert result.exit_code == 1
    assert "municipal" in result.stdout


def test_down_with_nothing_running_says_so(tmp_path: Path) -> None:
    result = run("sim", "down", "--run-dir", str(tmp_path / "run"))
    assert result.exit_code == 0
    assert "Nothing to stop" in result.stdout


def test_down_finds_the_run_folder_of_a_named_topology(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the default run folder is relative to where you stand
    result = run("sim", "down", "--topology", str(topology_on(tmp_path, 18999)))
    assert result.exit_code == 0, result.output
    assert "Nothing to stop" in result.stdout and ".meshcert/run/embedded" in result.stdout


@pytest.mark.parametrize(("code", "says"), [
    ("131017", "not a valid local government code"),   # wrong check digit
    ("13101", "not a valid local government code"),    # too short
    ("１３１０１６", "not a valid local government code"),  # full-width digits
    ("130001", "a prefecture"),
])
def test_a_bad_municipality_code_is_refused(tmp_path: Path, code: str, says: str) -> None:
    out = tmp_path / "people.jsonl"
    result = run("population", "generate", "-m", code, "-n", "3", "--out", str(out))
    assert_user_error(result, says)
    assert not out.exists()


def test_demo_refuses_a_bad_topology_before_starting(tmp_path: Path) -> None:
    result = run("demo", "--topology", str(tmp_path / "nope.yaml"))
    assert_user_error(result, "no such topology file")


def test_an_unwritable_out_file_is_refused(tmp_path: Path) -> None:
    result = run("population", "generate", "-m", "131016", "-n", "3",
                 "--out", str(tmp_path / "no-such-folder" / "people.jsonl"))
    assert_user_error(result, "does not exist")


def test_population_generate_writes_n_valid_residents(tmp_path: Path) -> None:
    out = tmp_path / "people.jsonl"
    result = run("population", "generate", "-m", "131016", "-n", "40", "--seed", "7",
                 "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40
    residents = [SeedResident.model_validate_json(line) for line in lines]
    assert all(r.address.lg_code == "131016" for r in residents)
    assert all(is_valid_my_number(r.my_number) and is_valid_mod11(r.atena_number)
               for r in residents)
    assert len({r.atena_number for r in residents}) == 40
    assert "persons/s" in result.stderr
    assert not list(tmp_path.glob(".*.partial"))


def test_population_generate_to_stdout_is_reproducible() -> None:
    first = run("population", "generate", "-m", "271004", "-n", "5", "-s", "3", "--out", "-")
    again = run("population", "generate", "-m", "271004", "-n", "5", "-s", "3", "--out", "-")
    assert first.exit_code == 0
    assert first.stdout == again.stdout
    assert [json.loads(line)["address"]["lg_code"] for line in first.stdout.splitlines()] == [
        "271004"] * 5


@pytest.mark.parametrize("command", [
    [], ["sim"], ["sim", "up"], ["sim", "down"], ["sim", "status"], ["population"],
    ["population", "generate"], ["demo"]])
def test_every_help_teaches_with_an_example(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("meshcert ")


REFERENCE_TARGET = Path(__file__).resolve().parents[2] / "fixtures" / "vendors" / \
    "reference-registry.yaml"


@pytest.mark.parametrize("args", [
    lambda bad: ["certify", "--target", str(bad)],
    lambda bad: ["certify", "--target", str(REFERENCE_TARGET), "--baseline", str(bad)],
    lambda bad: ["load", "-s", "moving-season", "--target", str(bad)],
    lambda bad: ["sim", "up", "--topology", str(bad)],
], ids=["target", "baseline", "load target", "topology"])
def test_a_file_that_is_not_yaml_is_one_line_saying_where(tmp_path: Path, args) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlist:\n  - a\n - b\n", encoding="utf-8")
    assert_user_error(run(*args(bad)), str(bad), "not valid YAML: line 4, column 2")


@pytest.mark.parametrize(("args", "fragment"), [
    (["--bogus"], "No such option: --bogus (see: meshcert --help)"),
    (["sim", "bogus"], "No such command 'bogus'"),
    (["load", "--target", "x.yaml"], "Missing option '--scenario'"),
    (["sim", "up", "--topology"], "Option '--topology' requires an argument"),
    (["population", "generate", "-m", "131016", "--out", "-", "-n", "many"],
     "Invalid value for '--persons' / '-n'"),
    (["population", "generate", "-m", "131016", "--out", "-", "-n", "0"],
     "greater than or equal to 1 (see: meshcert population generate --help)"),
    (["sim", "up", "--backend", "vm"], "Invalid value for '--backend'"),
])
def test_usage_errors_are_one_line_and_status_2(args: list[str], fragment: str) -> None:
    # Not click's usage box (6-8 lines): one line, like every other user error.
    assert_user_error(run(*args), fragment)


def test_help_keeps_its_rich_layout() -> None:
    result = run("load", "--help")
    assert result.exit_code == 0
    assert "Usage: meshcert load [OPTIONS]" in result.stdout
    assert "╭─ Options" in result.stdout and result.stderr == ""
