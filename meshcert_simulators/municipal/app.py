"""The resident-registry simulator (住民記録システム): the standard linkage API of the
municipalities one process hosts, keyed by local government code."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common import checkpoints
from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.audit import AuditEntry
from meshcert_simulators.common.auth import ADMIN_ROLE, Caller, require
from meshcert_simulators.common.hot_routes import HotRoute
from meshcert_simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    json_text,
    problem_responses,
)
from meshcert_simulators.common.paging import next_after, split_page
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.storage import Database
from meshcert_simulators.common.wire import WireModel
from meshcert_simulators.municipal import moveout
from meshcert_simulators.municipal.models import (
    ATENA,
    JUMINHYO,
    LG_CODE,
    ChangePage,
    Household,
    MovementRequest,
    MovementResult,
    MoveoutNotification,
    MoveoutState,
    MoveoutTransition,
    Resident,
)
from meshcert_simulators.municipal.movements import apply_movement
from meshcert_simulators.municipal.registry import SCHEMA, Actor, Registry
from meshcert_simulators.municipal.seeding import SeedRequest, SeedResult, seed

MYNUMBER_ROLE = "registry:read-mynumber"

LgCode = Annotated[str, PathParam(pattern=LG_CODE, description="全国地方公共団体コード (6 digits)")]
AtenaPath = Annotated[str, PathParam(pattern=ATENA, description="宛名番号 (10 digits)")]
SetaiPath = Annotated[str, PathParam(pattern=ATENA, description="世帯番号 (10 digits)")]
AppIdPath = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


TOKEN_RULE = (
    "**Access tokens.** Every operation but the health check takes a bearer access token (RFC "
    "9068, ES256) of the mesh's issuer. Its lifetime is held with 60 s of clock leeway at both "
    "ends: a token is accepted from its `nbf` (and `iat`) minus 60 s to its `exp` plus 60 s, "
    "and refused with 401 outside that.")
MOVEOUT_WINDOW_RULE = (
    "**Filing window.** An online move-out is accepted when the registry's today (the "
    "calendar date in Japan, JST, when the request arrives) is from `moving_date` minus 30 "
    "days to `moving_date` plus 10 days, both days included; outside it the answer is 422 "
    "`outside-filing-window` and nothing is kept.")

AUDIT_CHAIN_RULE = (
    "Entries are numbered from 1 per municipality. Each entry's `hash` is the lowercase hex "
    "SHA-256 of the UTF-8 bytes of the compact JSON array (no spaces, non-ASCII not escaped) "
    "`[scope, seq, at, operator, action, target, mynumber_accessed, request_id, prev_hash]`; "
    "`prev_hash` is the previous entry's `hash`, and 64 zeros for entry 1. Recomputing the "
    "chain from the export verifies it; any edited, removed or reordered entry breaks it.\n\n"
    "**What is logged.** Every read of resident records writes one entry per record read: "
    "`resident.read` (by 宛名番号), `resident.find` (by 住民票コード), `household.read` (each "
    "member), `changes.read` (a non-empty feed page; target `seq A-B`). Every refused read of "
    "an authenticated caller writes one entry with the read's action and the suffix "
    "`.refused` (e.g. `resident.read.refused`): refused for a missing scope (403), for a "
    "municipality the client is not registered for (403, in the chain of the municipality "
    "asked for), or because the record does not exist (404 resident-not-found, "
    "household-not-found). Its `target` is the identifier asked for (宛名番号, 住民票コード, "
    "世帯番号, or `after N` for the feed) and its `mynumber_accessed` is false. `operator` is "
    "the client id of the access token, `request_id` the request's X-Request-ID. Requests "
    "refused before the caller is known (401) and requests for a municipality not hosted "
    "(404 unknown-municipality) are not in any chain.\n\n"
    "**Checkpoints.** The chain alone cannot show that its newest entries were cut off, so "
    "the registry signs its head: a checkpoint is a compact JWS (ES256, header `typ` "
    "`audit-checkpoint+jws`, `kid` naming a key of `GET .../audit-log/keys`) whose payload "
    "is the JSON object `{scope, seq, head_hash, signed_at}`: entry `seq` of the chain of "
    "`scope` had hash `head_hash` (seq 0 and 64 zeros for an empty chain). Every export page "
    "carries a checkpoint of the head at the time of the export (`seq` is the newest entry, "
    "whatever page was asked for). A chain that has no entry `seq` of a checkpoint, or "
    "another hash there, was cut off or rewritten; the verification checks every checkpoint "
    "the registry has signed, and one the caller kept.")

class AuditCheckpoint(WireModel):
    """A signed checkpoint of the chain's head; the fields repeat the verified JWS payload."""

    scope: str
    seq: int
    head_hash: str
    signed_at: datetime
    jws: str


