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

import asyncio
import dataclasses
import hashlib
import json
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, Query
from fastapi import Path as FastAPIPath
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from simulators.common import exchanges, faults
from simulators.common.app import build_app
from simulators.common.hot_routes import HotRoute
from simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    problem_responses,
    validated_response,
)
from simulators.common.http1_transport import Http1Transport, post
from simulators.common.identifiers import find_my_numbers, is_valid_juminhyo_code
from simulators.common.peer_certs import client_certificate_of
from simulators.common.problems import Problem
from simulators.common.settings import Settings
from simulators.common.tls import peer_common_name
from simulators.common.topology import Institution
from simulators.mesh.codes import CodeDeriver
from simulators.mesh.legal_basis import (
    INSTITUTION_CODE,
    ITEM_CODE,
    PROCEDURE_CODE,
    load_legal_basis,
)
from simulators.mesh.provider_api import (
    LINE_OK,
    MESH_CODE,
    PROVISIONS_PATH,
    RECORD_ID,
    ProvisionRequest,
    ProvisionResponse,
)
from simulators.mesh.store import MeshStore

AUDIT_ROLE = "mesh:audit"
JST = timezone(timedelta(hours=9))
DEFAULT_PROVIDER_TIMEOUT_S = 5.0
BULK_MAX_ROWS = 10_000  # docs/domain.md §7: a bulk query file has at most 10,000 rows
# A 10,000-row file is ~2-3 MB; the mesh raises its own body limit to at least this much.
BULK_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_BULK_CONCURRENCY = 16  # rows in flight towards providers, across all jobs
BULK_PATH = "/v1/bulk-inquiries"

# The fixed messages of docs/domain.md §5 F2.
MSG_CODE_NOT_ISSUED = "符号が未取得"
MSG_NOT_PERMITTED = "照会は許可されていません"

_json = validated_response  # every answer is checked against its documented model


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CodeRequest(_Model):
    juminhyo_code: Annotated[str, Field(pattern=r"^[0-9]{11}$", description="住民票コード")]


class CodeOut(_Model):
    institution: str
    code: Annotated[str, Field(description="this institution's 符号 of the person")]
    newly_issued: bool


class InquiryRequest(_Model):
    record_id: Annotated[str, Field(pattern=RECORD_ID,
                                    description="レコード識別番号, unique per inquirer")]
    procedure_code: Annotated[str, Field(pattern=PROCEDURE_CODE, description="事務手続コード")]
    item_code: Annotated[str, Field(pattern=ITEM_CODE, description="特定個人情報名コード")]
    provider: Annotated[str, Field(pattern=INSTITUTION_CODE)]
    code: Annotated[str, Field(pattern=MESH_CODE, description="the inquirer's own 符号")]
    non_disclosure: bool = False


class BulkInquiryRequest(_Model):
    rows: Annotated[list[InquiryRequest], Field(min_length=1, max_length=BULK_MAX_ROWS,
                                                description="one inquiry per row")]


class BulkAccepted(_Model):
    job_id: str
    state: str
    total: int
    status_url: str


class InquiryItem(_Model):
    item_code: str
    status: str
    message: str | None = None
    payload: dict[str, Any] | None = None


class InquiryResult(_Model):
    record_id: str
    status: str
    message: str | None = None
    provider: str
    procedure_code: str
    route: str
    requested_at: str
    provided_at: str
    items: list[InquiryItem]


class RowProblem(_Model):
    type: str
    title: str
    status: int
    detail: str | None = None
    message: str | None = None


class BulkRow(_Model):
    row: Annotated[int, Field(description="1-based position in the file")]
    record_id: str
    state: Annotated[str, Field(description="pending | ok | failed")]
    status: int | None = None
    problem: RowProblem | None = None
    result: InquiryResult | None = None


class BulkJob(_Model):
    job_id: str
    state: Annotated[str, Field(description="queued | running | done")]
    submitted_at: str
    finished_at: str | None
    total: int
    done: Annotated[int, Field(description="rows answered")]
    failed: Annotated[int, Field(description="rows refused or failed")]
    pending: int
    rows: list[BulkRow]
    next_after: Annotated[int | None, Field(description="pass as `after` for the next page")]


