"""The nationwide notice / benefit payout burst (docs/domain.md §7: 125 M in 24 h or 1 h).

Against a resident registry: each resident's record read once for the notice. Against a mesh
topology: the payout's public-fund account queries (single and bulk), as in mesh_inquiries.py.
"""

from __future__ import annotations

from typing import Any, ClassVar

from locust import FastHttpUser

from meshcert_loadtests.common import PLAN, PlanShape, ssl_context_factory, wait_time

__all__ = ["PlanShape"]

if PLAN["data"].get("kind") == "mesh":
    from meshcert_loadtests.mesh_inquiries import MeshInquirer  # noqa: F401  (Locust finds it here)
else:
    from meshcert_loadtests.registry import read_resident

    class NoticeReader(FastHttpUser):
        wait_time = wait_time()
        ssl_context_factory = staticmethod(ssl_context_factory)
        tasks: ClassVar[list[Any]] = [read_resident]
