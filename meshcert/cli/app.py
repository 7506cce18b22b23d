"""The ``meshcert`` command line: simulators, synthetic populations, and a guided demo.

User errors (a bad topology, a busy port, a bad municipality code, an unwritable file) end with
one ``meshcert: error: ...`` line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from meshcert.backends import processes
from meshcert.cli import containers as containers_command
from meshcert.cli.certify import certify_command
from meshcert.cli.console import (
    RunDirOption,
    TopologyOption,
    UserError,
    check_municipality,
    err,
    fail,
    out,
    run_dir_for,
    shown,
    start_simulators,
    topology_or_fail,
    uptime,
)
from meshcert.cli.containers import Backend, BackendOption, ImageOption, image_app
from meshcert.cli.demo import demo
from meshcert.cli.harness import harness_app
from meshcert.cli.load import capacity_command, load_command
from meshcert.cli.requirements import requirements_app
from meshcert.cli.selftest import selftest
from meshcert.cli.service import service_app
from meshcert.cli.ui import ui_command
from meshcert.cli.usage_errors import OneLineUsageErrors
from meshcert.cli.verify import verify_command
from meshcert_simulators import defects
from meshcert_simulators.common.topology import Topology

app = typer.Typer(
    name="meshcert",
    help="Conformance harness and simulators for Japan's public service mesh.\n\n"
         "First steps: `meshcert demo` runs the simulated mesh through a day of "
         "resident-registry traffic; `meshcert sim up` starts it for your own "
         "system to talk to.",
    no_args_is_help=True, add_completion=False, rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,  # locals would include bearer tokens
    context_settings={"help_option_names": ["-h", "--help"]},
    cls=OneLineUsageErrors,  # a usage error is one line, like every user error
)
sim_app = typer.Typer(
    help="Run the simulators of a topology as local processes on loopback ports, or as "
         "containers (--backend docker).\n\n"
         "Example: `meshcert sim up && meshcert sim status && meshcert sim down`",
    no_args_is_help=True)
population_app = typer.Typer(
    help="Synthetic resident populations (JSON Lines, one resident record a line).\n\n"
         "Example: `meshcert population generate -m 131016 -n 1000 --out people.jsonl`",
    no_args_is_help=True)
app.add_typer(sim_app, name="sim")
app.add_typer(population_app, name="population")
app.add_typer(image_app, name="image")


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"meshcert {version('meshcert')}")
        except PackageNotFoundError:
            typer.echo("meshcert (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    _version_flag: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit. Example: meshcert --version")] = False,
) -> None:
    """Conformance harness and simulators for Japan's public service mesh."""


# -- meshcert sim --------------------------------------------------------------------------


@sim_app.command("up")
def sim_up(topology: TopologyOption = None, run_dir: RunDirOption = None,
           defect: Annotated[list[str] | None, typer.Option(
               "--defect", metavar="SIMULATOR=ID",
               help="Start a simulator with a named defect, a negative control from "
                    "meshcert_simulators/defects/ (repeatable). "
                    "Example: --defect municipal=html-errors"
           )] = None,
           backend: BackendOption = Backend.process, image: ImageOption = None) -> None:
    """Start every simulator of the topology and wait until each answers GET /health.

    Checks first that every port is free. Simulators already running from the same run folder
    are left running. With `--backend docker`: one container per simulator on a private
    network, ports published on 127.0.0.1 only, data in named volumes.
    Example: `meshcert sim up --topology my-mesh.yaml`
    """
    topo, path = topology_or_fail(topology)
    run = run_dir_for(topo, run_dir)
    defects = dict(_defect_option(item, topo) for item in defect or [])
    if backend is Backend.docker:
        hint = ("meshcert sim down" + (f" --topology {topology}" if topology else "")
                + (f" --run-dir {run_dir}" if run_dir else ""))
        containers_command.up(topo, path, run, defects, image, hint)
        return
    launched = start_simulators(path, run, defects=defects)
    table = Table(title=f"topology {topo.name!r}", title_justify="left")
    table.add_column("simulator")
    table.add_column("URL", no_wrap=True)
    table.add_column("pid")
    table.add_column("state")
    for item in launched:
        table.add_row(item.name, item.url, str(item.pid),
                      "already running" if item.already_running else "started")
    out.print(table)
    out.print(f"Logs:  {shown(run)}/<simulator>.log (one JSON line per request)")
    out.print(f"Data:  {shown(processes.data_dir(run))}/ (SQLite; survives down and up)")
    down_hint = "meshcert sim down" + (f" --run-dir {run_dir}" if run_dir else
                                       f" --topology {topology}" if topology else "")
    out.print(f"Stop:  {down_hint}")


