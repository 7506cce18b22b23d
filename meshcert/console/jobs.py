"""Certifications started from the browser: one at a time, each in its own process
(meshcert/console/worker.py), its progress lines kept in memory for the page and its
server-sent events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshcert.certify.plan import new_run_id

RUNNING, FINISHED, FAILED = "running", "finished", "failed"


@dataclass
class Job:
    id: str
    target: str
    out_dir: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    status: str = RUNNING
    total: int = 0
    done: int = 0
    failed: int = 0
    result: dict[str, Any] | None = None
    process: subprocess.Popen[str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, event: dict[str, Any]) -> None:
        with self.lock:
            kind = event.get("event")
            if kind == "collected":
                self.total = int(event.get("total", 0))
            elif kind == "test":
                self.done += 1
                self.failed += event.get("outcome") in ("failed", "error")
            elif kind == "result":
                self.result = event
            self.events.append(event)

    def end(self, status: str) -> None:
        with self.lock:
            self.status = status
            self.events.append({"event": "end", "status": status})


class Jobs:
    """The console's certifications; ``on_finished(job)`` is called when one ends (to index
    its report)."""

    def __init__(self, reports_dir: Path, on_finished: Callable[[Job], None]) -> None:
        self.reports_dir = reports_dir
        self.on_finished = on_finished
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def busy(self) -> bool:
        return any(j.status == RUNNING for j in self.jobs.values())

    def start(self, target: Path, seed: int | None = None) -> Job | None:
        """Start certifying ``target``; None when one is running already."""
        with self.lock:
            if self.busy():
                return None
            run_id = new_run_id()
            job = Job(run_id, str(target), (self.reports_dir / run_id).resolve())
            command = [sys.executable, "-m", "meshcert.console.worker", "--target", str(target),
                       "--out", str(job.out_dir)]
            if seed is not None:
                command += ["--seed", str(seed)]
            job.process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                encoding="utf-8", env={**os.environ, "PYTHONUNBUFFERED": "1"})
            self.jobs[job.id] = job
        threading.Thread(target=self._follow, args=(job,), daemon=True).start()
        return job

    def _follow(self, job: Job) -> None:
        assert job.process is not None and job.process.stdout is not None
        for line in job.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # only the worker's event lines are relayed
            if isinstance(event, dict):
                job.add(event)
        code = job.process.wait()
        if job.result is not None:
            try:
                self.on_finished(job)
            finally:
                job.end(FINISHED)
        else:
            job.add({"event": "phase", "text": f"the certification process exited {code}"})
            job.end(FAILED)

    def stop_all(self, grace_s: float = 30.0) -> None:
        """Stop the certifications still running (the console is shutting down): an interrupt,
        as Ctrl-C would, so that each stops the simulators it started."""
        for job in self.jobs.values():
            if job.process is not None and job.process.poll() is None:
                job.process.send_signal(signal.SIGINT)
                try:
                    job.process.wait(grace_s)
                except subprocess.TimeoutExpired:
                    job.process.kill()
