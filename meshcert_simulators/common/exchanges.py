"""Exchange capture: what crossed a counterpart simulator's boundary, for the harness to judge.

When meshcert certifies a system that *calls* a simulator (an inquirer calling the mesh), the
simulator is the harness's only view of that system: the suites read what it sent — every
request, the answer it got, when — through ``GET /admin/exchanges`` (admin credential),
filtered by the authenticated client and paged by ``after`` (a sequence number).

Injected faults are captured as the caller saw them (an injected 503, a dropped connection with
no status), because the capture sits outside the fault middleware. Exchanges live in memory,
the newest :data:`MAX_EXCHANGES` of them: they are observations for a run, not records (the
simulators' own records are durable). Bodies are kept up to :data:`MAX_BODY_CHARS` characters.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Query
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshcert_simulators.common.faults import EXEMPT_PATHS, client_id_of

EXCHANGES_PATH = "/admin/exchanges"
MAX_EXCHANGES = 20_000
MAX_BODY_CHARS = 65_536
REDACTED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


class Exchange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int
    at: str                      # when the request arrived (UTC, microseconds)
    client_id: str | None
    method: str
    path: str
    query: str
    # What the caller sent in its headers (credentials redacted): an identifier may ride there.
    request_headers: dict[str, str] = {}
    status: int | None           # None: no response was sent (a dropped connection)
    request_body: str
    response_body: str
    duration_ms: float


class ExchangeList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exchanges: list[Exchange]
    last_seq: int                # pass as ``after`` to read only what comes later


class ExchangeLog:
    """A bounded, thread-safe, append-only list of exchanges numbered from 1. Kept as plain
    fields and made :class:`Exchange` models only when read (most are never read)."""

    def __init__(self, capacity: int = MAX_EXCHANGES) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._seq = 0

    def add(self, **fields: object) -> None:
        with self._lock:
            self._seq += 1
            self._items.append({"seq": self._seq, **fields})

    @property
    def last_seq(self) -> int:
        return self._seq

    def read(self, *, after: int = 0, client_id: str | None = None,
             path_prefix: str | None = None, limit: int = 1000) -> list[Exchange]:
        with self._lock:
            items = list(self._items)
        found = [e for e in items
                 if e["seq"] > after and (client_id is None or e["client_id"] == client_id)
                 and (path_prefix is None or e["path"].startswith(path_prefix))][:limit]
        return [Exchange(**e) for e in found]


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")[:MAX_BODY_CHARS]


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (repeats joined by ", "), credentials
    redacted: kept so the harness can judge what a caller sent in them, not to replay it."""
    kept: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = "[redacted]" if name in REDACTED_HEADERS else raw_value.decode("latin-1")
        kept[name] = f"{kept[name]}, {value}" if name in kept else value
    return kept


class CaptureMiddleware:
    """Records each HTTP exchange (except health and the admin endpoints) in an ExchangeLog."""

    def __init__(self, app: ASGIApp, log: ExchangeLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in EXEMPT_PATHS or path.startswith("/admin/"):
            await self.app(scope, receive, send)
            return
        arrived = datetime.now(UTC)
        started = time.perf_counter()
        request: list[bytes] = []
        response: list[bytes] = []
        status: list[int] = []

        async def receive_kept() -> Message:
            message = await receive()
            if message["type"] == "http.request" and sum(map(len, request)) < MAX_BODY_CHARS:
                request.append(message.get("body", b""))
            return message

        async def send_kept(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            elif message["type"] == "http.response.body" \
                    and sum(map(len, response)) < MAX_BODY_CHARS:
                response.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_kept, send_kept)
        finally:
            keep(self.log, scope, arrived, started, status[0] if status else None,
                 b"".join(request), b"".join(response))


def keep(log: ExchangeLog, scope: Scope, arrived: datetime, started: float,
         status: int | None, request_body: bytes, response_body: bytes) -> None:
    """Add one exchange to ``log`` (``started``: time.perf_counter() at arrival)."""
    # The client the app authenticated; else the one the bearer token names, if any.
    client_id = scope.get("state", {}).get("client_id") or client_id_of(scope)
    log.add(at=arrived.isoformat(timespec="microseconds"), client_id=client_id,
            method=scope["method"], path=scope.get("path", ""),
            query=scope.get("query_string", b"").decode("latin-1"),
            request_headers=_headers(scope), status=status,
            request_body=_text(request_body), response_body=_text(response_body),
            duration_ms=round((time.perf_counter() - started) * 1000, 3))


def install(app: FastAPI) -> None:
    """Capture this app's exchanges and serve them at ``GET /admin/exchanges`` (admin only).

    Call after :func:`meshcert_simulators.common.app.build_app`: the capture then wraps the fault
    middleware, so injected faults are recorded as the caller saw them."""
    from meshcert_simulators.common.auth import ADMIN_ROLE, require

    log = ExchangeLog()
    app.state.exchanges = log

    # The harness's control plane, like the fault API: kept out of the canonical contracts.
    @app.get(EXCHANGES_PATH, response_model=ExchangeList, include_in_schema=False)
    async def list_exchanges(
            request: Request, after: Annotated[int, Query(ge=0)] = 0,
            client_id: Annotated[str | None, Query(max_length=128)] = None,
            path_prefix: Annotated[str | None, Query(max_length=512)] = None,
            limit: Annotated[int, Query(ge=1, le=MAX_EXCHANGES)] = 1000) -> Response:
        require(app.state.authenticator.authenticate(request), ADMIN_ROLE)
        out = ExchangeList(exchanges=log.read(after=after, client_id=client_id,
                                              path_prefix=path_prefix, limit=limit),
                           last_seq=log.last_seq)
        return Response(out.model_dump_json(), media_type="application/json")

    app.add_middleware(CaptureMiddleware, log=log)
    hot = getattr(app, "hot", None)
    if hot is not None:
        # The app's hot routes skip the middleware stack: they report their exchanges here.
        hot.observers.append(functools.partial(keep, log))
        app.stack_size = len(app.user_middleware)  # type: ignore[attr-defined]
