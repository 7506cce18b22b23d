"""The background work of the child-allowance system: each received application is processed
by the inquirer in a task of its own; a stop cancels the tasks and the next start resumes the
unfinished applications."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("meshcert.childallowance")


class Background:
    """Runs applications. Reads ``inquirer``, ``decider`` and ``store`` from the app's state at
    the time of use, so a negative control can replace any of them."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self._held: tuple[asyncio.AbstractEventLoop, dict[str, asyncio.Task[None]]] | None = None

    def tasks(self) -> dict[str, asyncio.Task[None]]:
        """The background work of the running event loop."""
        loop = asyncio.get_running_loop()
        if self._held is None or self._held[0] is not loop:
            self._held = (loop, {})
        return self._held[1]

    async def work(self, application_id: str) -> None:
        try:
            await self.state.inquirer.process(application_id)
        except asyncio.CancelledError:
            raise  # stopped: resumed at the next start
        except Exception as exc:  # never leave an application silently stuck
            log.exception("processing %s failed", application_id)
            outcome = self.state.decider.on_failure(
                self.state.store.application(application_id)["body"],
                f"internal error ({type(exc).__name__})")
            self.state.inquirer.conclude(application_id, outcome)

    def start(self, application_id: str) -> None:
        running = self.tasks()
        if application_id not in running or running[application_id].done():
            running[application_id] = asyncio.get_running_loop().create_task(
                self.work(application_id))

    def resume(self) -> None:
        """Start the applications a stop interrupted."""
        for application_id in self.state.store.unfinished():
            self.start(application_id)

    async def stop(self) -> None:
        running = list(self.tasks().values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
