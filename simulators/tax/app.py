"""The reference individual-resident-tax system (個人住民税) of one municipality: a provider of
the public service mesh that answers the mesh's real-time inquiries from its own data and
registers copies (副本) at the J-LIS intermediate server for the copy path.

It knows people only by its own 符号 (``POST {mesh}/v1/codes`` with its institution client's
token); neither the My Number nor the 住民票コード is stored or answered.

Roles: ``tax:provide`` (the mesh, ``POST /v1/provisions``), ``tax:audit`` (export of the art. 23
provision records), ``admin`` (seeding figures, publishing copies). Item statuses: see
:mod:`simulators.tax.models`.

A record id is answered once: an identical resend (the mesh retrying an inquiry whose answer it
lost) gets the first answer again and writes no second record; another inquiry under a used
record id is refused (``duplicate-record-id``, 409). Refusals are art. 23 records too (outcome
``refused``): a well-formed inquiry by a client without ``tax:provide`` (403), and another
inquiry under a used record id (409).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, Query
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from simulators.common.app import build_app
from simulators.common.auth import ADMIN_ROLE, Caller, require
from simulators.common.hot_routes import HotRoute
from simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    only_query_parameters,
    problem_responses,
    records_page,
    validated_response,
)
from simulators.common.identifiers import find_my_numbers
from simulators.common.problems import Problem
from simulators.common.settings import Settings
from simulators.common.storage import Database
from simulators.tax.models import (
    ITEM_NO_DATA,
    ITEM_NOT_PROVIDED,
    ITEM_PROVIDED,
    LINE_PROCESSED,
    MSG_NO_DATA,
    MSG_NOT_PROVIDED,
    PROVIDED_ITEMS,
    TAX_ITEM,
    ProvisionRecordPage,
    ProvisionRequest,
    PublishRequest,
    PublishResult,
    SeedCodeRow,
    SeedRequest,
    SeedResult,
    TaxPayload,
    TaxProvisionResponse,
)
from simulators.tax.store import SCHEMA, TaxStore, synthetic_figures

PROVIDE_ROLE = "tax:provide"
AUDIT_ROLE = "tax:audit"
CALL_TIMEOUT_S = 10.0


def _json(model: type[BaseModel], content: dict[str, Any], status: int = 200) -> Response:
    """The validated answer — never with a value that passes the My Number check
    (invariant 1)."""
    response = validated_response(model, content, status)
    if find_my_numbers(bytes(response.body).decode("utf-8")):
        raise Problem(500, "my-number-in-answer", "Answer withheld",
                      "the answer contained a My-Number-shaped value and was not sent")
    return response



def _peer(settings: Settings, kind: str) -> str | None:
    """The URL of the topology's simulator of ``kind`` (``extra['<kind>_url']`` wins)."""
    if settings.extra.get(f"{kind}_url"):
        return settings.extra[f"{kind}_url"].rstrip("/")
    topology = settings.topology
    name = next((n for n, s in topology.simulators.items() if s.kind == kind), None)
    return topology.url(name) if name else None


