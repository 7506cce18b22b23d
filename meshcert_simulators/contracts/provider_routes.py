"""The HTTP API of a provider of the mesh, one for every provider the harness runs (the
individual-resident-tax reference, meshcert_simulators/tax/, and each defined service,
meshcert_simulators/service/): the answer to a real-time inquiry, the art. 23 export, seeding
and publishing copies. Each route authenticates, parses and answers; the work is the parts' on
``app.state`` (``provider``, ``store``, ``peers``), which tests and defects replace.

A record id is answered once; refusals are art. 23 records too: a well-formed inquiry by a
client without the provide role is recorded before it is refused (403).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import FastAPI, Query
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

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
from meshcert_simulators.contracts.provider import ProvisionRequest


@dataclass(frozen=True)
class ProviderApi:
    """What differs between providers: roles, the wire models of their items, the texts."""

    provide_role: str
    audit_role: str
    response: type[BaseModel]          # the answer to an inquiry, with the items' payloads
    seed: type[BaseModel]
    seed_result: type[BaseModel]
    publish: type[BaseModel]
    publish_result: type[BaseModel]
    records: type[BaseModel]           # a page of the art. 23 export
    seed_summary: str
    publish_summary: str
    provide_description: str | None = None


def answer(model: type[BaseModel], content: dict[str, Any], status: int = 200) -> Response:
    """The validated answer — never with a value that passes the My Number check
    (invariant 1)."""
    response = validated_response(model, content, status)
    if find_my_numbers(bytes(response.body).decode("utf-8")):
        raise Problem(500, "my-number-in-answer", "Answer withheld",
                      "the answer contained a My-Number-shaped value and was not sent")
    return response


def install_provider_routes(app: FastAPI, api: ProviderApi) -> None:
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)

    def caller(request: Request, role: str) -> Caller:
        who = app.state.authenticator.authenticate(request)
        require(who, role)
        return who

    @app.post("/v1/provisions", response_model=api.response, responses=errors,
              tags=["provisions"], operation_id="provide",
              summary="Answer the mesh's real-time inquiry by this system's 符号 (line 09; item "
                      "01 provided, 02 no data, 03 item not provided)",
              description=api.provide_description,
              openapi_extra=body_doc(ProvisionRequest, bodies))
    async def post_provision(request: Request) -> Response:
        who = app.state.authenticator.authenticate(request)
        if not who.has(api.provide_role):
            await record_refused_caller(request, who)
        body = await json_body(request, ProvisionRequest)
        digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        return answer(api.response, await app.state.provider.provide(body, who, digest))

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
        require(who, api.provide_role)

    @app.get("/v1/provision-records", response_model=api.records, responses=errors,
             tags=["provisions"], operation_id="exportProvisionRecords",
             summary=f"Export this system's art. 23 provision records ({api.audit_role})")
    async def get_records(request: Request,
                          after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
        caller(request, api.audit_role)
        only_query_parameters(request, "after", "limit")
        records, has_more = app.state.store.records(after, limit)
        # Not withheld like an answer to the mesh: the export stays inside the institution, and
        # a record id is the mesh's opaque id — twelve digits of it may pass the check digit.
        return validated_response(api.records, records_page(records, after, has_more))

    @app.post("/v1/admin/seed", response_model=api.seed_result,
              responses={**errors, **problem_responses(502, 503)}, tags=["admin"],
              operation_id="seedFigures", summary=api.seed_summary,
              openapi_extra=body_doc(api.seed, bodies))
    async def post_seed(request: Request) -> Response:
        caller(request, ADMIN_ROLE)
        body = await json_body(request, api.seed)
        return answer(api.seed_result, await app.state.peers.seed(body))

    @app.post("/v1/copies/publish", response_model=api.publish_result,
              responses={**errors, **problem_responses(502, 503)}, tags=["admin"],
              operation_id="publishCopies", summary=api.publish_summary,
              openapi_extra=body_doc(api.publish, bodies))
    async def post_publish(request: Request) -> Response:
        caller(request, ADMIN_ROLE)
        body = await json_body(request, api.publish)
        return answer(api.publish_result, await app.state.peers.publish(body))

    install_openapi(app, bodies)
