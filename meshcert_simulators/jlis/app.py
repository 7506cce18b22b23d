"""The J-LIS intermediate-server simulator (中間サーバー): provider institutions register copies
(副本); it answers the inquiries the mesh routes to the copy path on their behalf, keeps its own
art. 23 provision records, and pulls the resident registry in batches (not real-time).

Roles: ``jlis:register`` (a provider registering, and reading back, its own copies: the path's
institution must be the caller's client id; admin may do so for anyone), ``jlis:provide`` (the
mesh), ``jlis:audit`` (export of provision records), ``admin`` (sync).

The behaviour lives in parts on ``app.state``, read at the time of each request: ``store``
(copies and provision records), ``access`` (who may do what) and ``syncer`` (the batch sync).
Routes only translate HTTP.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi import Path as PathParam
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common import faults
from meshcert_simulators.common.app import build_stored_app
from meshcert_simulators.common.auth import ADMIN_ROLE
from meshcert_simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    only_query_parameters,
    problem_responses,
    records_page,
    validated_response,
)
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.storage import Database
from meshcert_simulators.jlis.access import AUDIT_ROLE, PROVIDE_ROLE, JlisAccess
from meshcert_simulators.jlis.models import (
    INSTITUTION_PATTERN,
    ITEM_CODE,
    MESH_CODE,
    CopyList,
    CopyOut,
    CopyRegistration,
    ProvisionRecordPage,
    ProvisionRequest,
    ProvisionResponse,
    SyncResult,
)
from meshcert_simulators.jlis.store import SCHEMA, JlisStore
from meshcert_simulators.jlis.sync import SyncConfig, Syncer

Institution = Annotated[str, PathParam(pattern=INSTITUTION_PATTERN,
                                       description="The provider institution (its client id)")]
Symbol = Annotated[str, PathParam(pattern=MESH_CODE,
                                  description="符号: the provider's code for the person")]
ItemCode = Annotated[str, PathParam(pattern=ITEM_CODE,
                                    description="特定個人情報名コード, e.g. TM00000000000002")]

_json = validated_response  # every answer is checked against its documented model
Errors = dict[int | str, dict[str, Any]]


def create_app(settings: Settings) -> FastAPI:
    sync_config = SyncConfig.for_settings(settings)  # a configuration error: before any file
    # Its exchanges captured: the copies providers register, for the information-provider
    # suites.
    app, db = build_stored_app(
        settings, SCHEMA, title="meshcert J-LIS intermediate-server simulator",
        description="Copy (副本) registration, answers on behalf of providers from copies inside "
                    "their publication window, art. 23 provision records, and batch sync from "
                    "the resident registry.")
    _install_parts(app, settings, db, sync_config)
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)
    _install_copies(app, bodies, errors)
    _install_provisions(app, bodies, errors)
    _install_sync(app)
    install_openapi(app, bodies)
    return app


def _install_parts(app: FastAPI, settings: Settings, db: Database,
                   sync_config: SyncConfig) -> None:
    """Put the server's parts on ``app.state``; each reads the others from there at the time of
    use, so any one can be replaced on its own."""
    # Tests set ``store.clock``. The clock is the fault-aware one: a clock-skew plan moves "now"
    # of the publication windows for the requests it hits (how a suite sees a window open
    # without waiting for it).
    app.state.store = JlisStore(db, clock=faults.now)
    app.state.sync_config = sync_config
    # None: the network; tests serve the resident registry in-process here.
    app.state.http_transport = None
    app.state.access = JlisAccess(app.state)
    app.state.syncer = Syncer(app.state, settings)


def _install_copies(app: FastAPI, bodies: list[type[BaseModel]], errors: Errors) -> None:
    """Copies (副本), registered and read back by their provider."""
    state = app.state

    @app.put("/v1/copies/{institution}/{code}/{item_code}", response_model=CopyOut,
             status_code=201, responses=errors, tags=["copies"], operation_id="registerCopy",
             summary="Register a copy (副本); a newer version replaces the older from its "
                     "publication start",
             openapi_extra=body_doc(CopyRegistration, bodies))
    async def put_copy(request: Request, institution: Institution, code: Symbol,
                       item_code: ItemCode) -> Response:
        who = state.access.own_institution(request, institution)
        body = await json_body(request, CopyRegistration)
        return _json(CopyOut, state.store.register(institution, code, item_code, body,
                                                   who.client_id), 201)

    @app.get("/v1/copies/{institution}/{code}/{item_code}/versions", response_model=CopyList,
             responses=errors, tags=["copies"], operation_id="listCopies",
             summary="The versions registered for a copy key with their publication windows "
                     "(its provider or admin; none registered: an empty list)")
    async def get_copies(request: Request, institution: Institution, code: Symbol,
                         item_code: ItemCode) -> Response:
        state.access.own_institution(request, institution)
        only_query_parameters(request)
        return _json(CopyList, {"copies": state.store.copies(institution, code, item_code)})


def _install_provisions(app: FastAPI, bodies: list[type[BaseModel]], errors: Errors) -> None:
    """Answers on the copy path, and the art. 23 records of them."""
    state = app.state

    @app.post("/v1/provisions", response_model=ProvisionResponse, responses=errors,
              tags=["provisions"], operation_id="provide",
              summary="Answer an inquiry routed to the copy path (line 09; item 01 ok, 02 no "
                      "data)",
              openapi_extra=body_doc(ProvisionRequest, bodies))
    async def post_provision(request: Request) -> Response:
        who = state.access.caller(request, PROVIDE_ROLE)
        body = await json_body(request, ProvisionRequest)
        return _json(ProvisionResponse, state.store.provide(body, who.client_id))

    @app.get("/v1/provision-records", response_model=ProvisionRecordPage, responses=errors,
             tags=["provisions"], operation_id="exportProvisionRecords",
             summary="Export this server's art. 23 provision records")
    async def get_records(request: Request,
                          after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
        state.access.caller(request, AUDIT_ROLE)
        only_query_parameters(request, "after", "limit")
        records, has_more = state.store.records(after, limit)
        return _json(ProvisionRecordPage, records_page(records, after, has_more))


def _install_sync(app: FastAPI) -> None:
    state = app.state

    @app.post("/v1/sync", response_model=SyncResult,
              responses=problem_responses(401, 403, 502, 503), tags=["sync"],
              operation_id="syncFromResidentRegistry",
              summary="Pull the resident registry's difference feed; copies are published "
                      "after the configured delay (admin)")
    async def post_sync(request: Request) -> Response:
        state.access.caller(request, ADMIN_ROLE)
        return _json(SyncResult, await state.syncer.run())
