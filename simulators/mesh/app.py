"""The public service mesh simulator: 符号 issuance, single inquiries checked against the
legal-basis table and routed to the provider (real-time or copy), and art. 23 provision records.

Every call authenticates (static token or JWT access token) and the caller must be an
institution of the topology (``institutions:``). Inquiries are checked in this order, each
refusal with a fixed problem type (``urn:meshcert:problem:<slug>``):

1. the caller is an institution (``institution-not-registered``, 403) with the inquirer role
   (``not-an-inquirer``, 403);
2. the record id is new for this inquirer (``duplicate-record-id``, 409; an identical resend of
   a finished inquiry returns the first answer instead and is never processed again);
3. the 符号 was issued to this inquirer (``code-not-issued``, 404, 符号が未取得);
4. a legal-basis rule permits (procedure, inquirer, provider, item) today, Japan time
   (``not-permitted``, 403, 照会は許可されていません; the refusal is recorded);
5. the provider answers (``provider-unreachable`` 502, ``provider-timeout`` 504,
   ``provider-bad-answer`` 502; each recorded).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import anyio
import httpx
from fastapi import FastAPI, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from simulators.common.app import build_app
from simulators.common.http import body_doc, install_openapi, json_body, problem_responses
from simulators.common.identifiers import find_my_numbers, is_valid_juminhyo_code
from simulators.common.problems import Problem
from simulators.common.settings import Settings
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

# The fixed messages of DOMAIN.md §5 F2.
MSG_CODE_NOT_ISSUED = "符号が未取得"
MSG_NOT_PERMITTED = "照会は許可されていません"


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


def _json(model: type[BaseModel], content: dict[str, Any], status: int = 200) -> Response:
    checked = model.model_validate_json(json.dumps(content, ensure_ascii=False))
    return Response(checked.model_dump_json(exclude_none=False), status,
                    media_type="application/json")


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def create_app(settings: Settings) -> FastAPI:
    mesh_store = MeshStore(Path(settings.data_dir) / f"{settings.name}.sqlite3",
                           settings.sqlite_synchronous)
    app = build_app(settings, title="meshcert public service mesh simulator",
                    description="The public service mesh (公共サービスメッシュ) as simulated by "
                                "meshcert: 符号 issuance, inquiries checked against the "
                                "legal-basis table and routed to providers, art. 23 records.",
                    on_shutdown=mesh_store.close)
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
    mesh_client = topology.client(settings.name)
    provider_token = mesh_client.token if mesh_client is not None else None
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
        raw = await request.body()
        digest = hashlib.sha256(json.dumps(json.loads(raw), sort_keys=True).encode()).hexdigest()
        requested = app.state.clock()
        kind, earlier = store().reserve(inst.code, body.record_id, digest, _iso(requested))
        if kind == "replay":
            status, content = earlier
            if status == 200:
                return _json(InquiryResult, content)
            raise Problem(status, content["type"].rsplit(":", 1)[1], content["title"],
                          content.get("detail"), **{k: v for k, v in content.items() if k not in
                                                     ("type", "title", "status", "detail",
                                                      "instance", "request_id")})
        if kind == "duplicate":
            raise Problem(409, "duplicate-record-id", "Duplicate record id",
                          f"record id {body.record_id!r} was already used by {inst.code!r}; "
                          "it is never processed twice", record_id=body.record_id)
        try:
            status, content = await _process(inst, body, requested)
        except Problem as problem:
            store().finish(inst.code, body.record_id, problem.status, problem.body())
            raise
        store().finish(inst.code, body.record_id, status, content)
        return _json(InquiryResult, content, status)

    async def _process(inst: Institution, body: InquiryRequest, requested: datetime
                       ) -> tuple[int, dict[str, Any]]:
        person = store().person_of(inst.code, body.code)
        if person is None:
            raise Problem(404, "code-not-issued", "符号が未取得 (code not issued)",
                          "this 符号 was not issued to the inquirer; get it with POST /v1/codes",
                          message=MSG_CODE_NOT_ISSUED)

        def record(outcome: str, provided: datetime | None) -> None:
            store().record(record_id=body.record_id, inquirer=inst.code, provider=body.provider,
                           procedure_code=body.procedure_code, item_codes=[body.item_code],
                           person_key=person, requested_at=_iso(requested),
                           provided_at=_iso(provided) if provided else None, outcome=outcome,
                           non_disclosure=body.non_disclosure)

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
        store().ensure_code(provider.code, provider_code, person, _iso(requested))
        outgoing = ProvisionRequest(record_id=body.record_id, procedure_code=body.procedure_code,
                                    item_code=body.item_code, code=provider_code)
        answer = await _call_provider(provider, outgoing, record)
        provided = app.state.clock()
        record("provided", provided)
        return 200, {"record_id": body.record_id, "status": answer.status,
                     "message": answer.message, "provider": provider.code,
                     "procedure_code": body.procedure_code, "route": provider.route,
                     "requested_at": _iso(requested), "provided_at": _iso(provided),
                     "items": [i.model_dump() for i in answer.items]}

    def provider_url(provider: Institution) -> str:
        base = provider.url if provider.url else topology.url(str(provider.simulator))
        return base.rstrip("/") + PROVISIONS_PATH

    async def _call_provider(provider: Institution, outgoing: ProvisionRequest,
                             record: Any) -> ProvisionResponse:
        def failed(status: int, slug: str, title: str, detail: str) -> Problem:
            record(slug, None)
            return Problem(status, slug, title, detail, provider=provider.code)

        headers = {"Authorization": f"Bearer {provider_token}"} if provider_token else {}
        timeout = float(app.state.provider_timeout)
        try:
            async with httpx.AsyncClient(transport=app.state.provider_transport,
                                         timeout=timeout) as client:
                with anyio.fail_after(timeout):
                    response = await client.post(provider_url(provider),
                                                 content=outgoing.model_dump_json(),
                                                 headers={**headers,
                                                          "Content-Type": "application/json"})
        except (TimeoutError, httpx.TimeoutException):
            raise failed(504, "provider-timeout", "The provider did not answer in time",
                         f"no answer from {provider.code} within {timeout} s") from None
        except httpx.HTTPError as exc:
            raise failed(502, "provider-unreachable", "The provider cannot be reached",
                         f"{provider.code}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise failed(502, "provider-bad-answer", "The provider answered with an error",
                         f"{provider.code} answered HTTP {response.status_code}")
        try:
            answer = ProvisionResponse.model_validate_json(response.content)
        except ValidationError as exc:
            raise failed(502, "provider-bad-answer", "The provider's answer is not valid",
                         f"{provider.code}: {exc.error_count()} problem(s) in the answer"
                         ) from None
        if find_my_numbers(response.text):
            raise failed(502, "provider-bad-answer", "The provider's answer is refused",
                         f"{provider.code} answered with a My-Number-shaped value; it is not "
                         "passed on")
        if answer.status != LINE_OK or any(i.item_code != outgoing.item_code
                                           for i in answer.items):
            raise failed(502, "provider-bad-answer", "The provider's answer is refused",
                         f"{provider.code}: line status {answer.status!r} or items other than "
                         f"{outgoing.item_code}")
        return answer

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
        return _json(ProvisionRecordList, {"records": store().records_of(person, audit)})

    install_openapi(app, bodies)
    return app
