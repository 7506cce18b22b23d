"""Bulk inquiries: a file of up to 10,000 rows kept as a durable job, each row answered by the
inquiry pipeline (the same checks as a single inquiry), at most ``bulk_concurrency`` rows in
flight towards providers across all jobs. A stop cancels the jobs; the next start resumes them
without processing a finished row again."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from meshcert_simulators.common.topology import Institution, Topology
from meshcert_simulators.mesh.inquiries import Outcome, digest, duplicate, iso
from meshcert_simulators.mesh.models import InquiryRequest
from meshcert_simulators.mesh.store import MeshStore

DEFAULT_BULK_CONCURRENCY = 16  # rows in flight towards providers, across all jobs


@dataclass
class _LoopState:
    """The job tasks and the provider slots of one event loop."""

    loop: asyncio.AbstractEventLoop
    slots: asyncio.Semaphore
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)


class BulkRunner:
    """Runs bulk jobs. Reads ``store``, ``clock``, ``bulk_concurrency`` and ``inquiries`` (the
    pipeline) from the app's state at the time of use."""

    def __init__(self, state: Any, topology: Topology) -> None:
        self.state = state
        self.topology = topology
        self._running: _LoopState | None = None

    def _here(self) -> _LoopState:
        """The running loop's tasks and slots (the lifespan's; a host without a lifespan gets
        them on first use)."""
        loop = asyncio.get_running_loop()
        if self._running is None or self._running.loop is not loop:
            self._running = _LoopState(
                loop, asyncio.Semaphore(max(1, int(self.state.bulk_concurrency))))
        return self._running

    def submit(self, inst: Institution, rows: list[InquiryRequest],
               raw_rows: list[Any]) -> tuple[str, int]:
        """Store a new job of ``rows`` (validated) and ``raw_rows`` (as sent) and start it;
        returns its id and row count. A record id seen earlier in the file is refused for
        its row at once."""
        seen: set[str] = set()
        refused: dict[int, Outcome] = {}
        stored: list[tuple[str, str]] = []
        for n, (row, raw) in enumerate(zip(rows, raw_rows, strict=True), start=1):
            if row.record_id in seen:
                problem = duplicate(inst, row.record_id)
                refused[n] = (problem.status, problem.body())
            seen.add(row.record_id)
            stored.append((row.record_id, json.dumps(raw, ensure_ascii=False)))
        job_id = uuid.uuid4().hex
        store: MeshStore = self.state.store
        store.create_job(job_id, inst.code, stored, refused, iso(self.state.clock()))
        self.start(job_id)
        return job_id, len(stored)

    def start(self, job_id: str) -> None:
        tasks = self._here().tasks
        if job_id not in tasks or tasks[job_id].done():
            tasks[job_id] = asyncio.get_running_loop().create_task(self.run(job_id))

    def resume(self) -> None:
        """Start the jobs a stop interrupted; their finished rows are not processed again."""
        store: MeshStore = self.state.store
        for job_id in store.unfinished_jobs():
            self.start(job_id)

    async def run(self, job_id: str) -> None:
        store: MeshStore = self.state.store
        job = store.job(job_id)
        inst = self.topology.institution(job["inquirer"]) if job else None
        if job is None or inst is None:
            return
        store.set_job_state(job_id, "running")
        slots = self._here().slots
        in_flight: set[asyncio.Task[Any]] = set()

        async def one(row_no: int, raw: str) -> None:
            try:
                body = InquiryRequest.model_validate_json(raw)
                await self.state.inquiries.answer(inst, body, digest(json.loads(raw)),
                                                  row=(job_id, row_no))
            finally:
                slots.release()

        try:
            for row_no, raw in store.pending_rows(job_id):
                await slots.acquire()
                task = asyncio.create_task(one(row_no, raw))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            if in_flight:
                await asyncio.gather(*in_flight)
        except asyncio.CancelledError:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            raise
        store.set_job_state(job_id, "done", iso(self.state.clock()))

    async def stop(self) -> None:
        """Cancel the running loop's jobs (at the app's shutdown)."""
        running = self._running
        if running is None or running.loop is not asyncio.get_running_loop():
            return
        tasks = list(running.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running = None
