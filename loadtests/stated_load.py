"""The stated load of a catalog latency target (PERF-*): a constant rate of the timed request
from a fixed number of users, run by ``meshcert certify`` (suites/resident_registry/
test_latency.py) through meshcert/load.py, with exact samples for the percentile."""

from __future__ import annotations

from typing import Any, ClassVar

from locust import FastHttpUser

from loadtests.common import PlanShape, ssl_context_factory, wait_time
from loadtests.registry import read_resident

__all__ = ["PlanShape", "StatedLoad"]


class StatedLoad(FastHttpUser):
    wait_time = wait_time()
    ssl_context_factory = staticmethod(ssl_context_factory)
    tasks: ClassVar[list[Any]] = [read_resident]
