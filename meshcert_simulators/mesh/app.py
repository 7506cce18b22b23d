"""The public service mesh simulator: 符号 issuance, single inquiries checked against the
legal-basis table and routed to the provider (real-time or copy), and art. 23 provision records.

Every call authenticates (static token or JWT access token) and the caller must be an
institution of the topology (``institutions:``). Inquiries are checked in this order, each
refusal with a fixed problem type (``urn:meshcert:problem:<slug>``):

1. the caller is an institution (``institution-not-registered``, 403) with the inquirer role
   (``not-an-inquirer``, 403);
2. the record id is new for this inquirer (``duplicate-record-id``, 409; an identical resend of
   a finished inquiry returns the first answer instead and is never processed again — unless
   the provider never answered it (``provider-timeout``, ``provider-unreachable``): then the
   resend is the inquirer's retry and is processed again);
3. the 符号 was issued to this inquirer (``code-not-issued``, 404, 符号が未取得);
4. a legal-basis rule permits (procedure, inquirer, provider, item) today, Japan time
   (``not-permitted``, 403, 照会は許可されていません; the refusal is recorded);
5. the provider answers (``provider-unreachable`` 502, ``provider-timeout`` 504,
   ``provider-bad-answer`` 502; each recorded).

A bulk inquiry (``POST /v1/bulk-inquiries``, a file of up to 10,000 rows) is a durable job: each
row goes through the same checks (one code path) and gets the same problem types as a status of
its own; a row whose record id was used before — by any inquiry of the inquirer, or earlier in
the same file — is refused (``duplicate-record-id``) and never processed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi import Path as FastAPIPath
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common import exchanges
from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.auth import ADMIN_ROLE, require
from meshcert_simulators.common.hot_routes import HotRoute
from meshcert_simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    problem_responses,
    validated_response,
)
from meshcert_simulators.common.identifiers import is_valid_juminhyo_code
from meshcert_simulators.common.peer_certs import client_certificate_of
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.tls import peer_common_name
from meshcert_simulators.common.topology import Institution, Topology
from meshcert_simulators.contracts.codes import MESH_CODE
from meshcert_simulators.mesh.bulk import DEFAULT_BULK_CONCURRENCY, BulkRunner
from meshcert_simulators.mesh.codes import CodeDeriver
from meshcert_simulators.mesh.inquiries import (
    InquiryPipeline,
    code_not_issued,
    digest,
    iso,
    now,
    problem_of,
)
from meshcert_simulators.mesh.legal_basis import load_legal_basis, with_rules
from meshcert_simulators.mesh.models import (
    BULK_MAX_ROWS,
    BulkAccepted,
    BulkInquiryRequest,
    BulkJob,
    CodeOut,
    CodeRequest,
    InquiryRequest,
    InquiryResult,
    ProvisionRecordList,
)
from meshcert_simulators.mesh.provider_call import DEFAULT_PROVIDER_TIMEOUT_S, ProviderCaller
from meshcert_simulators.mesh.store import MeshStore
from meshcert_simulators.service.mesh_entries import legal_rules, services_of

AUDIT_ROLE = "mesh:audit"
# A 10,000-row file is ~2-3 MB; the mesh raises its own body limit to at least this much.
BULK_MAX_BODY_BYTES = 4 * 1024 * 1024
BULK_PATH = "/v1/bulk-inquiries"

_json = validated_response  # every answer is checked against its documented model


def bound_to_client(scope: Any, inst: Institution) -> None:
    """An ``mtls`` institution's call must come with the client certificate the CA issued to its
    client: a token alone (stolen, replayed) does not open the mesh (RFC 8705 §2.1)."""
    der = client_certificate_of(scope)
    if der is None:
        raise Problem(401, "client-certificate-required", "Client certificate required",
                      f"institution {inst.code!r} calls over mutual TLS: present the client "
                      f"certificate issued to {inst.client!r}",
                      headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if peer_common_name(der) != inst.client:
        raise Problem(403, "client-certificate-mismatch", "Client certificate of another client",
                      f"the certificate names {peer_common_name(der)!r}, the token "
                      f"{inst.client!r}")


def caller_of(state: Any, topology: Topology, request: Request) -> tuple[Institution, bool]:
    """The calling institution (authenticated, registered, bound to its client certificate
    when it calls over mutual TLS) and whether it may read non-disclosable records."""
    who = state.authenticator.authenticate(request)
    inst = topology.institution_of_client(who.client_id)
    if inst is None:
        raise Problem(403, "institution-not-registered", "Not a registered institution",
                      f"client {who.client_id!r} is not an institution of the mesh")
    if inst.mtls:
        bound_to_client(request.scope, inst)
    return inst, who.has(AUDIT_ROLE)


def an_inquirer(inst: Institution) -> Institution:
    if "inquirer" not in inst.roles:
        raise Problem(403, "not-an-inquirer", "Not a registered inquirer",
                      f"institution {inst.code!r} is not registered as an inquirer")
    return inst


def _install_parts(app: FastAPI, settings: Settings, mesh_store: MeshStore) -> None:
    """Put the mesh's parts on ``app.state``, where routes, tests and negative controls find
    them: routes read them at the time of each request."""
    topology = settings.topology
    legal_path = settings.extra.get("legal_basis") or os.environ.get("MESHCERT_LEGAL_BASIS")
    # The table, with the rules of the topology's defined services (service/mesh_entries.py).
    app.state.legal_basis = with_rules(load_legal_basis(Path(legal_path) if legal_path else None),
                                       legal_rules(services_of(topology)))
    app.state.codes = CodeDeriver.from_config(settings.extra)
    app.state.store = mesh_store
    app.state.clock = now  # tests move "today" to check validity dates
    # The outgoing HTTP transport to providers (None: the network); tests put an
    # httpx.ASGITransport serving a provider app here.
    app.state.provider_transport = None
    app.state.provider_timeout = DEFAULT_PROVIDER_TIMEOUT_S
    app.state.bulk_concurrency = int(settings.extra.get("bulk_concurrency",
                                                        DEFAULT_BULK_CONCURRENCY))
    mesh_client = topology.client(settings.name)
    caller = ProviderCaller(app.state, topology,
                            mesh_client.token if mesh_client is not None else None)
    app.state.provider_caller = caller
    app.state.inquiries = InquiryPipeline(app.state, topology)
    app.state.bulk = BulkRunner(app.state, topology)

    inner_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(host: FastAPI) -> AsyncIterator[Any]:
        app.state.store.purge_expired(app.state.clock())
        app.state.bulk.resume()
        async with inner_lifespan(host) as state:
            try:
                yield state
            finally:
                await app.state.bulk.stop()
                await caller.close()  # its network connections (a replacement's are its own)

    app.router.lifespan_context = lifespan


def create_app(settings: Settings) -> FastAPI:
    # The mesh alone takes bulk files (up to 10,000 rows), so it alone raises its body limit.
    settings = dataclasses.replace(
        settings, max_body_bytes=max(settings.max_body_bytes, BULK_MAX_BODY_BYTES))
    mesh_store = MeshStore(Path(settings.data_dir) / f"{settings.name}.sqlite3",
                           settings.sqlite_synchronous)
    app = build_app(settings, title="meshcert public service mesh simulator",
                    description="The public service mesh (公共サービスメッシュ) as simulated by "
                                "meshcert: 符号 issuance, inquiries checked against the "
                                "legal-basis table and routed to providers, art. 23 records.",
                    on_shutdown=mesh_store.close)
    exchanges.install(app)  # what inquirers send, for the mesh-inquirer suites
    _install_parts(app, settings, mesh_store)
    _install_routes(app, settings.topology)
    return app


def _install_routes(app: FastAPI, topology: Topology) -> None:
    """The HTTP API: each route authenticates, parses and answers; the work is the parts'."""
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)

    def institution(request: Request) -> tuple[Institution, bool]:
        return caller_of(app.state, topology, request)

    @app.post("/v1/codes", response_model=CodeOut, status_code=201,
              responses={200: {"description": "Already issued", "model": CodeOut}, **errors},
              tags=["codes"], operation_id="issueCode",
              summary="Get this institution's 符号 for a person (by 住民票コード)",
              openapi_extra=body_doc(CodeRequest, bodies))
    async def issue_code(request: Request) -> Response:
        inst, _ = institution(request)
        body = await json_body(request, CodeRequest)
        if not is_valid_juminhyo_code(body.juminhyo_code):
            raise Problem(422, "invalid-juminhyo-code", "Invalid 住民票コード",
                          "the check digit of the 住民票コード does not match")
        deriver: CodeDeriver = app.state.codes
        person = deriver.person_key(body.juminhyo_code)
        code = deriver.code(inst.code, person)
        created = app.state.store.ensure_code(inst.code, code, person, iso(app.state.clock()))
        return _json(CodeOut, {"institution": inst.code, "code": code, "newly_issued": created},
                     201 if created else 200)

    @app.get("/admin/codes/{institution_code}", include_in_schema=False)
    async def preview_code(request: Request, institution_code: str,
                           juminhyo_code: Annotated[str, Query()]) -> Response:
        """The 符号 the mesh issues (or would issue) to an institution for a person, issuing
        nothing: the harness aims a fault plan at one person's inquiries with it (admin
        credential; the harness's control plane, not the contract)."""
        require(app.state.authenticator.authenticate(request), ADMIN_ROLE)
        if topology.institution(institution_code) is None:
            raise Problem(404, "unknown-institution", "Unknown institution",
                          f"no institution {institution_code!r} in the topology")
        if not is_valid_juminhyo_code(juminhyo_code):
            raise Problem(422, "invalid-juminhyo-code", "Invalid 住民票コード",
                          "the check digit of the 住民票コード does not match")
        deriver: CodeDeriver = app.state.codes
        code = deriver.code(institution_code, deriver.person_key(juminhyo_code))
        return Response(json.dumps({"institution": institution_code, "code": code}),
                        media_type="application/json")

    @app.post("/v1/inquiries", response_model=InquiryResult,
              responses={**errors, **problem_responses(502, 504)}, tags=["inquiries"],
              operation_id="inquire",
              summary="Single inquiry (synchronous): checked, converted, routed, recorded",
              description=__doc__, openapi_extra=body_doc(InquiryRequest, bodies))
    async def inquire(request: Request) -> Response:
        inst = an_inquirer(institution(request)[0])
        body = await json_body(request, InquiryRequest)
        status, content = await app.state.inquiries.answer(
            inst, body, digest(json.loads(await request.body())))
        if status == 200:
            return _json(InquiryResult, content)
        raise problem_of(status, content)

    # The mesh's most frequent request skips the middleware stack (hot_routes.py).
    app.state.hot_routes.append(HotRoute("POST", re.compile(r"/v1/inquiries"), inquire))

    @app.post(BULK_PATH, response_model=BulkAccepted, status_code=202,
              responses={**errors}, tags=["inquiries"], operation_id="submitBulkInquiry",
              summary="Bulk inquiry: a file of 1..10,000 rows, processed as a durable job",
              description="Each row is one inquiry, checked as a single one; its outcome is a "
                          "per-row status of the job (GET the status URL). A record id used "
                          "before, or earlier in the same file, is refused for that row.",
              openapi_extra=body_doc(BulkInquiryRequest, bodies))
    async def submit_bulk(request: Request) -> Response:
        inst = an_inquirer(institution(request)[0])
        body = await json_body(request, BulkInquiryRequest)
        raw_rows = json.loads(await request.body())["rows"]
        job_id, total = app.state.bulk.submit(inst, body.rows, raw_rows)
        url = f"{BULK_PATH}/{job_id}"
        return Response(BulkAccepted(job_id=job_id, state="queued", total=total,
                                     status_url=url).model_dump_json(), 202,
                        media_type="application/json", headers={"Location": url})

    @app.get(BULK_PATH + "/{job_id}", response_model=BulkJob, responses=errors,
             tags=["inquiries"], operation_id="getBulkInquiry",
             summary="Progress and per-row statuses of a bulk inquiry (its submitter only)")
    async def get_bulk(request: Request,
                       job_id: Annotated[str, FastAPIPath(pattern=r"^[0-9a-f]{32}$")],
                       after: Annotated[int, Query(ge=0, le=BULK_MAX_ROWS)] = 0,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
        inst, _ = institution(request)
        store: MeshStore = app.state.store
        job = store.job(job_id)
        if job is None or job["inquirer"] != inst.code:
            raise Problem(404, "job-not-found", "No such bulk inquiry",
                          f"no bulk inquiry {job_id!r} submitted by {inst.code!r}")
        rows = [_bulk_row(r) for r in store.rows_page(job_id, after, limit)]
        last = rows[-1]["row"] if rows else None
        more = last is not None and last < job["total"] and len(rows) == limit
        return _json(BulkJob, {**{k: v for k, v in job.items() if k != "inquirer"},
                               "rows": rows, "next_after": last if more else None})

    @app.get("/v1/provision-records", response_model=ProvisionRecordList, responses=errors,
             tags=["records"], operation_id="listProvisionRecords",
             summary="Art. 23 provision records of a person, by the caller's own 符号",
             description="Records flagged non-disclosable are left out unless the caller holds "
                         f"the role/scope `{AUDIT_ROLE}`.")
    async def list_records(request: Request,
                           code: Annotated[str, Query(pattern=MESH_CODE)]) -> Response:
        inst, audit = institution(request)
        store: MeshStore = app.state.store
        person = store.person_of(inst.code, code)
        if person is None:
            raise code_not_issued("this 符号 was not issued to the caller")
        store.purge_expired(app.state.clock())  # past retention: never shown again
        return _json(ProvisionRecordList, {"records": store.records_of(person, audit)})

    install_openapi(app, bodies)


def _bulk_row(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the API shows it: its result if answered, else its problem's fields."""
    response = stored.pop("response")
    ok = stored["state"] == "ok"
    return {**stored, "result": response if ok else None,
            "problem": None if ok or response is None else {
                k: response.get(k) for k in ("type", "title", "status", "detail", "message")}}