def _defect_option(item: str, topo: Topology) -> tuple[str, str]:
    name, _, defect_id = item.partition("=")
    if not defect_id or name not in topo.simulators:
        fail(f"--defect {item!r}: write SIMULATOR=DEFECT_ID with a simulator of topology "
             f"{topo.name!r} ({', '.join(topo.simulators)})")
    try:
        found = defects.get(defect_id)
    except ValueError as exc:
        fail(str(exc))
    if not found.applies_to(topo.simulators[name].kind):
        fail(f"defect {defect_id!r} applies to {' and '.join(found.kinds)} simulators, not "
             f"to {name!r}")
    return name, defect_id


@sim_app.command("down")
def sim_down(topology: TopologyOption = None, run_dir: RunDirOption = None,
             backend: BackendOption = Backend.process,
             volumes: Annotated[bool, typer.Option(
                 "--volumes", help="With --backend docker: remove the data volumes too "
                                   "(the simulators' state is lost).")] = False) -> None:
    """Stop the simulators started from the run folder (and only those).

    A pid file whose process is no longer a meshcert simulator is removed; that process is
    left alone. With `--backend docker`: removes the topology's containers and network (only
    those labelled meshcert.topology=NAME), keeping the data volumes unless `--volumes`.
    Example: `meshcert sim down --run-dir /tmp/mesh-run`
    """
    if backend is Backend.docker:
        topo = topology_or_fail(topology)[0]
        containers_command.down(topo, run_dir_for(topo, run_dir), volumes)
        return
    run = run_dir or processes.default_run_dir(topology_or_fail(topology)[0])
    stopped = processes.down(run)
    if not stopped:
        out.print(f"Nothing to stop: no pid files in {shown(run)}")
        return
    words = {"stopped": "stopped", "killed": "killed (did not stop on SIGTERM)",
             "not running": "was not running (stale pid file removed)",
             "not ours": "pid now belongs to another program: left alone, pid file removed"}
    for item in stopped:
        out.print(f"{item.name} (pid {item.pid}): {words[item.outcome]}")


@sim_app.command("status")
def sim_status(topology: TopologyOption = None, run_dir: RunDirOption = None,
               backend: BackendOption = Backend.process) -> None:
    """Show each simulator of the topology: process (or container), URL, health, uptime.

    Exits 1 if any simulator is not healthy (handy in scripts and CI).
    Example: `meshcert sim status || meshcert sim up`
    """
    topo, _ = topology_or_fail(topology)
    run = run_dir_for(topo, run_dir)
    if backend is Backend.docker:
        containers_command.status(topo, run)
        return
    rows = processes.status(run, topo)
    table = Table(title=f"topology {topo.name!r}, run folder {shown(run)}",
                  title_justify="left")
    table.add_column("simulator")
    table.add_column("URL", no_wrap=True)
    table.add_column("pid")
    table.add_column("health")
    table.add_column("uptime")
    for row in rows:
        health = "[green]healthy[/green]" if row.healthy else f"[red]{escape(row.health)}[/red]"
        pid = str(row.pid) if row.alive else ("started elsewhere" if row.healthy else "—")
        table.add_row(row.name, row.url, pid, health, uptime(row.uptime_s))
    out.print(table)
    if not all(row.healthy for row in rows):
        raise typer.Exit(1)


