"""The reference individual-resident-tax system (個人住民税) of one municipality: a provider of
the public service mesh that answers the mesh's real-time inquiries from its own data and
registers copies (副本) at the J-LIS intermediate server for the copy path.

It knows people only by its own 符号 (``POST {mesh}/v1/codes`` with its institution client's
token); neither the My Number nor the 住民票コード is stored or answered.

Roles: ``tax:provide`` (the mesh, ``POST /v1/provisions``), ``tax:audit`` (export of the art. 23
provision records), ``admin`` (seeding figures, publishing copies). Item statuses: see
:mod:`meshcert_simulators.tax.models`.

A record id is answered once: an identical resend (the mesh retrying an inquiry whose answer it
lost) gets the first answer again and writes no second record; another inquiry under a used
record id is refused (``duplicate-record-id``, 409). Refusals are art. 23 records too (outcome
``refused``): a well-formed inquiry by a client without ``tax:provide`` (403), and another
inquiry under a used record id (409).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.storage import Database
from meshcert_simulators.contracts.provider_routes import ProviderApi, install_provider_routes
from meshcert_simulators.tax.models import (
    TAX_ITEM,
    ProvisionRecordPage,
    PublishRequest,
    PublishResult,
    SeedRequest,
    SeedResult,
    TaxProvisionResponse,
)
from meshcert_simulators.tax.peers import TaxPeers
from meshcert_simulators.tax.provider import TaxProvider
from meshcert_simulators.tax.store import SCHEMA, TaxStore

PROVIDE_ROLE = "tax:provide"
AUDIT_ROLE = "tax:audit"
API = ProviderApi(
    provide_role=PROVIDE_ROLE, audit_role=AUDIT_ROLE, response=TaxProvisionResponse,
    seed=SeedRequest, seed_result=SeedResult, publish=PublishRequest,
    publish_result=PublishResult, records=ProvisionRecordPage,
    seed_summary="Store figures per person: by 符号 as the mesh issued it, or by 住民票コード "
                 "exchanged for this system's 符号 at the mesh (only the 符号 is kept; admin)",
    publish_summary="Register the current figures as copies (副本) at the J-LIS intermediate "
                    f"server (item {TAX_ITEM}, version = data version; admin)",
    provide_description=__doc__)


def create_app(settings: Settings) -> FastAPI:
    db = Database(Path(settings.data_dir) / f"{settings.name}.sqlite3", SCHEMA,
                  settings.sqlite_synchronous)
    app = build_app(settings, title="meshcert reference individual-resident-tax system",
                    description="A municipality's individual-resident-tax system (個人住民税) "
                                "as a provider of the public service mesh: real-time answers "
                                "by 符号, art. 23 provision records, copies for J-LIS.",
                    on_shutdown=db.close)
    # Looked up on every request: tests set ``store.clock``, and serve the mesh
    # (``mesh_transport``) and J-LIS (``http_transport``) in-process; None: the network.
    app.state.store = TaxStore(db)
    app.state.mesh_transport = None
    app.state.http_transport = None
    app.state.provider = TaxProvider(app.state)
    app.state.peers = TaxPeers(app.state, settings)
    install_provider_routes(app, API)
    return app
