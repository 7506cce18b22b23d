"""The local-process backend: each simulator of a topology as a process on its loopback port.

A run folder (default ``.meshcert/run/<topology name>/``) holds, per simulator, ``<name>.pid``,
``<name>.port`` and ``<name>.log`` (its stdout and stderr, the JSON access log included),
``data/`` with the SQLite files, which survive ``down`` and ``up``, and ``tls/`` with the local
CA and server certificate when a simulator of the topology is served over TLS.

Functions here return what happened; printing is the CLI's job.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import httpx

from meshcert.errors import MeshcertError
from meshcert_simulators.common.tls import ensure_local_tls, trust_for
from meshcert_simulators.common.topology import Topology, load_topology

SERVE_MODULE = "meshcert_simulators.serve"
HEALTH_TIMEOUT_S = 30.0
HEALTH_POLL_S = 0.02  # a starting simulator is probed this often (a refused connect is cheap)
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 25


class ProcessError(MeshcertError, RuntimeError):
    """The simulators cannot be started or stopped as asked (a crash, a timeout): the message
    says why; read the simulator's log it names. Exit status 1."""

    exit_code: ClassVar[int] = 1


class Conflict(ProcessError):
    """What was asked conflicts with what runs (a busy port, a simulator on another port):
    the user's to fix, not a crash — stop what holds the port, or choose another. Exit status
    2."""

    exit_code: ClassVar[int] = 2


@dataclass(frozen=True)
class Launched:
    """A simulator ``up`` has started (or found already running)."""

    name: str
    pid: int
    url: str
    log: Path
    already_running: bool = False


@dataclass(frozen=True)
class Stopped:
    """What ``down`` did about one pid file."""

    name: str
    pid: int | None
    # "stopped" (SIGTERM), "killed" (SIGKILL after the timeout), "not running" (stale pid
    # file), "not ours" (the pid now belongs to another program: left alone).
    outcome: str


@dataclass(frozen=True)
class SimulatorStatus:
    name: str
    url: str
    pid: int | None
    alive: bool
    healthy: bool
    health: str  # what /health said, or why it could not be asked
    uptime_s: float | None
    log: Path


def stop_child(process: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """Stop a child process of ours (pytest, Locust): SIGTERM, then SIGKILL after ``grace_s``."""
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_s)
    if process.poll() is None:
        process.kill()
        process.wait()  # reaped: no zombie left behind


def default_run_dir(topology: Topology) -> Path:
    return Path(".meshcert") / "run" / topology.name


def data_dir(run_dir: Path) -> Path:
    return run_dir / "data"


def tls_dir(run_dir: Path) -> Path:
    """The local CA and server certificate of a run folder (see meshcert_simulators.common.tls)."""
    return run_dir / "tls"


def _pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.pid"


def _port_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.port"


def log_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.log"


# -- who is running ------------------------------------------------------------------------


def _cmdline(pid: int) -> list[str] | None:
    """The argv of a live process, or None when there is none (zombies have an empty one)."""
    if not Path("/proc/self").exists():  # no procfs (macOS): ask ps
        out = subprocess.run(["ps", "-o", "args=", "-p", str(pid)], capture_output=True,
                             text=True, check=False).stdout.strip()
        return out.split() or None
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    args = [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]
    return args or None


def is_our_simulator(pid: int, name: str) -> bool:
    """True only when ``pid`` is a live ``python -m meshcert_simulators.serve --name <name>``: a pid
    file can outlive its process and the pid be reused by an unrelated program."""
    args = _cmdline(pid)
    if not args:
        return False
    try:
        module = args[args.index("-m") + 1]
        given = args[args.index("--name") + 1]
    except (ValueError, IndexError):
        return False
    return module == SERVE_MODULE and given == name


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (FileNotFoundError, ValueError):
        return None


def running_pid(run_dir: Path, name: str) -> int | None:
    """The pid of the simulator ``name`` of this run folder, if it is running."""
    pid = _read_int(_pid_file(run_dir, name))
    return pid if pid is not None and is_our_simulator(pid, name) else None