class AuditPage(WireModel):
    entries: list[AuditEntry]
    next_after: int
    has_more: bool
    checkpoint: AuditCheckpoint = Field(description="The head of the chain at the time of "
                                        "the export, signed")


class ChainCheckOut(WireModel):
    valid: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None
    reason: str | None
    checkpoints_checked: int = Field(description="Signed checkpoints the chain was held "
                                     "against (the registry's own and the caller's)")
    checkpoint: AuditCheckpoint | None = Field(description="The head, signed now; null when "
                                               "the chain is not valid")


class JwkSet(WireModel):
    keys: list[dict[str, Any]]


class ValidatedBodies:
    """What :func:`meshcert_simulators.common.http.validated_response` computes, remembered: the
    body a
    response model gives for the exact JSON text of some content (validation and serialisation
    depend on nothing else). A bounded LRU of small bodies (a resident record, not a feed
    page); content that fails validation raises every time and is never remembered."""

    def __init__(self, size: int = 4096, max_bytes: int = 8192) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[tuple[type[BaseModel], bytes], str] = OrderedDict()
        self._lock = threading.Lock()

    def body(self, model: type[BaseModel], content: dict[str, Any]) -> str:
        text = json_text(content)
        key = (model, text)
        with self._lock:
            found = self._bodies.get(key)
            if found is not None:
                self._bodies.move_to_end(key)
                return found
        # Fields a record does not have (a My Number the caller may not see) are left out.
        body = model.model_validate_json(text).model_dump_json(exclude_unset=True)
        if len(text) <= self.max_bytes:
            with self._lock:
                self._bodies[key] = body
                while len(self._bodies) > self.size:
                    self._bodies.popitem(last=False)
        return body


_VALIDATED = ValidatedBodies()


def _json(model: type[BaseModel], content: dict[str, Any], status: int = 200) -> Response:
    """``content`` as JSON, validated against the documented response ``model`` first, so the
    simulator never answers outside its own contract (as validated_response, remembered)."""
    return Response(_VALIDATED.body(model, content), status, media_type="application/json")


RESIDENT_PATH = "/municipalities/{lg_code}/residents/{atena_number}"
# The hot read: only what the documented route's parameter patterns accept (the rest, with its
# 422s, stays with that route).
RESIDENT_READ = re.compile(r"/municipalities/(?P<lg_code>[0-9]{6})/residents/"
                           r"(?P<atena_number>[0-9]{10})")


