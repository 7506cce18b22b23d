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

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.auth import ADMIN_ROLE, Caller, require
from meshcert_simulators.common.hot_routes import HotRoute
from meshcert_simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    only_query_parameters,
    problem_responses,
    records_page,
    validated_response,
)
from meshcert_simulators.common.identifiers import find_my_numbers
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.storage import Database
from meshcert_simulators.tax.models import (
    TAX_ITEM,
    ProvisionRecordPage,
    ProvisionRequest,
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


def _json(model: type[BaseModel], content: dict[str, Any], status: int = 200) -> Response:
    """The validated answer — never with a value that passes the My Number check
    (invariant 1)."""
    response = validated_response(model, content, status)
    if find_my_numbers(bytes(response.body).decode("utf-8")):
        raise Problem(500, "my-number-in-answer", "Answer withheld",
                      "the answer contained a My-Number-shaped value and was not sent")
    return response


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
    _install_routes(app)
    return app


def _install_routes(app: FastAPI) -> None:
    """The HTTP API: each route authenticates, parses and answers; the work is the parts'."""
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)

    def caller(request: Request, role: str) -> Caller:
        who = app.state.authenticator.authenticate(request)
        require(who, role)
        return who

    @app.post("/v1/provisions", response_model=TaxProvisionResponse, responses=errors,
              tags=["provisions"], operation_id="provide",
              summary="Answer the mesh's real-time inquiry by this system's 符号 (line 09; item "
                      "01 provided, 02 no data, 03 item not provided)",
              description=__doc__, openapi_extra=body_doc(ProvisionRequest, bodies))
    async def post_provision(request: Request) -> Response:
        who = app.state.authenticator.authenticate(request)
        if not who.has(PROVIDE_ROLE):
            await record_refused_caller(request, who)
        body = await json_body(request, ProvisionRequest)
        digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        return _json(TaxProvisionResponse, await app.state.provider.provide(body, who, digest))

    # Every inquiry the mesh routes here is one of these: a hot route (hot_routes.py).
    app.state.hot_routes.append(HotRoute("POST", re.compile(r"/v1/provisions"), post_provision))

    async def record_refused_caller(request: Request, who: Caller) -> None:
        """Refuse (403) a client that may not ask, after recording its inquiry when the body
        is one (a malformed body names no exchange to record)."""
        try:
            body = await json_body(request, ProvisionRequest)
        except Problem:
            body = None
        if body is not None:
            app.state.provider.record_refusal(body, who)
        require(who, PROVIDE_ROLE)

    @app.get("/v1/provision-records", response_model=ProvisionRecordPage, responses=errors,
             tags=["provisions"], operation_id="exportProvisionRecords",
             summary=f"Export this system's art. 23 provision records ({AUDIT_ROLE})")
    async def get_records(request: Request,
                          after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
        caller(request, AUDIT_ROLE)
        only_query_parameters(request, "after", "limit")
        records, has_more = app.state.store.records(after, limit)
        # Not withheld like an answer to the mesh: the export stays inside the institution, and
        # a record id is the mesh's opaque id — twelve digits of it may pass the check digit.
        return validated_response(ProvisionRecordPage, records_page(records, after, has_more))

    @app.post("/v1/admin/seed", response_model=SeedResult,
              responses={**errors, **problem_responses(502, 503)}, tags=["admin"],
              operation_id="seedFigures",
              summary="Store figures per person: by 符号 as the mesh issued it, or by "
                      "住民票コード exchanged for this system's 符号 at the mesh (only the "
                      "符号 is kept; admin)",
              openapi_extra=body_doc(SeedRequest, bodies))
    async def post_seed(request: Request) -> Response:
        caller(request, ADMIN_ROLE)
        body = await json_body(request, SeedRequest)
        return _json(SeedResult, await app.state.peers.seed(body))

    @app.post("/v1/copies/publish", response_model=PublishResult,
              responses={**errors, **problem_responses(502, 503)}, tags=["admin"],
              operation_id="publishCopies",
              summary="Register the current figures as copies (副本) at the J-LIS intermediate "
                      f"server (item {TAX_ITEM}, version = data version; admin)",
              openapi_extra=body_doc(PublishRequest, bodies))
    async def post_publish(request: Request) -> Response:
        caller(request, ADMIN_ROLE)
        body = await json_body(request, PublishRequest)
        return _json(PublishResult, await app.state.peers.publish(body))

    install_openapi(app, bodies)
