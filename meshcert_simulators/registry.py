"""Which app factory builds each kind of simulator named in a topology."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from meshcert_simulators.common.settings import Settings

FACTORIES = {
    "municipal": "meshcert_simulators.municipal.app:create_app",
    "authz": "meshcert_simulators.authz.app:create_app",
    "mesh": "meshcert_simulators.mesh.app:create_app",
    "jlis": "meshcert_simulators.jlis.app:create_app",
    "tax": "meshcert_simulators.tax.app:create_app",
    "child-allowance": "meshcert_simulators.childallowance.app:create_app",
    "jpki": "meshcert_simulators.jpki.app:create_app",
    "gateway": "meshcert_simulators.gateway.app:create_app",
    "idp": "meshcert_simulators.idp.app:create_app",
    "bank": "meshcert_simulators.bank.app:create_app",
    "front-app": "meshcert_simulators.frontapp.app:create_app",
    "portal": "meshcert_simulators.portal.app:create_app",
    "accounts": "meshcert_simulators.accounts.app:create_app",
    "nhi": "meshcert_simulators.nhi.app:create_app",
    "service": "meshcert_simulators.service.app:create_app",
}


def create_app(settings: Settings) -> FastAPI:
    """Build the app for the simulator ``settings.name`` describes."""
    module, _, name = FACTORIES[settings.spec.kind].partition(":")
    return getattr(import_module(module), name)(settings)
