"""What every command shares: the consoles, one-line user errors, topology and run-folder
options, and starting simulators with progress shown."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from meshcert.backends import processes
from meshcert_simulators.common.identifiers import is_valid_local_government_code
from meshcert_simulators.common.municipalities import lookup
from meshcert_simulators.common.topology import (
    DEFAULT_TOPOLOGY,
    Topology,
    TopologyError,
    load_topology,
)

# Piped into a CI log, rich would assume 80 columns and cut tables short; logs are wider.
_LOG_WIDTH = None if sys.stdout.isatty() else 120
out = Console(highlight=False, width=_LOG_WIDTH)
err = Console(stderr=True, highlight=False, width=_LOG_WIDTH)


TopologyOption = Annotated[Path | None, typer.Option(
    "--topology", "-t", metavar="FILE", show_default=False,
    help="Topology file: which simulators run, on which ports, for which municipalities "
         "(default: the embedded topology, 127.0.0.1:18101). Example: --topology my-mesh.yaml")]


RunDirOption = Annotated[Path | None, typer.Option(
    "--run-dir", metavar="DIR", show_default=False,
    help="Run folder for pid files, logs and the SQLite data "
         "(default: .meshcert/run/NAME). Example: --run-dir /tmp/mesh-run")]


class UserError(Exception):
    """Raised anywhere below a command; reported as one line, exit status 2."""


def fail(message: str, code: int = 2) -> NoReturn:
    # Plain echo, not rich: rich would wrap a long message over several lines.
    typer.echo(f"meshcert: error: {message}", err=True)
    raise typer.Exit(code)


def shown(path: Path) -> str:
    """A path relative to the working directory when it is under it (shorter to read)."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def topology_or_fail(path: Path | None) -> tuple[Topology, Path]:
    path = path or DEFAULT_TOPOLOGY
    try:
        return load_topology(path), path
    except TopologyError as exc:
        fail(str(exc))


def run_dir_for(topology: Topology, run_dir: Path | None) -> Path:
    return run_dir or processes.default_run_dir(topology)


def start_simulators(topology_path: Path, run_dir: Path, names: list[str] | None = None,
                     defects: dict[str, str] | None = None) -> list[processes.Launched]:
    """``processes.up`` with a progress display on stderr; user errors become one line."""
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err,
                      transient=True) as progress:
            tasks: dict[str, int] = {}

            def on_event(name: str, event: str) -> None:
                text = {"starting": "starting, waiting for GET /health …",
                        "healthy": "healthy", "running": "already running"}[event]
                if name not in tasks:
                    tasks[name] = progress.add_task(text, total=1)
                progress.update(tasks[name], description=f"{name}: {text}",
                                completed=0 if event == "starting" else 1)

            return processes.up(topology_path, run_dir, names, on_event=on_event,
                                defects=defects)
    except TopologyError as exc:
        fail(str(exc))
    # A Conflict (exit 2) or a crash or timeout (ProcessError, exit 1) reaches the root group.


def uptime(seconds: float | None) -> str:
    """How long a simulator has run, for the status tables ("—" when unknown)."""
    if seconds is None:
        return "—"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def check_municipality(code: str) -> str:
    """The municipality's name, or UserError saying what is wrong with the code."""
    if not is_valid_local_government_code(code):
        raise UserError(f"municipality code {code!r} is not a valid local government code "
                        "(6 ASCII digits, the last a check digit; e.g. 131016 for 千代田区)")
    try:
        found = lookup(code)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if found.is_prefecture:
        raise UserError(f"{code} is {found.name}, a prefecture; give a municipality's code "
                        "(e.g. 131016 for 千代田区)")
    return found.name