@sim_app.command("logs")
def sim_logs(
    simulator: Annotated[str, typer.Argument(
        metavar="SIMULATOR", help="A simulator of the topology. Example: municipal")],
    topology: TopologyOption = None, run_dir: RunDirOption = None,
    backend: BackendOption = Backend.process,
    tail: Annotated[int | None, typer.Option(
        "--tail", "-n", min=1, show_default=False,
        help="Only the last N lines. Example: --tail 50")] = None,
    follow: Annotated[bool, typer.Option(
        "--follow", "-f", help="Keep printing new lines until Ctrl-C.")] = False,
) -> None:
    """Print a simulator's output: one JSON line per request, then anything it logged.

    Example: `meshcert sim logs municipal --backend docker --tail 20 --follow`
    """
    topo, _ = topology_or_fail(topology)
    containers_command.logs(topo, run_dir_for(topo, run_dir), simulator, backend, tail, follow)


# -- meshcert population -------------------------------------------------------------------


@population_app.command("generate")
def population_generate(
    municipality: Annotated[str, typer.Option(
        "--municipality", "-m", metavar="CODE",
        help="6-digit local government code with its check digit. Example: -m 131016 (千代田区)"
    )],
    out_file: Annotated[str, typer.Option(
        "--out", "-o", metavar="FILE",
        help="Where to write the JSON Lines; '-' for stdout. Example: --out people.jsonl")],
    persons: Annotated[int, typer.Option(
        "--persons", "-n", min=1, max=10_000_000,
        help="How many persons to generate. Example: -n 100000")] = 1000,
    seed: Annotated[int, typer.Option(
        "--seed", "-s", min=0,
        help="Random seed: the same seed writes the same file. Example: --seed 42")] = 0,
) -> None:
    """Generate synthetic residents of one municipality, in households, as JSON Lines.

    Example: `meshcert population generate -m 131016 -n 1000 --seed 7 --out -`
    """
    try:
        name = check_municipality(municipality)
    except UserError as exc:
        fail(str(exc))
    from meshcert_simulators.common.population import generate_jsonl, write_jsonl

    to_stdout = out_file == "-"
    target = Path(out_file)
    # Write next to the target and rename at the end: an interrupted run leaves no half file.
    partial = target.with_name(f".{target.name}.partial")
    if not to_stdout and not target.parent.is_dir():
        fail(f"cannot write {out_file}: the folder {target.parent} does not exist")
    if target.is_dir() and not to_stdout:
        fail(f"cannot write {out_file}: it is a folder")
    try:
        stream = sys.stdout if to_stdout else partial.open("w", encoding="utf-8", newline="\n")
    except OSError as exc:
        fail(f"cannot write {out_file}: {exc.strerror or exc}")
    started = time.perf_counter()
    records = generate_jsonl(municipality, persons, seed)  # lines: the generator's fast path
    try:
        if persons >= 5000:
            with Progress(TextColumn("generating"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("persons"), console=err, transient=True) as progress:
                task = progress.add_task("", total=persons)
                written = write_jsonl(_counted(records, progress, task), stream)
        else:
            written = write_jsonl(records, stream)
        stream.flush()
        if not to_stdout:
            stream.close()
            os.replace(partial, target)
    except BrokenPipeError:
        # The reader went away (`... --out - | head`): not an error. Point stdout at devnull
        # so the flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except OSError as exc:
        fail(f"cannot write {'to stdout' if to_stdout else out_file}: {exc.strerror or exc}")
    finally:
        if not to_stdout and not stream.closed:
            stream.close()
            partial.unlink(missing_ok=True)
    elapsed = max(time.perf_counter() - started, 1e-9)
    where = "stdout" if to_stdout else shown(target)
    err.print(f"wrote {written:,} persons of {municipality} {name} (seed {seed}) to {where} "
              f"in {elapsed:.2f} s — {written / elapsed:,.0f} persons/s", soft_wrap=True)


def _counted(records: Iterable[str], progress: Progress, task: int) -> Iterator[str]:
    """Pass records through, advancing the progress bar every 1,000."""
    for count, record in enumerate(records, start=1):
        if count % 1000 == 0:
            progress.update(task, completed=count)
        yield record


app.command("demo")(demo)
app.command("certify")(certify_command)
app.command("verify")(verify_command)
app.add_typer(requirements_app, name="requirements")
app.add_typer(harness_app, name="harness")
app.add_typer(service_app, name="service")
app.command("selftest")(selftest)
app.command("load")(load_command)
app.command("capacity")(capacity_command)
app.command("ui")(ui_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
