"""A process of its own serving HTTP until a block ends (:func:`serving`), and one simulator
served as it is in the field — ``python -m meshcert_simulators.serve`` (uvicorn, the protocol
serve.py
chooses) — on a free port, with its stderr (access log, server log) in a file (:func:`served`)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from meshcert.backends.processes import stop_child
from tests.integration.topologies import copy_on_free_ports

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = ROOT / "fixtures" / "topologies"
START_TIMEOUT_S = 30.0


@contextmanager
def serving(command: Sequence[str], health_url: str, log: Path,
            env: dict[str, str] | None = None, verify: Any = True,
            timeout_s: float = START_TIMEOUT_S) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` as a process of its own until the block ends; wait until
    ``health_url`` answers 200 first (its output goes to ``log``). Yields the process."""
    with log.open("ab") as out:  # the child keeps its own copy of the file
        process = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT,
                                   cwd=ROOT, env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            assert process.poll() is None, (
                f"{command[:4]} exited {process.returncode}:\n"
                f"{log.read_text(errors='replace')[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(health_url, timeout=1.0, verify=verify).status_code == 200:
                    break
            assert time.monotonic() < deadline, (
                f"{health_url} not healthy after {timeout_s:g} s:\n"
                f"{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield process
    finally:
        stop_child(process, grace_s=5)


@dataclass(frozen=True)
class Served:
    url: str
    host: str
    port: int
    log: Path            # the process's stderr: access-log lines, uvicorn's own messages
    topology: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def served(tmp_path: Path, name: str, topology: Path = TOPOLOGIES / "embedded.yaml",
           timeout_s: float = 30.0) -> Iterator[Served]:
    """Serve simulator ``name`` of (a free-port copy of) ``topology``; stopped on exit."""
    topo_path = tmp_path / f"{name}-topology.yaml"
    spec = copy_on_free_ports(topology, topo_path)["simulators"][name]
    host, port = spec.get("host", "127.0.0.1"), int(spec["port"])
    log = tmp_path / f"{name}.log"
    url = f"http://{host}:{port}"
    command = [sys.executable, "-m", "meshcert_simulators.serve", "--name", name, "--topology",
               str(topo_path), "--data-dir", str(tmp_path / "data")]
    with serving(command, f"{url}/health", log, timeout_s=timeout_s):
        yield Served(url, host, port, log, topo_path)


def log_after(served_sim: Served, predicate: Callable[[str], bool],
              timeout_s: float = 5.0) -> str:
    """The log once ``predicate(text)`` holds (lines are flushed a loop turn later)."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = served_sim.log_text()
        if predicate(text) or time.monotonic() > deadline:
            return text
        time.sleep(0.05)
