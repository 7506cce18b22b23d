"""The app factory every simulator is built with.

It adds what all simulators share: problem+json for every error (the framework's own 404/405/422
included), request ids, a JSON access log, a body-size limit, a JSON-only rule for request bodies
(a route that must take a form, as an OAuth token endpoint does, is named in ``form_paths``),
``GET /health``, and fault injection with its admin endpoints (meshcert_simulators.common.faults).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshcert_simulators.common import access_log, exchanges, faults
from meshcert_simulators.common.auth import Authenticator
from meshcert_simulators.common.hot_routes import HotRoutes
from meshcert_simulators.common.http import BODY_METHODS, edge_headers, is_json_media_type
from meshcert_simulators.common.problems import Problem, standard_problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.storage import Database

HARNESS_VERSION = "0.1.0"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


def _is_form(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == FORM_MEDIA_TYPE


def replayed(body: bytes, receive: Receive) -> Receive:
    """A receive channel that yields an already-read ``body`` once, then the original channel
    (which still reports a disconnect)."""
    delivered = False

    async def again() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


class EdgeMiddleware:
    """Request id, access log, body limit and media-type check, as plain ASGI (cheap per call)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, log: bool,
                 form_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.log = log
        # Paths whose bodies are application/x-www-form-urlencoded (and only that) instead.
        self.form_paths = form_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = edge_headers(scope["headers"])
        request_id = access_log.request_id_of(headers.get("x-request-id", ""))
        scope.setdefault("state", {})["request_id"] = request_id
        status_holder = [500]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (b"x-request-id", request_id.encode("ascii"))]
            await send(message)

        started_response = False

        async def send_tracked(message: Message) -> None:
            nonlocal started_response
            started_response = started_response or message["type"] == "http.response.start"
            await send_with_id(message)

        try:
            early = await self._early_problem(scope, headers, receive)
            if isinstance(early, Problem):
                await early.response(scope["path"], request_id)(scope, receive, send_tracked)
            else:
                await self.app(scope, early, send_tracked)
        except Exception as exc:
            # Answer here (once, logged once) rather than let the server log it a second time.
            logging.getLogger("meshcert").exception("unhandled error", exc_info=exc)
            if not started_response:
                problem = standard_problem(500, "an internal error occurred; see the simulator "
                                                "log")
                await problem.response(scope["path"], request_id)(scope, receive, send_tracked)
        finally:
            if self.log:
                access_log.write(scope["method"], scope["path"], request_id, status_holder[0],
                                 started, scope["state"].get("client_id"))

    async def _early_problem(self, scope: Scope, headers: dict[str, str],
                             receive: Receive) -> Problem | Receive:
        """Read a request body up front (bounded) so oversize and non-JSON fail cleanly."""
        if scope["method"] not in BODY_METHODS:
            return receive
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return standard_problem(413, f"the limit is {self.max_body_bytes} bytes",
                                    limit_bytes=self.max_body_bytes)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return standard_problem(413, f"the limit is {self.max_body_bytes} bytes",
                                        limit_bytes=self.max_body_bytes)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = headers.get("content-type", "")
        if scope["path"] in self.form_paths:
            if body and not _is_form(content_type):
                return standard_problem(415, f"request bodies here must be {FORM_MEDIA_TYPE}",
                                        accepted=[FORM_MEDIA_TYPE])
        elif body and not is_json_media_type(content_type):
            return standard_problem(415, "request bodies must be application/json",
                                    accepted=["application/json"])
        return replayed(body, receive)


def _request_id(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response(request.url.path, _request_id(request))


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    problem = standard_problem(exc.status_code, detail)
    if exc.headers:
        problem.headers.update(exc.headers)
    return problem.response(request.url.path, _request_id(request))


def _error_entry(error: dict[str, Any]) -> dict[str, Any]:
    return {"location": [str(p) for p in error.get("loc", ())], "message": error.get("msg", ""),
            "kind": error.get("type", "")}


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [_error_entry(e) for e in exc.errors()]
    detail = "; ".join(f"{'.'.join(e['location'])}: {e['message']}" for e in errors[:5])
    return standard_problem(422, detail, errors=errors).response(request.url.path,
                                                                 _request_id(request))


class Health(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    status: str
    simulator: str
    kind: str
    version: str
    harness_version: str
    started_at: str


class SimulatorApp(FastAPI):
    """FastAPI, with the app's hot routes (meshcert_simulators.common.hot_routes) answered before
    its
    middleware stack. A middleware added after :func:`build_app` would not see them, so hot
    routes then step aside; a middleware that must see every request wraps the finished app
    (as the negative controls in meshcert_simulators/defects/ do)."""

    hot: HotRoutes
    stack_size: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.hot.match(scope) if len(self.user_middleware) == self.stack_size else None
        if found is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        await self.hot.serve(*found, scope, receive, send)


def build_app(settings: Settings, *, title: str, description: str, version: str = "1.0.0",
              on_shutdown: Callable[[], None] | None = None,
              form_paths: Iterable[str] = ()) -> FastAPI:
    """A FastAPI app with the shared edge behaviour; the simulator adds its routes to it.

    ``form_paths`` take form-encoded bodies instead of JSON (e.g. an OAuth token endpoint).
    A hot route (meshcert_simulators.common.hot_routes) is added to ``app.state.hot_routes``.
    The caller check is ``app.state.authenticator``: replace it (or its ``verifier``) to change
    how callers are verified without touching a route.
    """
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        yield
        if on_shutdown:
            on_shutdown()

    # No OpenTelemetry: asking whether it is configured costs ~20 µs on every request.
    app = SimulatorApp(title=title, description=description, version=version, lifespan=lifespan,
                       docs_url=None, redoc_url=None,
                       telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.settings = settings
    app.state.authenticator = Authenticator.for_settings(settings)
    app.state.started_at = datetime.now(UTC).isoformat(timespec="seconds")
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    # Inside the edge (added first): injected errors get a request id and an access-log line.
    plans = faults.install(app)
    app.add_middleware(faults.FaultMiddleware, plans=plans)
    app.add_middleware(EdgeMiddleware, max_body_bytes=settings.max_body_bytes,
                       log=settings.access_log, form_paths=frozenset(form_paths))
    app.state.hot_routes = []
    app.hot = HotRoutes(app.state.hot_routes, plans, settings.access_log,
                      settings.max_body_bytes)
    app.stack_size = len(app.user_middleware)

    @app.get("/health", tags=["health"], summary="Liveness and identity of this simulator",
             operation_id="getHealth", response_model=Health,
             openapi_extra={"security": []})  # public: health checks carry no credentials
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "simulator": settings.name,
                             "kind": settings.spec.kind, "version": version,
                             "harness_version": HARNESS_VERSION,
                             "started_at": app.state.started_at})

    return app


def build_stored_app(settings: Settings, schema: str, *, title: str, description: str,
                     capture: bool = True) -> tuple[FastAPI, Database]:
    """:func:`build_app` for a simulator that keeps state: its SQLite file
    ``<data_dir>/<name>.sqlite3`` with ``schema`` (closed at shutdown); with ``capture``, its
    exchanges kept for the harness (meshcert_simulators.common.exchanges)."""
    db = Database(Path(settings.data_dir) / f"{settings.name}.sqlite3", schema,
                  settings.sqlite_synchronous)
    app = build_app(settings, title=title, description=description, on_shutdown=db.close)
    if capture:
        exchanges.install(app)
    return app, db
