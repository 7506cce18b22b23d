"""The stated load of a catalog latency target (PERF-*): a constant rate of the timed request
from a fixed number of users, run by ``meshcert certify`` (meshcert_suites/resident_registry/
test_latency.py) through meshcert/load/run.py, with exact samples for the percentile."""

from __future__ import annotations

from typing import Any, ClassVar

from locust import FastHttpUser

from meshcert_loadtests.common import PlanShape, ssl_context_factory, wait_time
from meshcert_loadtests.registry import read_resident

__all__ = ["PlanShape", "StatedLoad"]

CONNECT = "connection set-up (not timed)"


class StatedLoad(FastHttpUser):
    wait_time = wait_time()
    ssl_context_factory = staticmethod(ssl_context_factory)
    tasks: ClassVar[list[Any]] = [read_resident]

    def on_start(self) -> None:
        # The target is reads at a steady rate on open connections: each user opens its
        # connection (TCP and TLS handshakes) with an untimed request first, under another name.
        self.client.get("/health", name=CONNECT)