def _own_client(settings: Settings) -> tuple[str, str] | None:
    """This system's mesh client (id, token): the institution served by this simulator."""
    topology = settings.topology
    inst = next((i for i in topology.institutions if i.simulator == settings.name), None)
    client_id = settings.extra.get("client") or (inst.client if inst else None)
    client = topology.client(client_id) if client_id else None
    return (client.id, client.token) if client and client.token else None


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
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)

    def store() -> TaxStore:
        return app.state.store

    def caller(request: Request, role: str) -> Caller:
        who = app.state.authenticator.authenticate(request)
        require(who, role)
        return who

    def own_client() -> tuple[str, str]:
        found = _own_client(settings)
        if found is None:
            raise Problem(503, "no-mesh-client", "This system has no mesh client",
                          "no institution of the topology is served by this simulator")
        return found

    def peer(kind: str) -> str:
        url = _peer(settings, kind)
        if url is None:
            raise Problem(503, f"no-{kind}", f"No {kind} simulator is configured",
                          f"the topology has no simulator of kind {kind!r}")
        return url

    async def call(transport: httpx.AsyncBaseTransport | None, method: str, url: str,
                   token: str, body: dict[str, Any], what: str) -> httpx.Response:
        try:
            async with httpx.AsyncClient(transport=transport, timeout=CALL_TIMEOUT_S) as client:
                return await client.request(method, url, json=body,
                                            headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise Problem(502, f"{what}-unreachable", f"The {what} cannot be reached",
                          f"{url}: {type(exc).__name__}") from None

    async def issued_code(juminhyo_code: str) -> str:
        """This system's 符号 for a person, from the mesh (the 住民票コード is not kept)."""
        _, token = own_client()
        answer = await call(app.state.mesh_transport, "POST", peer("mesh") + "/v1/codes",
                            token, {"juminhyo_code": juminhyo_code}, "mesh")
        if answer.status_code == 422:
            raise Problem(422, "invalid-juminhyo-code", "Invalid 住民票コード",
                          "the mesh refused a 住民票コード of the rows")
        if answer.status_code not in (200, 201):
            raise Problem(502, "mesh-bad-answer", "The mesh refused to issue a code",
                          f"the mesh answered HTTP {answer.status_code}")
        return str(answer.json()["code"])

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
        earlier = store().answer_of(body.record_id)
        if earlier is not None:  # answered before: never processed twice
            return replayed_or_refused(body, who, digest, earlier)
        requested = store().clock()
        version: int | None = None
        payload: dict[str, Any] | None = None
        if body.item_code not in PROVIDED_ITEMS:
            outcome, status, message = "not-provided", ITEM_NOT_PROVIDED, MSG_NOT_PROVIDED
        else:
            found = store().figures(body.code)
            if found is None:
                outcome, status, message = "no-data", ITEM_NO_DATA, MSG_NO_DATA
            else:
                figures, version = found
                payload = TaxPayload(**figures, total_levy=figures["income_levy"]
                                     + figures["per_capita_levy"],
                                     data_version=version).model_dump()
                outcome, status, message = "provided", ITEM_PROVIDED, None
        answer = {"status": LINE_PROCESSED, "message": None, "items": [
            {"item_code": body.item_code, "status": status, "message": message,
             "payload": payload}]}
        # The record commits with those of the other answers of this loop turn (one commit
        # for them all); the answer goes out only once it is durable.
        kept = await store().db.durably(lambda: store().record(
            record_id=body.record_id, inquirer_client=who.client_id,
            procedure_code=body.procedure_code, item_code=body.item_code, requested_at=requested,
            outcome=outcome, item_status=status, data_version=version, request_sha256=digest,
            response=answer))
        if not kept:
            # A concurrent twin won the record id: answer as it did.
            again = store().answer_of(body.record_id)
            assert again is not None
            return replayed_or_refused(body, who, digest, again)
        return _json(TaxProvisionResponse, answer)

    # Every inquiry the mesh routes here is one of these: a hot route (hot_routes.py).
    app.state.hot_routes.append(HotRoute("POST", re.compile(r"/v1/provisions"), post_provision))

    def record_refusal(body: ProvisionRequest, who: Caller) -> None:
        store().record(record_id=body.record_id, inquirer_client=who.client_id,
                       procedure_code=body.procedure_code, item_code=body.item_code,
                       requested_at=store().clock(), outcome="refused", item_status=None,
                       data_version=None)

    async def record_refused_caller(request: Request, who: Caller) -> None:
        """Refuse (403) a client that may not ask, after recording its inquiry when the body
        is one (a malformed body names no exchange to record)."""
        try:
            body = await json_body(request, ProvisionRequest)
        except Problem:
            body = None
        if body is not None:
            record_refusal(body, who)
        require(who, PROVIDE_ROLE)

    def replayed_or_refused(body: ProvisionRequest, who: Caller, digest: str,
                            earlier: tuple[str, dict[str, Any]]) -> Response:
        """An identical resend (the mesh retrying after losing the answer) gets the first
        answer, with no second record; another inquiry under the same record id is refused,
        and that refusal recorded."""
        if earlier[0] != digest:
            record_refusal(body, who)
            raise Problem(409, "duplicate-record-id", "Duplicate record id",
                          f"record id {body.record_id!r} was already used for another inquiry; "
                          "it is never processed twice", record_id=body.record_id)
        return _json(TaxProvisionResponse, earlier[1])

    @app.get("/v1/provision-records", response_model=ProvisionRecordPage, responses=errors,
             tags=["provisions"], operation_id="exportProvisionRecords",
             summary=f"Export this system's art. 23 provision records ({AUDIT_ROLE})")
    async def get_records(request: Request,
                          after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
        caller(request, AUDIT_ROLE)
        only_query_parameters(request, "after", "limit")
        records, has_more = store().records(after, limit)
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
        rows: list[tuple[str, dict[str, int]]] = []
        for row in body.rows:
            if isinstance(row, SeedCodeRow):
                code, key = row.code, row.code  # issued by the mesh already
            else:
                code, key = await issued_code(row.juminhyo_code), row.juminhyo_code
            figures = (row.figures.model_dump() if row.figures is not None
                       else synthetic_figures(body.seed, key))
            rows.append((code, figures))
        version = store().store(rows)
        return _json(SeedResult, {"seeded": len(rows), "data_version": version,
                                  "codes": [code for code, _ in rows]})

    @app.post("/v1/copies/publish", response_model=PublishResult,
              responses={**errors, **problem_responses(502, 503)}, tags=["admin"],
              operation_id="publishCopies",
              summary="Register the current figures as copies (副本) at the J-LIS intermediate "
                      f"server (item {TAX_ITEM}, version = data version; admin)",
              openapi_extra=body_doc(PublishRequest, bodies))
    async def post_publish(request: Request) -> Response:
        caller(request, ADMIN_ROLE)
        body = await json_body(request, PublishRequest)
        client_id, token = own_client()
        base = peer("jlis")
        start = store().clock() + timedelta(seconds=body.delay_s)
        end = None if body.duration_s is None else start + timedelta(seconds=body.duration_s)
        window = {"publication_start": start.astimezone(UTC).isoformat(),
                  "publication_end": end.astimezone(UTC).isoformat() if end else None}
        registered = unchanged = 0
        for code, figures, version in store().all_figures():
            payload = {**figures, "total_levy": figures["income_levy"]
                       + figures["per_capita_levy"], "data_version": version}
            answer = await call(app.state.http_transport, "PUT",
                                f"{base}/v1/copies/{client_id}/{code}/{TAX_ITEM}", token,
                                {"data_set_key": f"resident-tax-{figures['tax_year']}",
                                 "version": version, **window, "payload": payload}, "jlis")
            if answer.status_code in (200, 201):
                registered += 1
            elif answer.status_code == 409:
                unchanged += 1  # that version is already registered
            else:
                raise Problem(502, "jlis-bad-answer", "J-LIS refused a copy",
                              f"J-LIS answered HTTP {answer.status_code} after {registered} "
                              "copies")
        return _json(PublishResult, {"jlis": base, "data_version": store().data_version(),
                                     **window, "registered": registered,
                                     "unchanged": unchanged})

    install_openapi(app, bodies)
    return app
