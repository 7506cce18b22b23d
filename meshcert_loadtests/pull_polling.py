"""PULL polling (docs/domain.md §5 F5, §7): the 19 other standard systems of each municipality
polling the registry's difference feed on their interval. Each Locust user stands for a group
of those systems, keeping its own cursor; users × per-user rate = 19 × N / interval."""

from __future__ import annotations

from locust import FastHttpUser, task

from meshcert_loadtests.common import PlanShape, ssl_context_factory, wait_time
from meshcert_loadtests.registry import poll_changes

__all__ = ["PlanShape", "StandardSystems"]


class StandardSystems(FastHttpUser):
    wait_time = wait_time()
    ssl_context_factory = staticmethod(ssl_context_factory)

    def on_start(self) -> None:
        self.cursors: dict[str, int] = {}   # a cursor per municipality polled
        self.polls = 0

    @task
    def poll(self) -> None:
        poll_changes(self, self.cursors)
