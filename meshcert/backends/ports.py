"""Free ports, and simulators started on them in a run folder of their own (shared by
certification, load runs and tests), on either backend: local processes
(meshcert.backends.processes) or containers (meshcert.backends.containers, the same up/down
shape)."""

from __future__ import annotations

import contextlib
import shutil
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from meshcert.backends import processes
from meshcert.errors import ConfigError, HarnessError
from meshcert_simulators.common.topology import with_absolute_paths

PORT_ATTEMPTS = 3
# Where the simulators run: local processes (meshcert.backends.processes) or containers
# (meshcert.backends.containers, the same up/down shape).
BACKENDS = ("process", "docker")


def free_port(host: str = "127.0.0.1") -> int:
    return free_ports([host])[0]


def free_ports(hosts: Sequence[str]) -> list[int]:
    """A free port on each of ``hosts``, all different: every probe stays bound until the last
    is chosen, so the system cannot hand out one port twice (it did: two simulators of one
    topology copy on the same port)."""
    with contextlib.ExitStack() as probes:
        ports = []
        for host in hosts:
            probe = probes.enter_context(socket.socket())
            probe.bind((host, 0))
            ports.append(int(probe.getsockname()[1]))
        return ports


def assign_free_ports(simulators: dict[str, dict[str, Any]]) -> None:
    """Put every simulator of a topology's ``simulators`` mapping on a free port of its host
    (all different)."""
    specs = list(simulators.values())
    hosts = [spec.get("host", "127.0.0.1") for spec in specs]
    for spec, port in zip(specs, free_ports(hosts), strict=True):
        spec["port"] = port


@contextlib.contextmanager
def on_free_ports(source: Path, names: Sequence[str], run_name: str, keep_running: bool = False,
                  defects: dict[str, str] | None = None, logs_to: Path | None = None,
                  backend: str = "process") -> Iterator[tuple[Path, Path]]:
    """A copy of topology ``source`` with every port free, its simulators ``names`` started
    in a run folder of their own (``.meshcert/run/<run_name>/``); yields (topology copy, run
    folder). At the end, unless ``keep_running``, stops them, copies their logs to
    ``logs_to`` and removes the run folder. Shared by certification and load runs."""
    run_dir = (Path(".meshcert") / "run" / run_name).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    raw = with_absolute_paths(yaml.safe_load(source.read_text(encoding="utf-8")), source.parent)
    topology_path = run_dir / "topology.yaml"
    started: list[str] = []
    try:
        for attempt in range(1, PORT_ATTEMPTS + 1):
            assign_free_ports(raw["simulators"])
            raw["name"] = run_name
            topology_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
                                     encoding="utf-8")
            try:
                launched = backend_module(backend).up(topology_path, run_dir, names,
                                                      defects=defects)
                started = [item.name for item in launched]
                break
            except (processes.Conflict, processes.ProcessError) as exc:
                if backend == "docker":
                    from meshcert.backends.containers import EngineUnavailable, ImageMissing
                    if isinstance(exc, EngineUnavailable | ImageMissing):
                        raise ConfigError(str(exc)) from None  # the user's set-up: exit 2
                # Another run took a free port between the probe and the bind: take others.
                busy = isinstance(exc, processes.Conflict) or "address already in use" in str(exc)
                if not busy or attempt == PORT_ATTEMPTS:
                    raise HarnessError(f"cannot start the reference: {exc}") from None
        yield topology_path, run_dir
    finally:
        if not keep_running:
            _stop_private(backend, run_dir, started)
            for name in started:
                log = processes.log_file(run_dir, name)
                if log.is_file() and logs_to is not None:
                    logs_to.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(log, logs_to / log.name)
            shutil.rmtree(run_dir, ignore_errors=True)


def backend_module(name: str) -> Any:
    """The module that runs simulators for a backend: both have up, down and log_file."""
    if name == "docker":
        from meshcert.backends import containers

        return containers
    return processes


def _stop_private(backend: str, run_dir: Path, started: list[str]) -> None:
    """Stop what a private run started; its containers' data volumes go with the run folder
    (everything labelled with the run's own topology, a half-made ``up`` included)."""
    if backend == "docker":
        from meshcert.backends import containers

        containers.down(run_dir, volumes=True)
    else:
        processes.down(run_dir, started)
