"""Shared pieces of the resident-tax provider tests: the tax app wired to a real in-process
mesh (for 符号 issuance) and, when asked, a real in-process J-LIS (for copies)."""

from __future__ import annotations

from pathlib import Path

import httpx

from meshcert_simulators.common.settings import Settings
from meshcert_simulators.registry import create_app
from tests.api.mesh_support import mesh_app, mesh_topology


def tax_app(data_dir: Path, mesh=None, jlis=None):  # type: ignore[no-untyped-def]
    """The tax system; ``mesh``/``jlis`` apps are served to it in-process."""
    app = create_app(Settings(name="tax", topology=mesh_topology(), data_dir=data_dir / "tax",
                              access_log=False))
    app.state.mesh_transport = httpx.ASGITransport(app=mesh or mesh_app(data_dir / "mesh"))
    if jlis is not None:
        app.state.http_transport = httpx.ASGITransport(app=jlis)
    return app


def jlis_app(data_dir: Path):  # type: ignore[no-untyped-def]
    return create_app(Settings(name="jlis", topology=mesh_topology(), data_dir=data_dir / "jlis",
                               access_log=False))
