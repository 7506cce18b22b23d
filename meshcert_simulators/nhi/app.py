"""The reference 国民健康保険 subscriber register (national health insurance) of one
municipality: a downstream standard system that keeps its copy of the residents in step with
the resident registry by polling its PULL difference feed (profile downstream-system).

Parts on ``app.state``, found at the time of each use (a negative control replaces one):
``store`` (SQLite: records, applied entries, the cursor — survives a restart), ``follower``
(polls the feed in the background; ``POST /v1/sync`` reads it to its end now) and ``views``
(what the read API shows, and to whom).

The read API (fixtures/specs/nhi.openapi.json) is the profile's: a resident by 宛名番号, a
household's members, the feed state, a sync trigger. Roles: ``downstream:read``,
``downstream:read-mynumber`` (the view then carries the My Number), ``downstream:sync``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI
from fastapi import Path as PathParam
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.auth import Caller, require
from meshcert_simulators.common.http import (
    install_openapi,
    problem_responses,
    validated_response,
)
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.storage import Database
from meshcert_simulators.nhi.follower import MAX_WAIT_ON_ASK_S, FeedSource, Follower
from meshcert_simulators.nhi.models import HouseholdView, ResidentView, SyncState
from meshcert_simulators.nhi.store import SCHEMA, NhiStore

READ_ROLE = "downstream:read"
MYNUMBER_ROLE = "downstream:read-mynumber"
SYNC_ROLE = "downstream:sync"
Number = Annotated[str, PathParam(pattern=r"^[0-9]{10}$", description="10 digits")]


class Views:
    """What the read API shows of the store, and to whom. Reads ``store`` and ``follower``
    from the app's state at each use."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def lg_code(self) -> str:
        follower = self.state.follower
        if follower is None:
            raise Problem(503, "no-feed", "This system follows no registry",
                          str(self.state.feed_problem))
        return str(follower.source.lg_code)

    def resident(self, atena_number: str, caller: Caller) -> dict[str, Any]:
        found = self.state.store.resident(self.lg_code(), atena_number)
        if found is None:
            raise Problem(404, "not-found", "No such resident",
                          f"this system holds no record of 宛名番号 {atena_number}")
        record, seqs = found
        view = {k: record[k] for k in ("atena_number", "lg_code", "setai_number", "status",
                                       "name", "birth_date", "address")}
        view["name"] = {k: record["name"][k] for k in ("surname", "given_name",
                                                       "surname_kana", "given_name_kana")}
        view.update(current=record["status"] == "resident", applied_seqs=seqs)
        if caller.has(MYNUMBER_ROLE) and record.get("my_number"):
            view["my_number"] = record["my_number"]
        return view

    def household(self, setai_number: str) -> dict[str, Any]:
        return {"setai_number": setai_number,
                "members": self.state.store.household(self.lg_code(), setai_number)}

    def sync_state(self) -> dict[str, Any]:
        follower = self.state.follower
        lg_code = self.lg_code()
        return {"lg_code": lg_code, "cursor": self.state.store.cursor(lg_code),
                "poll_interval_s": follower.source.interval_s,
                "last_polled_at": follower.last_polled_at}


def create_app(settings: Settings) -> FastAPI:
    db = Database(Path(settings.data_dir) / f"{settings.name}.sqlite3", SCHEMA,
                  settings.sqlite_synchronous)
    app = build_app(settings, title="meshcert reference national-health-insurance register",
                    description="A municipality's 国民健康保険 subscriber register: a downstream "
                                "standard system following the resident registry's difference "
                                "feed. Its read API is the downstream-system profile's.",
                    on_shutdown=db.close)
    app.state.store = NhiStore(db)
    app.state.http_transport = None
    app.state.views = Views(app.state)
    try:
        app.state.follower = Follower(app.state, settings, FeedSource.for_settings(settings))
        app.state.feed_problem = None
    except ValueError as exc:
        app.state.follower, app.state.feed_problem = None, exc
    _install_lifespan(app)
    _install_routes(app)
    return app


def _install_lifespan(app: FastAPI) -> None:
    inner_lifespan = app.router.lifespan_context

    async def follow() -> None:
        while True:  # the follower in place now (a negative control may have replaced it)
            try:
                await app.state.follower.run()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad page must not stop the register following the feed
                logging.getLogger("meshcert").exception("following the feed failed")
                await asyncio.sleep(app.state.follower.source.interval_s)

    @contextlib.asynccontextmanager
    async def lifespan(host: FastAPI) -> AsyncIterator[Any]:
        task = asyncio.get_running_loop().create_task(follow()) if app.state.follower else None
        async with inner_lifespan(host) as state:
            try:
                yield state
            finally:
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app.router.lifespan_context = lifespan


def _install_routes(app: FastAPI) -> None:
    errors = problem_responses(400, 401, 403, 404, 422, 502, 503)
    state = app.state

    def caller(request: Request, role: str) -> Caller:
        who = state.authenticator.authenticate(request)
        require(who, role)
        if request.query_params:  # a misspelt parameter is refused, never ignored
            raise Problem(400, "unknown-query-parameter", "Unknown query parameter",
                          f"this operation takes no query parameters, not "
                          f"{sorted(request.query_params)}")
        return who

    @app.get("/v1/residents/{atena_number}", response_model=ResidentView, responses=errors,
             tags=["read"], operation_id="getResident",
             summary="This system's view of a resident by 宛名番号 (downstream:read; the My "
                     "Number only with downstream:read-mynumber)")
    async def get_resident(request: Request, atena_number: Number) -> Response:
        who = caller(request, READ_ROLE)
        return validated_response(ResidentView, state.views.resident(atena_number, who),
                                  exclude_unset=True)

    @app.get("/v1/households/{setai_number}", response_model=HouseholdView, responses=errors,
             tags=["read"], operation_id="getHousehold",
             summary="The members this system holds as resident in a household (downstream:read)")
    async def get_household(request: Request, setai_number: Number) -> Response:
        caller(request, READ_ROLE)
        return validated_response(HouseholdView, state.views.household(setai_number))

    @app.get("/v1/sync-state", response_model=SyncState, responses=errors, tags=["feed"],
             operation_id="getSyncState",
             summary="The stored feed cursor and the stated polling interval (downstream:read)")
    async def get_sync_state(request: Request) -> Response:
        caller(request, READ_ROLE)
        return validated_response(SyncState, state.views.sync_state())

    @app.post("/v1/sync", response_model=SyncState, responses=errors, tags=["feed"],
              operation_id="syncNow",
              summary="Read the registry's feed to its end now, then answer the feed state "
                      "(downstream:sync); 502 when the registry could not be read, 503 with "
                      "Retry-After while backing off at the registry's request")
    async def post_sync(request: Request) -> Response:
        caller(request, SYNC_ROLE)
        state.views.lg_code()
        await state.follower.sync(MAX_WAIT_ON_ASK_S)
        return validated_response(SyncState, state.views.sync_state())

    install_openapi(app, [])
