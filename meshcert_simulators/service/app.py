"""The generic provider of the public service mesh, built from a service definition
(fixtures/services/<name>/, meshcert_simulators/service/definition.py): a topology simulator of
kind ``service`` names its definition (``service: kokuho``, or a folder).

It keeps the tax provider's contract and rules (meshcert_simulators/tax/app.py): it knows
people only by its own 符号; ``POST /v1/provisions`` answers the mesh per item — ``01`` the
item's fields held for the 符号, ``02`` no data, ``03`` an item the definition does not list —
each answer an art. 23 record (refusals too), a record id answered once; ``GET
/v1/provision-records`` exports the records; ``POST /v1/admin/seed`` stores figures (as given,
or derived from the synthetic population by the definition's rules) and ``POST
/v1/copies/publish`` registers them as copies at J-LIS for the copy path. Roles:
``<name>:provide`` (the mesh), ``<name>:audit``, ``admin``. Faults, exchange capture and
problem+json come with the common app (meshcert_simulators/common/app.py).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from meshcert_simulators.common import exchanges
from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.storage import Database
from meshcert_simulators.contracts.provider_routes import ProviderApi, install_provider_routes
from meshcert_simulators.service.definition import Service, load_cached
from meshcert_simulators.service.models import (
    ProvisionRecordPage,
    PublishRequest,
    PublishResult,
    SeedResult,
    models_of,
)
from meshcert_simulators.service.peers import ServicePeers
from meshcert_simulators.service.provider import ServiceProvider
from meshcert_simulators.service.store import SCHEMA, ServiceStore


def service_of(settings: Settings) -> Service:
    ref = settings.extra.get("service") or settings.spec.service
    if not ref:
        raise ValueError(f"simulator {settings.name!r} of kind service names no 'service' "
                         "(a definition of fixtures/services/, or a folder)")
    return load_cached(str(ref))


def create_app(settings: Settings) -> FastAPI:
    service = service_of(settings)
    d = service.definition
    db = Database(Path(settings.data_dir) / f"{settings.name}.sqlite3", SCHEMA,
                  settings.sqlite_synchronous)
    items = ", ".join(f"{i.code} {i.title.ja}" for i in d.items)
    app = build_app(settings, title=f"meshcert service {d.name}: {d.title.ja} ({d.title.en})",
                    description=f"{d.title.ja} ({d.title.en}) as a provider of the public "
                                f"service mesh on the {d.route} route, built from its "
                                f"definition: items {items}. " + (__doc__ or ""),
                    on_shutdown=db.close)
    # Looked up on every request, as the tax provider's (tests and defects replace them).
    app.state.service = service
    app.state.store = ServiceStore(db, service)
    app.state.mesh_transport = None
    app.state.http_transport = None
    app.state.provider = ServiceProvider(app.state)
    app.state.peers = ServicePeers(app.state, settings)
    install_provider_routes(app, provider_api(service))
    exchanges.install(app)  # what the mesh asked and got, for tests and the harness
    return app


def provider_api(service: Service) -> ProviderApi:
    """The provider API (the tax reference's) with this service's roles and item models."""
    d = service.definition
    models = models_of(service)
    return ProviderApi(
        provide_role=d.provide_role, audit_role=d.audit_role, response=models.response,
        seed=models.seed, seed_result=SeedResult, publish=PublishRequest,
        publish_result=PublishResult, records=ProvisionRecordPage,
        seed_summary="Store figures per person: rows by 符号 or 住民票コード (exchanged for "
                     "this system's 符号 at the mesh), or a synthetic population whose data "
                     "the definition's rules derive (admin)",
        publish_summary="Register the figures held as copies (副本) at the J-LIS intermediate "
                        "server, one per person and item (admin)")
