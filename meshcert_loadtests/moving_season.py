"""Moving season (docs/domain.md §7): online move-outs and registry reads on the March/April curve.

Run it through ``meshcert load --scenario moving-season --target T``, which writes the plan
(curve, rate, tokens, seeded residents) this file reads.
"""

from __future__ import annotations

from typing import Any, ClassVar

from locust import FastHttpUser

from meshcert_loadtests.common import PLAN, PlanShape, ssl_context_factory, wait_time
from meshcert_loadtests.registry import file_moveout, read_resident

__all__ = ["PlanShape", "RegistryUser"]


class RegistryUser(FastHttpUser):
    """Front services filing move-outs and clerks/downstream systems reading residents."""

    wait_time = wait_time()
    ssl_context_factory = staticmethod(ssl_context_factory)
    tasks: ClassVar[dict[Any, int]] = {read_resident: PLAN["weights"].get("read", 1),
                                       file_moveout: PLAN["weights"].get("moveout", 0)}