def _forget(run_dir: Path, name: str) -> None:
    for path in (_pid_file(run_dir, name), _port_file(run_dir, name)):
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(run_dir: Path) -> Iterator[None]:
    """One ``up`` or ``down`` at a time per run folder (two racing ``up`` would both start)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# -- health --------------------------------------------------------------------------------


def check_health(url: str, name: str, timeout: float = 1.0,
                 verify: ssl.SSLContext | bool = True) -> tuple[bool, str]:
    """(healthy, description). Healthy means /health answers 200 *as this simulator*, so a
    different program on the port is not taken for ours. ``verify`` is the trust for https
    URLs (the run folder's local CA: :func:`meshcert_simulators.common.tls.trust_for`)."""
    try:
        response = httpx.get(f"{url}/health", timeout=timeout, verify=verify)
    except httpx.HTTPError as exc:
        return False, f"no answer ({type(exc).__name__})"
    if response.status_code != 200:
        return False, f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return False, "not a meshcert simulator (non-JSON /health)"
    if not isinstance(body, dict) or body.get("simulator") != name:
        return False, f"another service answers there ({body!r:.60})"
    return True, f"ok ({body.get('kind')} {body.get('version')})"


# -- up ------------------------------------------------------------------------------------


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on, or None when it is free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # uvicorn sets SO_REUSEADDR too: without it, a port in TIME_WAIT looks busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"port {port} on {host} is already in use by another program "
                        f"(see who: ss -ltnp 'sport = :{port}')")
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _start(topology_path: Path, run_dir: Path, name: str, defect: str | None = None
           ) -> subprocess.Popen[bytes]:
    log = log_file(run_dir, name)
    with log.open("ab") as handle:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        handle.write(f"--- meshcert: starting {name} at {stamp} ---\n".encode())
        handle.flush()
        process = subprocess.Popen(
            [sys.executable, "-m", SERVE_MODULE, "--name", name,
             "--topology", str(topology_path), "--data-dir", str(data_dir(run_dir)),
             "--tls-dir", str(tls_dir(run_dir)),
             *(["--defect", defect] if defect else [])],
            stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C in the terminal that ran `sim up` does not reach it.
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    _pid_file(run_dir, name).write_text(f"{process.pid}\n", encoding="ascii")
    return process


def up(topology_path: Path, run_dir: Path, names: Iterable[str] | None = None,
       timeout: float = HEALTH_TIMEOUT_S,
       on_event: Callable[[str, str], None] | None = None,
       defects: dict[str, str] | None = None) -> list[Launched]:
    """Start the simulators of a topology (all, or ``names``) and wait until each is healthy.

    ``defects`` maps a simulator name to a defect id (meshcert_simulators/defects/) to start it
    with:
    the negative controls of ``meshcert selftest``.

    Simulators already running from this run folder are left as they are and reported with
    ``already_running``. Raises TopologyError or ProcessError; if one simulator fails, the
    ones this call started are stopped again, so a failed ``up`` leaves nothing behind.
    ``on_event(name, event)`` is told "running", "starting", "healthy".
    """
    topology_path = Path(topology_path).resolve()
    topology = load_topology(topology_path)
    wanted = list(names) if names is not None else list(topology.simulators)
    for name in wanted:
        topology.simulator(name)  # unknown name -> TopologyError listing the known ones
    notify = on_event or (lambda _name, _event: None)
    run_dir = Path(run_dir).resolve()
    with _locked(run_dir):
        data_dir(run_dir).mkdir(parents=True, exist_ok=True)
        if any(topology.simulators[name].tls for name in wanted):
            ensure_local_tls(tls_dir(run_dir))  # before any starts: they share the files
        result: list[Launched] = []
        to_start: list[str] = []
        for name in wanted:
            pid = running_pid(run_dir, name)
            if pid is None:
                _forget(run_dir, name)  # stale files of a process that is gone
                to_start.append(name)
                continue
            recorded = _read_int(_port_file(run_dir, name))
            if recorded != topology.simulators[name].port:
                raise Conflict(
                    f"{name} is already running (pid {pid}) on port {recorded}, but the "
                    f"topology says {topology.simulators[name].port}; run `meshcert sim down` "
                    "first")
            result.append(Launched(name, pid, topology.url(name), log_file(run_dir, name), True))
            notify(name, "running")
        _check_ports(topology, to_start)
        started: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name in to_start:
                started[name] = _start(topology_path, run_dir, name, (defects or {}).get(name))
                _port_file(run_dir, name).write_text(
                    f"{topology.simulators[name].port}\n", encoding="ascii")
                notify(name, "starting")
            _wait_healthy(topology, run_dir, started, timeout, notify)
        except BaseException:
            _stop_all(run_dir, list(started))
            raise
    return result + [Launched(n, p.pid, topology.url(n), log_file(run_dir, n))
                     for n, p in started.items()]


def _check_ports(topology: Topology, names: list[str]) -> None:
    """Every port must be free before anything starts (half a mesh is worse than none)."""
    problems: list[str] = []
    seen: dict[tuple[str, int], str] = {}
    for name in names:
        spec = topology.simulators[name]
        if (spec.host, spec.port) in seen:
            problems.append(f"{name} and {seen[spec.host, spec.port]} both want "
                            f"{spec.host}:{spec.port}")
            continue
        seen[spec.host, spec.port] = name
        if problem := port_problem(spec.host, spec.port):
            problems.append(f"{name}: {problem}")
    if problems:
        raise Conflict("; ".join(problems))


def _wait_healthy(topology: Topology, run_dir: Path,
                  started: dict[str, subprocess.Popen[bytes]], timeout: float,
                  notify: Callable[[str, str], None]) -> None:
    pending = dict(started)
    verify = trust_for(tls_dir(run_dir))
    if verify is True:  # one context for every poll: loading the CA bundle costs ~20 ms of CPU
        verify = httpx.create_ssl_context()
    deadline = time.monotonic() + timeout
    while pending:
        for name, process in list(pending.items()):
            code = process.poll()
            if code is not None:
                log = log_file(run_dir, name)
                raise ProcessError(f"{name} exited with status {code} while starting; "
                                   f"the end of {log}:\n{_tail(log)}")
            spec = topology.simulators[name]
            if not _listening(spec.host, spec.port):
                continue  # still importing: not worth an HTTP request yet
            healthy, _ = check_health(topology.url(name), name, timeout=0.5, verify=verify)
            if healthy:
                notify(name, "healthy")
                del pending[name]
        if pending and time.monotonic() > deadline:
            names = ", ".join(sorted(pending))
            tails = "\n".join(f"--- {log_file(run_dir, n)} ---\n{_tail(log_file(run_dir, n))}"
                              for n in sorted(pending))
            raise ProcessError(f"{names} did not answer GET /health within {timeout:.0f} s\n"
                               f"{tails}")
        if pending:
            time.sleep(HEALTH_POLL_S)


def _listening(host: str, port: int) -> bool:
    """Whether something accepts connections on ``host:port`` (a cheap probe before /health)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# -- down ----------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still "exists" but has finished; it has no cmdline any more.
    return _cmdline(pid) is not None


def _stop_all(run_dir: Path, names: list[str], timeout: float = STOP_TIMEOUT_S
              ) -> list[Stopped]:
    """SIGTERM every verified simulator first, then wait for all: stopping is parallel."""
    report: dict[str, Stopped] = {}
    signalled: dict[str, int] = {}
    for name in names:
        pid = _read_int(_pid_file(run_dir, name))
        if pid is None or not _alive(pid):
            report[name] = Stopped(name, pid, "not running")
        elif not is_our_simulator(pid, name):
            report[name] = Stopped(name, pid, "not ours")
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            signalled[name] = pid
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in signalled.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for name, pid in signalled.items():
        outcome = "stopped"
        if _alive(pid) and is_our_simulator(pid, name):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            outcome = "killed"
        report[name] = Stopped(name, pid, outcome)
    for name in names:
        _forget(run_dir, name)
    return [report[n] for n in names]


def down(run_dir: Path, names: Iterable[str] | None = None,
         timeout: float = STOP_TIMEOUT_S) -> list[Stopped]:
    """Stop the simulators whose pid files are in ``run_dir`` (all, or ``names``).

    Only a process that is verifiably ``meshcert_simulators.serve --name <name>`` is signalled; a
    pid
    file pointing at anything else is removed and the process left alone.
    """
    run_dir = Path(run_dir).resolve()
    if not run_dir.is_dir():
        return []
    with _locked(run_dir):
        found = sorted(p.stem for p in run_dir.glob("*.pid"))
        chosen = [n for n in found if names is None or n in set(names)]
        return _stop_all(run_dir, chosen, timeout)


# -- status --------------------------------------------------------------------------------


def status(run_dir: Path, topology: Topology) -> list[SimulatorStatus]:
    """Per simulator of the topology: its process (if this run folder started one) and
    whether it answers GET /health."""
    run_dir = Path(run_dir).resolve()
    verify = trust_for(tls_dir(run_dir))
    rows: list[SimulatorStatus] = []
    for name in topology.simulators:
        pid = _read_int(_pid_file(run_dir, name))
        alive = pid is not None and is_our_simulator(pid, name)
        uptime = None
        if alive:
            with contextlib.suppress(FileNotFoundError):
                uptime = time.time() - _pid_file(run_dir, name).stat().st_mtime
        healthy, health = check_health(topology.url(name), name, verify=verify)
        rows.append(SimulatorStatus(name, topology.url(name), pid if alive else None, alive,
                                    healthy, health, uptime, log_file(run_dir, name)))
    return rows