class ProvisionRecord(_Model):
    seq: int
    record_id: str
    inquirer: str
    provider: str
    procedure_code: str
    item_codes: list[str]
    requested_at: str
    provided_at: str | None
    outcome: str
    non_disclosure: bool


class ProvisionRecordList(_Model):
    records: list[ProvisionRecord]




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


def _now() -> datetime:
    # Shifted by a clock-skew fault plan on the request: the harness can put the mesh's
    # "today" outside a legal basis, so that it refuses an inquiry as not permitted.
    return faults.now()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _problem_of(status: int, content: dict[str, Any]) -> Problem:
    """The problem a stored refusal (a problem+json body) stands for."""
    return Problem(status, content["type"].rsplit(":", 1)[1], content["title"],
                   content.get("detail"), **{k: v for k, v in content.items() if k not in
                                              ("type", "title", "status", "detail",
                                               "instance", "request_id")})


def _digest(row: Any) -> str:
    return hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()


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
    topology = settings.topology
    legal_path = settings.extra.get("legal_basis") or os.environ.get("MESHCERT_LEGAL_BASIS")
    app.state.legal_basis = load_legal_basis(Path(legal_path) if legal_path else None)
    app.state.codes = CodeDeriver.from_config(settings.extra)
    app.state.store = mesh_store
    app.state.clock = _now  # tests move "today" to check validity dates
    # The outgoing HTTP transport to providers (None: the network); tests put an
    # httpx.ASGITransport serving a provider app here.
    app.state.provider_transport = None
    app.state.provider_timeout = DEFAULT_PROVIDER_TIMEOUT_S
    app.state.bulk_concurrency = int(settings.extra.get("bulk_concurrency",
                                                        DEFAULT_BULK_CONCURRENCY))
    mesh_client = topology.client(settings.name)
    provider_token = mesh_client.token if mesh_client is not None else None
    provider_headers = [(b"Content-Type", b"application/json")]
    if provider_token:
        provider_headers.append((b"Authorization", f"Bearer {provider_token}".encode()))
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)

    def store() -> MeshStore:
        return app.state.store

    def institution(request: Request) -> tuple[Institution, bool]:
        who = app.state.authenticator.authenticate(request)
        inst = topology.institution_of_client(who.client_id)
        if inst is None:
            raise Problem(403, "institution-not-registered", "Not a registered institution",
                          f"client {who.client_id!r} is not an institution of the mesh")
        if inst.mtls:
            bound_to_client(request.scope, inst)
        return inst, who.has(AUDIT_ROLE)

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
        created = store().ensure_code(inst.code, code, person, _iso(app.state.clock()))
        return _json(CodeOut, {"institution": inst.code, "code": code, "newly_issued": created},
                     201 if created else 200)

    @app.post("/v1/inquiries", response_model=InquiryResult,
              responses={**errors, **problem_responses(502, 504)}, tags=["inquiries"],
              operation_id="inquire",
              summary="Single inquiry (synchronous): checked, converted, routed, recorded",
              description=__doc__, openapi_extra=body_doc(InquiryRequest, bodies))
    async def inquire(request: Request) -> Response:
        inst, _ = institution(request)
        if "inquirer" not in inst.roles:
            raise Problem(403, "not-an-inquirer", "Not a registered inquirer",
                          f"institution {inst.code!r} is not registered as an inquirer")
        body = await json_body(request, InquiryRequest)
        status, content = await answer(inst, body, _digest(json.loads(await request.body())))
        if status == 200:
            return _json(InquiryResult, content)
        raise _problem_of(status, content)

    # The mesh's most frequent request skips the middleware stack (hot_routes.py).
    app.state.hot_routes.append(HotRoute("POST", re.compile(r"/v1/inquiries"), inquire))

    def duplicate(inst: Institution, record_id: str) -> Problem:
        return Problem(409, "duplicate-record-id", "Duplicate record id",
                       f"record id {record_id!r} was already used by {inst.code!r}; "
                       "it is never processed twice", record_id=record_id)

    async def answer(inst: Institution, body: InquiryRequest, digest: str,
                     row: tuple[str, int] | None = None) -> tuple[int, dict[str, Any]]:
        """One inquiry, single or a bulk ``row`` (job id, row number): claim its record id,
        check, convert, route, record, and keep the outcome (status, result or problem body).
        A bulk row never replays another inquiry's answer: an used record id is refused."""
        requested = app.state.clock()
        requested_at = _iso(requested)
        # Claims and outcomes commit with those of the other inquiries of their loop turn (one
        # commit for them all); each inquiry goes on only once its own is durable.
        db = store().db
        if row is None:
            kind, earlier = await db.durably(lambda: store().reserve(
                inst.code, body.record_id, digest, requested_at))
        else:
            kind, earlier = await db.durably(lambda: store().claim_row(
                *row, inst.code, body.record_id, digest, requested_at))
        if kind == "replay":
            if row is not None:
                store().finish_row(*row, inst.code, None, *earlier)
            return earlier
        if kind == "duplicate":
            refusal = duplicate(inst, body.record_id)
            if row is not None:
                store().finish_row(*row, inst.code, None, refusal.status, refusal.body())
            return refusal.status, refusal.body()
        # The art. 23 records made while processing are written with the outcome, in one
        # transaction (one durable write, not two); should processing fail unexpectedly, they
        # are written on their own, as each was before.
        records: list[dict[str, Any]] = []
        try:
            status, content = await _process(inst, body, requested, requested_at, records)
        except Problem as problem:
            status, content = problem.status, problem.body()
        except BaseException:
            for fields in records:
                store().record(**fields)
            raise
        if row is None:
            await db.durably(lambda: store().finish(inst.code, body.record_id, status, content,
                                                    records))
        else:
            await db.durably(lambda: store().finish_row(*row, inst.code, body.record_id, status,
                                                        content, records))
        return status, content

    async def _process(inst: Institution, body: InquiryRequest, requested: datetime,
                       requested_at: str, records: list[dict[str, Any]]
                       ) -> tuple[int, dict[str, Any]]:
        person = store().person_of(inst.code, body.code)
        if person is None:
            raise Problem(404, "code-not-issued", "符号が未取得 (code not issued)",
                          "this 符号 was not issued to the inquirer; get it with POST /v1/codes",
                          message=MSG_CODE_NOT_ISSUED)

        def record(outcome: str, provided: str | None) -> None:
            records.append(dict(
                record_id=body.record_id, inquirer=inst.code, provider=body.provider,
                procedure_code=body.procedure_code, item_codes=[body.item_code],
                person_key=person, requested_at=requested_at,
                provided_at=provided, outcome=outcome,
                non_disclosure=body.non_disclosure))

        today: date = requested.astimezone(JST).date()
        rule = app.state.legal_basis.permits(body.procedure_code, inst.code, body.provider,
                                             body.item_code, today)
        provider = topology.institution(body.provider)
        if rule is None or provider is None or "provider" not in provider.roles:
            record("refused-not-permitted", None)
            raise Problem(403, "not-permitted", "照会は許可されていません (not permitted)",
                          f"no legal basis on {today} for {body.procedure_code} / "
                          f"{body.item_code} from {inst.code} to {body.provider}",
                          message=MSG_NOT_PERMITTED)
        deriver: CodeDeriver = app.state.codes
        provider_code = deriver.code(provider.code, person)
        store().ensure_code(provider.code, provider_code, person, requested_at)
        outgoing = ProvisionRequest(record_id=body.record_id, procedure_code=body.procedure_code,
                                    item_code=body.item_code, code=provider_code)
        answer = await _call_provider(provider, outgoing, record)
        provided = _iso(app.state.clock())
        record("provided", provided)
        return 200, {"record_id": body.record_id, "status": answer.status,
                     "message": answer.message, "provider": provider.code,
                     "procedure_code": body.procedure_code, "route": provider.route,
                     "requested_at": requested_at, "provided_at": provided,
                     "items": [i.model_dump() for i in answer.items]}

    def provider_transport() -> httpx.AsyncBaseTransport:
        """The transport to providers: one a test put in, else HTTP/1.1 over kept-alive
        connections (http1_transport.py), one per running event loop. Calls go through
        ``http1_transport.post``, not an httpx client: its layers (redirects, cookies, auth
        flows the hop does not use) and models cost about as much as the hop itself."""
        if app.state.provider_transport is not None:
            return app.state.provider_transport
        loop = asyncio.get_running_loop()
        cached = getattr(app.state, "network_transport", None)
        if cached is None or cached[0] is not loop:
            cached = (loop, Http1Transport())
            app.state.network_transport = cached
        return cached[1]

    async def close_provider_transport() -> None:
        cached = getattr(app.state, "network_transport", None)
        app.state.network_transport = None
        if cached is not None and cached[0] is asyncio.get_running_loop():
            await cached[1].aclose()

    provider_urls: dict[str, httpx.URL] = {}

    def provider_url(provider: Institution) -> httpx.URL:
        """Parsed once per provider (httpx's URL parsing was ~6 % of an inquiry's time)."""
        url = provider_urls.get(provider.code)
        if url is None:
            base = provider.url if provider.url else topology.url(str(provider.simulator))
            url = provider_urls[provider.code] = httpx.URL(base.rstrip("/") + PROVISIONS_PATH)
        return url

    async def _call_provider(provider: Institution, outgoing: ProvisionRequest,
                             record: Any) -> ProvisionResponse:
        def failed(status: int, slug: str, title: str, detail: str) -> Problem:
            record(slug, None)
            return Problem(status, slug, title, detail, provider=provider.code)

        timeout = float(app.state.provider_timeout)
        try:
            async with asyncio.timeout(timeout):
                # The guard above bounds the whole call (connecting included) on every
                # transport; a second timer inside would only cost time.
                status, content = await post(provider_transport(), provider_url(provider),
                                             provider_headers, outgoing.model_dump_json().encode(),
                                             None)
        except (TimeoutError, httpx.TimeoutException):
            raise failed(504, "provider-timeout", "The provider did not answer in time",
                         f"no answer from {provider.code} within {timeout} s") from None
        except httpx.HTTPError as exc:
            raise failed(502, "provider-unreachable", "The provider cannot be reached",
                         f"{provider.code}: {type(exc).__name__}") from None
        if status != 200:
            raise failed(502, "provider-bad-answer", "The provider answered with an error",
                         f"{provider.code} answered HTTP {status}")
        try:
            answer = ProvisionResponse.model_validate_json(content)
        except ValidationError as exc:
            raise failed(502, "provider-bad-answer", "The provider's answer is not valid",
                         f"{provider.code}: {exc.error_count()} problem(s) in the answer"
                         ) from None
        # Valid JSON (just checked) is UTF-8 (RFC 8259 §8.1): no charset detection needed.
        if find_my_numbers(content.decode()):
            raise failed(502, "provider-bad-answer", "The provider's answer is refused",
                         f"{provider.code} answered with a My-Number-shaped value; it is not "
                         "passed on")
        if answer.status != LINE_OK or any(i.item_code != outgoing.item_code
                                           for i in answer.items):
            raise failed(502, "provider-bad-answer", "The provider's answer is refused",
                         f"{provider.code}: line status {answer.status!r} or items other than "
                         f"{outgoing.item_code}")
        return answer

    # -- bulk inquiries ------------------------------------------------------------------------

    def runner() -> dict[str, Any]:
        """The job tasks and the provider slots of the running event loop (the lifespan's; a
        host without a lifespan gets them on first use)."""
        loop = asyncio.get_running_loop()
        state = getattr(app.state, "bulk_runner", None)
        if state is None or state["loop"] is not loop:
            state = {"loop": loop, "tasks": {},
                     "slots": asyncio.Semaphore(max(1, int(app.state.bulk_concurrency)))}
            app.state.bulk_runner = state
        return state

    def start_job(job_id: str) -> None:
        tasks: dict[str, asyncio.Task[None]] = runner()["tasks"]
        if job_id not in tasks or tasks[job_id].done():
            tasks[job_id] = asyncio.get_running_loop().create_task(run_job(job_id))

    async def run_job(job_id: str) -> None:
        job = store().job(job_id)
        inst = topology.institution(job["inquirer"]) if job else None
        if job is None or inst is None:
            return
        store().set_job_state(job_id, "running")
        slots: asyncio.Semaphore = runner()["slots"]
        in_flight: set[asyncio.Task[Any]] = set()

        async def one(row_no: int, raw: str) -> None:
            try:
                body = InquiryRequest.model_validate_json(raw)
                await answer(inst, body, _digest(json.loads(raw)), row=(job_id, row_no))
            finally:
                slots.release()

        try:
            for row_no, raw in store().pending_rows(job_id):
                await slots.acquire()
                task = asyncio.create_task(one(row_no, raw))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            if in_flight:
                await asyncio.gather(*in_flight)
        except asyncio.CancelledError:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            raise
        store().set_job_state(job_id, "done", _iso(app.state.clock()))

    async def stop_jobs() -> None:
        state = getattr(app.state, "bulk_runner", None)
        if state is None or state["loop"] is not asyncio.get_running_loop():
            return
        tasks = list(state["tasks"].values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        app.state.bulk_runner = None

    inner_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(host: FastAPI) -> AsyncIterator[Any]:
        store().purge_expired(app.state.clock())
        # Resume the jobs a stop interrupted; their finished rows are not processed again.
        for job_id in store().unfinished_jobs():
            start_job(job_id)
        async with inner_lifespan(host) as state:
            try:
                yield state
            finally:
                await stop_jobs()
                await close_provider_transport()

    app.router.lifespan_context = lifespan

    @app.post(BULK_PATH, response_model=BulkAccepted, status_code=202,
              responses={**errors}, tags=["inquiries"], operation_id="submitBulkInquiry",
              summary="Bulk inquiry: a file of 1..10,000 rows, processed as a durable job",
              description="Each row is one inquiry, checked as a single one; its outcome is a "
                          "per-row status of the job (GET the status URL). A record id used "
                          "before, or earlier in the same file, is refused for that row.",
              openapi_extra=body_doc(BulkInquiryRequest, bodies))
    async def submit_bulk(request: Request) -> Response:
        inst, _ = institution(request)
        if "inquirer" not in inst.roles:
            raise Problem(403, "not-an-inquirer", "Not a registered inquirer",
                          f"institution {inst.code!r} is not registered as an inquirer")
        body = await json_body(request, BulkInquiryRequest)
        raw_rows = json.loads(await request.body())["rows"]
        seen: set[str] = set()
        refused: dict[int, tuple[int, dict[str, Any]]] = {}
        rows: list[tuple[str, str]] = []
        for n, (row, raw) in enumerate(zip(body.rows, raw_rows, strict=True), start=1):
            if row.record_id in seen:
                problem = duplicate(inst, row.record_id)
                refused[n] = (problem.status, problem.body())
            seen.add(row.record_id)
            rows.append((row.record_id, json.dumps(raw, ensure_ascii=False)))
        job_id = uuid.uuid4().hex
        store().create_job(job_id, inst.code, rows, refused, _iso(app.state.clock()))
        start_job(job_id)
        url = f"{BULK_PATH}/{job_id}"
        return Response(BulkAccepted(job_id=job_id, state="queued", total=len(rows),
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
        job = store().job(job_id)
        if job is None or job["inquirer"] != inst.code:
            raise Problem(404, "job-not-found", "No such bulk inquiry",
                          f"no bulk inquiry {job_id!r} submitted by {inst.code!r}")
        rows = []
        for r in store().rows_page(job_id, after, limit):
            response = r.pop("response")
            ok = r["state"] == "ok"
            rows.append({**r, "result": response if ok else None,
                         "problem": None if ok or response is None else {
                             k: response.get(k) for k in ("type", "title", "status", "detail",
                                                          "message")}})
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
        person = store().person_of(inst.code, code)
        if person is None:
            raise Problem(404, "code-not-issued", "符号が未取得 (code not issued)",
                          "this 符号 was not issued to the caller", message=MSG_CODE_NOT_ISSUED)
        store().purge_expired(app.state.clock())  # past retention: never shown again
        return _json(ProvisionRecordList, {"records": store().records_of(person, audit)})

    install_openapi(app, bodies)
    return app
