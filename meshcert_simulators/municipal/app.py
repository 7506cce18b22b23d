"""The resident-registry simulator (住民記録システム): the standard linkage API of the
municipalities one process hosts, keyed by local government code.

The behaviour lives in parts on ``app.state``, where routes, tests and negative controls
(meshcert_simulators/defects/) find them at the time of each request: ``registry`` (the register
and its audit chain), ``moveout_rules``, ``access`` (who may do what), ``records`` (reads),
``movements`` and ``moveouts`` (filings), ``audit_export`` and ``seeder``. Routes only
translate HTTP: they parse, call a part and answer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi import Path as PathParam
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common import checkpoints, exchanges
from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.auth import ADMIN_ROLE
from meshcert_simulators.common.hot_routes import HotRoute
from meshcert_simulators.common.http import body_doc, install_openapi, json_body, problem_responses
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.storage import Database
from meshcert_simulators.municipal import moveout
from meshcert_simulators.municipal.access import Access
from meshcert_simulators.municipal.audit_export import (
    AUDIT_CHAIN_RULE,
    AuditExport,
    AuditPage,
    ChainCheckOut,
    JwkSet,
)
from meshcert_simulators.municipal.filings import Movements, Moveouts
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
from meshcert_simulators.municipal.records import Records
from meshcert_simulators.municipal.registry import SCHEMA, Registry
from meshcert_simulators.municipal.responses import json_response as _json
from meshcert_simulators.municipal.seeding import Seeder, SeedRequest, SeedResult

LgCode = Annotated[str, PathParam(pattern=LG_CODE, description="全国地方公共団体コード (6 digits)")]
AtenaPath = Annotated[str, PathParam(pattern=ATENA, description="宛名番号 (10 digits)")]
SetaiPath = Annotated[str, PathParam(pattern=ATENA, description="世帯番号 (10 digits)")]
AppIdPath = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
After = Annotated[int, Query(ge=0, le=2**62)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Errors = dict[int | str, dict[str, Any]]

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
    _install_parts(app, settings, db)
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)
    # In the order of the published contract.
    _install_reads(app, errors)
    _install_filings(app, bodies, errors)
    _install_audit(app, errors)
    _install_admin(app, bodies, errors)
    install_openapi(app, bodies)
    if settings.spec.capture_exchanges:  # the downstream-system suites judge the feed's callers
        exchanges.install(app)
    return app


def _install_parts(app: FastAPI, settings: Settings, db: Database) -> None:
    """Put the registry's parts on ``app.state``; each reads the others from there at the time
    of use, so any one can be replaced on its own."""
    app.state.registry = Registry(db, settings.spec.municipalities, checkpoint_key=(
        checkpoints.checkpoint_key(Path(settings.data_dir)
                                   / f"{settings.name}-audit-checkpoint-key.json")))
    app.state.moveout_rules = moveout.MoveoutRules()
    app.state.access = Access(app.state)
    app.state.records = Records(app.state)
    app.state.movements = Movements(app.state)
    app.state.moveouts = Moveouts(app.state)
    app.state.audit_export = AuditExport(app.state)
    app.state.seeder = Seeder(app.state)


def _install_reads(app: FastAPI, errors: Errors) -> None:
    """Residents, households and the difference feed; the resident read also as a hot route."""
    state = app.state

    @app.get(RESIDENT_PATH, response_model=Resident,
             responses=errors, tags=["residents"], operation_id="getResident",
             summary="Read a resident by 宛名番号")
    async def get_resident(request: Request, lg_code: LgCode, atena_number: AtenaPath
                           ) -> Response:
        _, actor = state.access.caller(request, "registry:read", lg_code,
                                       ("resident.read", atena_number))
        return _json(Resident, state.records.resident(lg_code, atena_number, actor))

    @app.get("/municipalities/{lg_code}/residents", response_model=Resident, responses=errors,
             tags=["residents"], operation_id="findResidentByJuminhyoCode",
             summary="Find the current record of a person by 住民票コード")
    async def find_resident(request: Request, lg_code: LgCode,
                            juminhyo_code: Annotated[str, Query(pattern=JUMINHYO)]
                            ) -> Response:
        _, actor = state.access.caller(request, "registry:read", lg_code,
                                       ("resident.find", juminhyo_code))
        return _json(Resident, state.records.find(lg_code, juminhyo_code, actor))

    @app.get("/municipalities/{lg_code}/households/{setai_number}", response_model=Household,
             responses=errors, tags=["residents"], operation_id="getHousehold",
             summary="Read a household by 世帯番号, members with 続柄")
    async def get_household(request: Request, lg_code: LgCode, setai_number: SetaiPath
                            ) -> Response:
        _, actor = state.access.caller(request, "registry:read", lg_code,
                                       ("household.read", setai_number))
        return _json(Household, state.records.household(lg_code, setai_number, actor))

    @app.get("/municipalities/{lg_code}/changes", response_model=ChangePage, responses=errors,
             tags=["feed"], operation_id="getChanges",
             summary="Difference feed: records changed after a cursor (PULL)")
    async def get_changes(request: Request, lg_code: LgCode, after: After = 0,
                          limit: Limit = 100) -> Response:
        _, actor = state.access.caller(request, "registry:read", lg_code,
                                       ("changes.read", f"after {after}"))
        return _json(ChangePage, state.records.changes(lg_code, after, limit, actor))

    async def get_resident_fast(request: Request) -> Response:
        lg_code, atena_number = (request.path_params["lg_code"],
                                 request.path_params["atena_number"])
        _, actor = state.access.caller(request, "registry:read", lg_code,
                                       ("resident.read", atena_number))
        # The answer goes out only once the read's audit entry is durable.
        return _json(Resident, await state.records.resident_durably(lg_code, atena_number,
                                                                    actor))

    app.state.hot_routes.append(HotRoute("GET", RESIDENT_READ, get_resident_fast))


def _install_filings(app: FastAPI, bodies: list[type[BaseModel]], errors: Errors) -> None:
    """Movement events and online move-out notifications with their processing."""
    state = app.state

    @app.post("/municipalities/{lg_code}/movements", response_model=MovementResult,
              status_code=201, responses={200: {"description": "Already applied (same event_id)",
                                                "model": MovementResult}, **errors},
              tags=["movements"], operation_id="applyMovement",
              summary="Apply a movement event (異動)",
              openapi_extra=body_doc(MovementRequest, bodies))
    async def post_movement(request: Request, lg_code: LgCode) -> Response:
        _, actor = state.access.caller(request, "registry:write", lg_code)
        body = await json_body(request, MovementRequest)
        result, created = state.movements.apply(lg_code, body, await request.body(), actor)
        return _json(MovementResult, result, 201 if created else 200)

    @app.post("/municipalities/{lg_code}/moveout-notifications", response_model=MoveoutState,
              status_code=202, responses={200: {"description": "Already received (same id)",
                                                "model": MoveoutState}, **errors},
              tags=["move-out"], operation_id="receiveMoveoutNotification",
              summary="Receive an online move-out notification (転出届)",
              description=MOVEOUT_WINDOW_RULE,
              openapi_extra=body_doc(MoveoutNotification, bodies))
    async def post_moveout(request: Request, lg_code: LgCode) -> Response:
        _, actor = state.access.caller(request, "moveout:submit", lg_code)
        body = await json_body(request, MoveoutNotification)
        found, created = state.moveouts.receive(lg_code, body, await request.body(), actor)
        return _json(MoveoutState, found, 202 if created else 200)

    @app.get("/municipalities/{lg_code}/moveout-notifications/{application_id}",
             response_model=MoveoutState, responses=errors, tags=["move-out"],
             operation_id="getMoveoutNotification", summary="Status of a move-out notification")
    async def get_moveout(request: Request, lg_code: LgCode, application_id: AppIdPath
                          ) -> Response:
        state.access.moveout_reader(request, lg_code)
        return _json(MoveoutState, state.moveouts.status(lg_code, application_id))

    @app.post("/municipalities/{lg_code}/moveout-notifications/{application_id}/transitions",
              response_model=MoveoutState, responses=errors, tags=["move-out"],
              operation_id="advanceMoveoutNotification",
              summary="Advance processing: 受付 → 処理中 → 完了 (完了 removes the records)",
              openapi_extra=body_doc(MoveoutTransition, bodies))
    async def post_transition(request: Request, lg_code: LgCode, application_id: AppIdPath
                              ) -> Response:
        _, actor = state.access.caller(request, "moveout:process", lg_code)
        body = await json_body(request, MoveoutTransition)
        return _json(MoveoutState, state.moveouts.advance(lg_code, application_id,
                                                          body.status, actor))


def _install_audit(app: FastAPI, errors: Errors) -> None:
    """Export and verification of the hash-chained operation log, and its checkpoint keys."""
    state = app.state

    @app.get("/municipalities/{lg_code}/audit-log", response_model=AuditPage, responses=errors,
             tags=["audit"], operation_id="exportAuditLog",
             summary="Export the hash-chained operation log",
             description=AUDIT_CHAIN_RULE)
    async def get_audit(request: Request, lg_code: LgCode, after: After = 0,
                        limit: Limit = 100) -> Response:
        state.access.caller(request, "audit:read", lg_code)
        return _json(AuditPage, state.audit_export.page(lg_code, after, limit))

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
        state.access.caller(request, "audit:read", lg_code)
        return _json(ChainCheckOut, state.audit_export.verification(lg_code, checkpoint))

    @app.get("/municipalities/{lg_code}/audit-log/keys", response_model=JwkSet,
             responses=errors, tags=["audit"], operation_id="getAuditCheckpointKeys",
             summary="The public keys (JWK set) that verify the log's signed checkpoints")
    async def audit_keys(request: Request, lg_code: LgCode) -> Response:
        state.access.caller(request, "audit:read", lg_code)
        return _json(JwkSet, state.audit_export.keys())


def _install_admin(app: FastAPI, bodies: list[type[BaseModel]], errors: Errors) -> None:
    state = app.state

    @app.post("/admin/seed", response_model=SeedResult, responses=errors, tags=["admin"],
              operation_id="seedResidents", summary="Seed test data (admin credential)",
              openapi_extra=body_doc(SeedRequest, bodies))
    async def post_seed(request: Request) -> Response:
        _, actor = state.access.caller(request, ADMIN_ROLE)
        body = await json_body(request, SeedRequest)
        return _json(SeedResult, state.seeder.seed(body, actor))
