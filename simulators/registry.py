"""Which app factory builds each kind of simulator named in a topology."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from simulators.common.settings import Settings

FACTORIES = {
    "municipal": "simulators.municipal.app:create_app",
    "authz": "simulators.authz.app:create_app",
    "mesh": "simulators.mesh.app:create_app",
    "jlis": "simulators.jlis.app:create_app",
    "tax": "simulators.tax.app:create_app",
    "child-allowance": "simulators.childallowance.app:create_app",
}


def create_app(settings: Settings) -> FastAPI:
    """Build the app for the simulator ``settings.name`` describes."""
    module, _, name = FACTORIES[settings.spec.kind].partition(":")
    return getattr(import_module(module), name)(settings)
