"""The command line of the container backend: ``meshcert sim … --backend docker``,
``meshcert sim logs`` and ``meshcert image build``. The Docker SDK is imported only when a
command uses it (every other command starts faster)."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from meshcert.backends import image_names, processes
from meshcert.cli.console import err, fail, out, shown, uptime
from meshcert.errors import MeshcertError
from meshcert_simulators.common.topology import Topology, TopologyError


class Backend(StrEnum):
    process = "process"
    docker = "docker"


BackendOption = Annotated[Backend, typer.Option(
    "--backend", "-b", case_sensitive=False,
    help="Where the simulators run: local processes on loopback, or containers of the "
         "meshcert image (Docker engine; build the image first: meshcert image build). "
         "Example: --backend docker")]

ImageOption = Annotated[str | None, typer.Option(
    "--image", metavar="IMAGE", show_default=False, envvar=image_names.IMAGE_ENV,
    help="The image to run with --backend docker (default meshcert:VERSION, what "
         "`meshcert image build` tags). Example: --image registry.example/meshcert:0.1.0")]


def _engine_errors(exc: Exception) -> None:
    """A configuration problem (no engine, no image, a conflict, a topology) is exit 2; the
    rest 1 — each meshcert error carries its own (meshcert.errors)."""
    fail(str(exc), code=exc.exit_code if isinstance(exc, MeshcertError) else 2)


# -- sim up / down / status with --backend docker ----------------------------------------------


def up(topology: Topology, path: Path, run_dir: Path, defects: dict[str, str],
       image_name: str | None, down_hint: str) -> None:
    from meshcert.backends import containers

    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=err, transient=True) as progress:
            tasks: dict[str, int] = {}

            def on_event(name: str, event: str) -> None:
                text = {"starting": "container started, waiting for GET /health …",
                        "healthy": "healthy", "running": "already running"}[event]
                if name not in tasks:
                    tasks[name] = progress.add_task(text, total=1)
                progress.update(tasks[name], description=f"{name}: {text}",
                                completed=0 if event == "starting" else 1)

            launched = containers.up(path, run_dir, on_event=on_event, defects=defects,
                                     image=image_name)
    except (containers.ContainerError, processes.ProcessError, TopologyError) as exc:
        _engine_errors(exc)
    prefix = containers.resource_prefix(topology.name)
    table = Table(title=f"topology {topology.name!r} in containers (network {prefix})",
                  title_justify="left")
    for column in ("simulator", "URL", "container", "state"):
        table.add_column(column, no_wrap=column == "URL")
    for item in launched:
        table.add_row(item.name, item.url, f"{prefix}-{item.name}",
                      "already running" if item.already_running else "started")
    out.print(table)
    out.print(f"Logs:  meshcert sim logs SIMULATOR --backend docker --topology "
              f"{shown(path)}", soft_wrap=True)
    out.print(f"Data:  volumes {prefix}-<simulator>-data (survive down and up; "
              "down --volumes removes them)", soft_wrap=True)
    out.print(f"Stop:  {down_hint} --backend docker", soft_wrap=True)


def down(topology: Topology, run_dir: Path, volumes: bool) -> None:
    from meshcert.backends import containers

    try:
        removed = containers.down(run_dir, topology=topology.name, volumes=volumes)
    except containers.ContainerError as exc:
        _engine_errors(exc)
    if not removed:
        out.print(f"Nothing to remove: no containers of topology {topology.name!r}")
        return
    for item in removed:
        what = f"{item.kind} {item.name}"
        out.print(f"{item.simulator}: removed {what}" if item.simulator else f"removed {what}")
    if any(item.kind == "container" for item in removed):
        out.print(f"Their output was appended to {shown(run_dir)}/<simulator>.log")
    if not volumes:
        out.print("Data volumes kept (remove them with: meshcert sim down --backend docker "
                  "--volumes)")


def status(topology: Topology, run_dir: Path) -> None:
    from meshcert.backends import containers

    try:
        rows = containers.status(topology, run_dir)
    except containers.ContainerError as exc:
        _engine_errors(exc)
    table = Table(title=f"topology {topology.name!r} in containers", title_justify="left")
    for column in ("simulator", "URL", "container", "state", "engine health", "health",
                   "uptime"):
        table.add_column(column, no_wrap=column == "URL")
    for row in rows:
        health = "[green]healthy[/green]" if row.healthy else f"[red]{escape(row.health)}[/red]"
        table.add_row(row.name, row.url, row.container, row.state, row.engine_health, health,
                      uptime(row.uptime_s))
    out.print(table)
    if not all(row.healthy for row in rows):
        raise typer.Exit(1)


def logs(topology: Topology, run_dir: Path, name: str, backend: Backend, tail: int | None,
         follow: bool) -> None:
    try:
        topology.simulator(name)
    except TopologyError as exc:
        fail(str(exc))
    if backend is Backend.process:
        _process_logs(run_dir, name, tail, follow)
        return
    from meshcert.backends import containers

    try:
        for chunk in containers.logs(topology, name, tail=tail, follow=follow):
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
    except containers.ContainerError as exc:
        _engine_errors(exc)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def _process_logs(run_dir: Path, name: str, tail: int | None, follow: bool) -> None:
    path = processes.log_file(run_dir, name)
    if not path.is_file():
        fail(f"no log of {name} in {shown(run_dir)} (start it: meshcert sim up)")
    with path.open("rb") as handle:
        lines = handle.readlines()
        sys.stdout.buffer.writelines(lines[-tail:] if tail else lines)
        sys.stdout.buffer.flush()
        try:
            while follow:
                line = handle.readline()
                if line:
                    sys.stdout.buffer.write(line)
                    sys.stdout.buffer.flush()
                else:
                    time.sleep(0.2)
        except KeyboardInterrupt:
            raise typer.Exit(0) from None


# -- meshcert image ------------------------------------------------------------------------------

image_app = typer.Typer(
    help="The container image of the simulators (one image; the command picks the "
         "simulator).\n\n"
         "Example: `meshcert image build && meshcert sim up --backend docker`",
    no_args_is_help=True)


@image_app.command("build")
def image_build(
    base_image: Annotated[str, typer.Option(
        "--base-image", metavar="IMAGE",
        help="Base image with Python 3.11 and venv. Without a registry, make one with "
             "docker/make-base-image.sh. Example: --base-image meshcert-base:bookworm")
    ] = image_names.DEFAULT_BASE_IMAGE,
    tag: Annotated[str | None, typer.Option(
        "--tag", metavar="IMAGE", show_default=False,
        help="Name of the image (default meshcert:VERSION). Example: --tag meshcert:test")
    ] = None,
    wheelhouse: Annotated[Path, typer.Option(
        "--wheelhouse", metavar="DIR",
        help="Folder of wheels the image installs from (made here with pip wheel). "
             "Example: --wheelhouse /media/usb/wheelhouse")] = image_names.DEFAULT_WHEELHOUSE,
    offline: Annotated[bool, typer.Option(
        "--offline",
        help="Air-gapped: make the project's wheel with only the wheels already in "
             "--wheelhouse (carried in from a connected machine), no package index.")
    ] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Print pip's and the build's output.")] = False,
) -> None:
    """Make the wheelhouse (pip wheel of meshcert and its pinned dependencies), then build
    docker/Dockerfile on it: the image installs offline, with no registry or index.

    Example (no registry): `docker/make-base-image.sh && meshcert image build --base-image
    meshcert-base:bookworm`
    """
    from meshcert.backends import containers, image

    def show(line: str) -> None:
        if verbose:
            err.print(escape(line), soft_wrap=True)

    try:
        image.preflight(base_image)  # no engine or no base image: say so before the slow part
        started = time.monotonic()
        with _step(f"wheelhouse {shown(wheelhouse)}", verbose):
            wheels = image.build_wheelhouse(wheelhouse, offline=offline, on_line=show)
        out.print(f"Wheelhouse: {len(wheels)} wheels in {shown(wheelhouse)} "
                  f"({time.monotonic() - started:.0f} s)")
        with _step(f"image on {base_image}", verbose):
            built = image.build_image(wheelhouse, tag=tag, base_image=base_image, on_line=show)
    except containers.ContainerError as exc:
        _engine_errors(exc)
    out.print(f"Image: {built.tag} ({built.image_id.removeprefix('sha256:')}, "
              f"{built.size_bytes / 1e6:.0f} MB, built in {built.seconds:.0f} s)")
    out.print("Run:   meshcert sim up --backend docker")


class _step:
    """A spinner while one step runs (none with --verbose: the output shows progress)."""

    def __init__(self, text: str, verbose: bool) -> None:
        self.progress = None if verbose else Progress(
            SpinnerColumn(), TextColumn(text), TimeElapsedColumn(), console=err, transient=True)

    def __enter__(self) -> None:
        if self.progress:
            self.progress.start()
            self.progress.add_task("", total=None)

    def __exit__(self, *_exc: object) -> None:
        if self.progress:
            self.progress.stop()
