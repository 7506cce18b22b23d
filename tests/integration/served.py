"""One simulator served as it is in the field — ``python -m simulators.serve`` (uvicorn, the
protocol serve.py chooses) — on a free port, with its stderr (access log, server log) in a file."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from meshcert.backends.processes import stop_child
from tests.integration.topologies import copy_on_free_ports

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = ROOT / "fixtures" / "topologies"


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
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "simulators.serve", "--name", name, "--topology",
             str(topo_path), "--data-dir", str(tmp_path / "data")],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
    url = f"http://{host}:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer /health within {timeout_s} s")
            time.sleep(0.1)
        yield Served(url, host, port, log, topo_path)
    finally:
        stop_child(process, grace_s=5)


def log_after(served_sim: Served, predicate: Callable[[str], bool],
              timeout_s: float = 5.0) -> str:
    """The log once ``predicate(text)`` holds (lines are flushed a loop turn later)."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = served_sim.log_text()
        if predicate(text) or time.monotonic() > deadline:
            return text
        time.sleep(0.05)
