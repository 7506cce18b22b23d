"""Hot routes: the few requests a simulator answers far more often than any other (the
registry's resident read, the mesh's inquiry, the provider's provision), served ahead of the
framework's middleware stack.

The full stack (the framework's own layers, the edge, fault plans, exception handlers, the
router) costs more per request than the work of a hot read itself. A hot route skips it while
keeping what the edge promises: the request id (the caller's, or a fresh one) in an
``X-Request-Id`` header, one access-log line, problem+json for a
:class:`~meshcert_simulators.common.problems.Problem` the endpoint raises (answered as the
framework's
handler answers it), a 500 problem for anything else.

It steps aside, and the request takes the whole stack, whenever a fault plan is active (so
injected faults apply to it as to every request) or the request is not exactly the route's:
another method, or a path outside the route's pattern — and, for a request with a body, unless
it declares a JSON media type and a ``Content-Length`` within the app's body limit (the edge's
415 and 413 answers stay the edge's). The documented route of the same path stays in the app,
so the contract and every answer outside the hot one are unchanged.

A middleware that watches exchanges (the exchange capture) registers an :data:`Observer`
instead of being skipped: each hot exchange is reported to it, as the middleware would have
seen it — the request body included when the endpoint refused without reading it (read before
the answer, as the edge reads it first).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette._utils import get_route_path
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from meshcert_simulators.common import access_log
from meshcert_simulators.common.http import BODY_METHODS, edge_headers, is_json_media_type
from meshcert_simulators.common.problems import Problem, standard_problem

Endpoint = Callable[[Request], Awaitable[Response]]
# (scope, arrived, started, status, request body, response body) of one hot exchange;
# ``started`` is time.perf_counter() at arrival.
Observer = Callable[[Scope, datetime, float, int, bytes, bytes], None]


@dataclass(frozen=True)
class HotRoute:
    """Requests of ``method`` whose path fully matches ``pattern`` (its named groups become the
    path parameters) go to ``endpoint``."""

    method: str
    pattern: re.Pattern[str]
    endpoint: Endpoint


class HotRoutes:
    """The hot routes of one app and how they are answered (see the module docstring).

    ``routes`` and ``plans`` are the app's live collections: routes added and fault plans set
    after the app is built count from the next request on."""

    def __init__(self, routes: list[HotRoute], plans: Mapping[str, Any], log: bool,
                 max_body_bytes: int) -> None:
        self.routes = routes
        self.plans = plans
        self.log = log
        self.max_body_bytes = max_body_bytes
        self.observers: list[Observer] = []

    def match(self, scope: Scope) -> tuple[HotRoute, dict[str, str]] | None:
        """The route that takes this request and its path parameters; None: the full stack."""
        if scope["type"] == "http" and not self.plans:
            for route in self.routes:
                if scope["method"] == route.method:
                    found = route.pattern.fullmatch(get_route_path(scope))
                    if found is not None and (route.method not in BODY_METHODS
                                              or self._plain_json(scope)):
                        return route, found.groupdict()
        return None

    def _plain_json(self, scope: Scope) -> bool:
        """A body the edge would pass as it is: JSON, its length declared and within limit."""
        headers = edge_headers(scope["headers"])
        length = headers.get("content-length", "")
        return (length.isdigit() and int(length) <= self.max_body_bytes
                and is_json_media_type(headers.get("content-type", "")))

    async def serve(self, route: HotRoute, params: dict[str, str], scope: Scope,
                     receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        arrived = datetime.now(UTC) if self.observers else None
        given = edge_headers(scope["headers"]).get("x-request-id", "")
        request_id = access_log.request_id_of(given)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        scope["path_params"] = params
        status = 500
        request = Request(scope, receive)
        try:
            try:
                response = await route.endpoint(request)
            except Problem as problem:
                response = problem.response(scope["path"], request_id)
            except ClientDisconnect:
                # The caller went away mid-body: not our error (no traceback); the answer
                # below reaches no one but keeps the status in the log and the capture.
                response = standard_problem(400, "the request body ended early").response(
                    scope["path"], request_id)
            except Exception as exc:
                logging.getLogger("meshcert").exception("unhandled error", exc_info=exc)
                response = standard_problem(500, "an internal error occurred; see the "
                                                 "simulator log").response(scope["path"],
                                                                           request_id)
            status = response.status_code
            # An endpoint that refuses early (401, 403) has not read the body: read it before
            # answering, while the request is open (after the answer the server reports only a
            # disconnect), so the refused exchange is captured with what was sent.
            body = await _body_of(request) if arrived is not None else b""
            await send({"type": "http.response.start", "status": status,
                        "headers": [*response.raw_headers,
                                    (b"x-request-id", request_id.encode("ascii"))]})
            await send({"type": "http.response.body", "body": response.body})
            if arrived is not None:
                for observe in self.observers:
                    observe(scope, arrived, started, status, body, response.body)
        finally:
            if self.log:
                access_log.write(scope["method"], scope["path"], request_id, status, started,
                                 state.get("client_id"))


async def _body_of(request: Request) -> bytes:
    """The request's body; empty when the client went away before sending all of it."""
    try:
        return await request.body()
    except ClientDisconnect:
        return b""