def create_app(settings: Settings) -> FastAPI:
    db = Database(Path(settings.data_dir) / f"{settings.name}.sqlite3",
                  SCHEMA + moveout.MOVEOUT_SCHEMA, settings.sqlite_synchronous)
    app = build_app(settings, title="meshcert resident-registry simulator",
                    description="Standard linkage API of a municipal resident-registry system "
                                "(住民記録システム), as simulated by meshcert.\n\n" + TOKEN_RULE,
                    on_shutdown=db.close)
    # Looked up on every request, so a defect (meshcert_simulators/defects/) can put an overriding
    # subclass or other rules in their place from outside.
    app.state.registry = Registry(db, settings.spec.municipalities, checkpoint_key=(
        checkpoints.checkpoint_key(Path(settings.data_dir)
                                   / f"{settings.name}-audit-checkpoint-key.json")))
    app.state.moveout_rules = moveout.MoveoutRules()
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)

    def registry() -> Registry:
        return app.state.registry

    def caller(request: Request, role: str, lg_code: str | None = None,
               read: tuple[str, str] | None = None) -> tuple[Caller, Actor]:
        """Who calls, allowed ``role`` (for ``lg_code``); a refused ``read`` (its action and
        target) of a known caller in a hosted municipality is logged before the refusal."""
        who = app.state.authenticator.authenticate(request)
        request_id = request.scope.get("state", {}).get("request_id")
        try:
            require(who, role, lg_code)
        except Problem:
            if read is not None and lg_code in registry().municipalities:
                registry().log_refused(lg_code, Actor(who.client_id, request_id, False), *read)
            raise
        if lg_code is not None:
            registry().check_hosted(lg_code)
        actor = Actor(who.client_id, request_id, who.has(MYNUMBER_ROLE))
        return who, actor

    @app.get(RESIDENT_PATH, response_model=Resident,
             responses=errors, tags=["residents"], operation_id="getResident",
             summary="Read a resident by 宛名番号")
    async def get_resident(request: Request, lg_code: LgCode, atena_number: AtenaPath
                           ) -> Response:
        _, actor = caller(request, "registry:read", lg_code, ("resident.read", atena_number))
        return _json(Resident, registry().read_resident(lg_code, atena_number, actor))

    @app.get("/municipalities/{lg_code}/residents", response_model=Resident, responses=errors,
             tags=["residents"], operation_id="findResidentByJuminhyoCode",
             summary="Find the current record of a person by 住民票コード")
    async def find_resident(request: Request, lg_code: LgCode,
                            juminhyo_code: Annotated[str, Query(pattern=JUMINHYO)]
                            ) -> Response:
        _, actor = caller(request, "registry:read", lg_code, ("resident.find", juminhyo_code))
        return _json(Resident, registry().find_by_juminhyo(lg_code, juminhyo_code, actor))

    @app.get("/municipalities/{lg_code}/households/{setai_number}", response_model=Household,
             responses=errors, tags=["residents"], operation_id="getHousehold",
             summary="Read a household by 世帯番号, members with 続柄")
    async def get_household(request: Request, lg_code: LgCode, setai_number: SetaiPath
                            ) -> Response:
        _, actor = caller(request, "registry:read", lg_code, ("household.read", setai_number))
        members = registry().read_household(lg_code, setai_number, actor)
        head = next((m for m in members if m["relationship"]["code"] == "02"), None)
        return _json(Household, {"lg_code": lg_code, "setai_number": setai_number,
                                 "head_atena_number": head["atena_number"] if head else None,
                                 "address": members[0]["address"], "members": members})

    @app.get("/municipalities/{lg_code}/changes", response_model=ChangePage, responses=errors,
             tags=["feed"], operation_id="getChanges",
             summary="Difference feed: records changed after a cursor (PULL)")
    async def get_changes(request: Request, lg_code: LgCode,
                          after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
        _, actor = caller(request, "registry:read", lg_code, ("changes.read", f"after {after}"))
        entries, has_more = registry().read_changes(lg_code, after, limit, actor)
        return _json(ChangePage, {"entries": entries,
                                  "next_after": next_after(entries, after),
                                  "has_more": has_more})

    @app.post("/municipalities/{lg_code}/movements", response_model=MovementResult,
              status_code=201, responses={200: {"description": "Already applied (same event_id)",
                                                "model": MovementResult}, **errors},
              tags=["movements"], operation_id="applyMovement",
              summary="Apply a movement event (異動)",
              openapi_extra=body_doc(MovementRequest, bodies))
    async def post_movement(request: Request, lg_code: LgCode) -> Response:
        _, actor = caller(request, "registry:write", lg_code)
        body = await json_body(request, MovementRequest)
        result, created = apply_movement(registry(), lg_code, body, await request.body(), actor)
        return _json(MovementResult, result, 201 if created else 200)

    @app.post("/municipalities/{lg_code}/moveout-notifications", response_model=MoveoutState,
              status_code=202, responses={200: {"description": "Already received (same id)",
                                                "model": MoveoutState}, **errors},
              tags=["move-out"], operation_id="receiveMoveoutNotification",
              summary="Receive an online move-out notification (転出届)",
              description=MOVEOUT_WINDOW_RULE,
              openapi_extra=body_doc(MoveoutNotification, bodies))
    async def post_moveout(request: Request, lg_code: LgCode) -> Response:
        _, actor = caller(request, "moveout:submit", lg_code)
        body = await json_body(request, MoveoutNotification)
        state, created = moveout.receive(registry(), lg_code, body, await request.body(),
                                        actor, app.state.moveout_rules)
        return _json(MoveoutState, state, 202 if created else 200)

    @app.get("/municipalities/{lg_code}/moveout-notifications/{application_id}",
             response_model=MoveoutState, responses=errors, tags=["move-out"],
             operation_id="getMoveoutNotification", summary="Status of a move-out notification")
    async def get_moveout(request: Request, lg_code: LgCode, application_id: AppIdPath
                          ) -> Response:
        who = app.state.authenticator.authenticate(request)
        role = "moveout:process" if who.has("moveout:process") else "moveout:submit"
        caller(request, role, lg_code)
        return _json(MoveoutState, moveout.status(registry(), lg_code, application_id))

    @app.post("/municipalities/{lg_code}/moveout-notifications/{application_id}/transitions",
              response_model=MoveoutState, responses=errors, tags=["move-out"],
              operation_id="advanceMoveoutNotification",
              summary="Advance processing: 受付 → 処理中 → 完了 (完了 removes the records)",
              openapi_extra=body_doc(MoveoutTransition, bodies))
    async def post_transition(request: Request, lg_code: LgCode, application_id: AppIdPath
                              ) -> Response:
        _, actor = caller(request, "moveout:process", lg_code)
        body = await json_body(request, MoveoutTransition)
        return _json(MoveoutState, moveout.advance(registry(), lg_code, application_id,
                                                   body.status, actor,
                                                   app.state.moveout_rules))

    @app.get("/municipalities/{lg_code}/audit-log", response_model=AuditPage, responses=errors,
             tags=["audit"], operation_id="exportAuditLog",
             summary="Export the hash-chained operation log",
             description=AUDIT_CHAIN_RULE)
    async def get_audit(request: Request, lg_code: LgCode,
                        after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                        limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
        caller(request, "audit:read", lg_code)
        checkpoint = registry().checkpoint(lg_code)  # first: the head the page is part of
        entries, more = split_page(registry().audit_entries(lg_code, after, limit + 1), limit)
        page = [asdict(e) for e in entries]
        return _json(AuditPage, {"entries": page, "next_after": next_after(page, after),
                                 "has_more": more,
                                 "checkpoint": checkpoint.as_dict()})

    @app.get("/municipalities/{lg_code}/audit-log/verification", response_model=ChainCheckOut,
             responses=errors, tags=["audit"], operation_id="verifyAuditLog",
             summary="Recompute the hash chain, hold it against its signed checkpoints, and "
                     "report the first broken entry")
    async def verify_audit(request: Request, lg_code: LgCode,
                           checkpoint: Annotated[str | None, Query(
                               max_length=4096,
                               description="A checkpoint (its `jws`) the caller kept from an "
                                           "earlier export: the chain must still hold it. "
                                           "422 invalid-checkpoint when it is not one this "
                                           "registry signed for this municipality")] = None
                           ) -> Response:
        caller(request, "audit:read", lg_code)
        anchor = None
        if checkpoint is not None:
            try:
                anchor = checkpoints.verified(checkpoint, registry().checkpoint_keys())
            except ValueError as exc:
                raise Problem(422, "invalid-checkpoint", "Not a checkpoint of this registry",
                              str(exc)) from None
            if anchor.scope != lg_code:
                raise Problem(422, "invalid-checkpoint", "Not a checkpoint of this registry",
                              f"the checkpoint is of the chain of {anchor.scope}, not {lg_code}")
        check, checked = registry().verify_audit(lg_code, anchor)
        head = registry().checkpoint(lg_code).as_dict() if check.valid else None
        return _json(ChainCheckOut, {**asdict(check), "checkpoints_checked": checked,
                                     "checkpoint": head})

    @app.get("/municipalities/{lg_code}/audit-log/keys", response_model=JwkSet,
             responses=errors, tags=["audit"], operation_id="getAuditCheckpointKeys",
             summary="The public keys (JWK set) that verify the log's signed checkpoints")
    async def audit_keys(request: Request, lg_code: LgCode) -> Response:
        caller(request, "audit:read", lg_code)
        return _json(JwkSet, checkpoints.keys_document(registry().checkpoint_key))

    @app.post("/admin/seed", response_model=SeedResult, responses=errors, tags=["admin"],
              operation_id="seedResidents", summary="Seed test data (admin credential)",
              openapi_extra=body_doc(SeedRequest, bodies))
    async def post_seed(request: Request) -> Response:
        _, actor = caller(request, ADMIN_ROLE)
        body = await json_body(request, SeedRequest)
        registry().check_hosted(body.lg_code)
        return _json(SeedResult, seed(registry(), body, actor))

    async def get_resident_fast(request: Request) -> Response:
        lg_code, atena_number = (request.path_params["lg_code"],
                                 request.path_params["atena_number"])
        _, actor = caller(request, "registry:read", lg_code, ("resident.read", atena_number))
        # The read's audit entry commits with those of the other reads of this loop turn
        # (one commit for them all); the answer goes out only once it is durable.
        record = await db.durably(lambda: registry().read_resident(lg_code, atena_number,
                                                                   actor))
        return _json(Resident, record)

    app.state.hot_routes.append(HotRoute("GET", RESIDENT_READ, get_resident_fast))
    install_openapi(app, bodies)
    return app
