"""Fault injection, on every simulator (DESIGN.md: simulators are reference implementations).

The resilience suites put a **fault plan** on a simulator through its admin endpoints (admin
role):

- ``PUT /admin/faults/{scope}`` sets the plan of ``scope`` (replacing any earlier one);
- ``GET /admin/faults`` lists the active plans;
- ``DELETE /admin/faults/{scope}`` clears it.

**Scoping.** A plan applies only to requests that carry ``X-Meshcert-Run: <scope>`` (a
certification run sets that header on all of its requests), so two runs with different scopes
never see each other's faults. The scope ``global`` applies to every request instead. A request
whose run has a plan gets that plan, and only otherwise the ``global`` one (plans do not stack).
Scopes named ``global.<name>`` also apply to every request, each only to the requests its
``match`` holds for, so that several plans aimed at different requests (a body naming one person
each) run side by side: a request that got no plan from its run or ``global`` gets the first of
them whose match holds.
``GET /health`` and the ``/admin/faults`` endpoints themselves are never faulted.

**A plan** (strict; anything else is a 422 problem): ``match`` narrows which requests it hits
(``method``, ``path_prefix``, ``path_regex``, ``client_id``, ``body_contains``: a text the
request body must contain; all given must hold), then any of

- ``latency``: fixed milliseconds (a number, or ``{"distribution": "fixed", "ms": ..}``),
  ``{"distribution": "uniform", "min_ms": .., "max_ms": ..}`` or
  ``{"distribution": "normal", "mean_ms": .., "stddev_ms": .., "cap_ms": ..}``;
- ``error``: ``{"rate": 0..1, "status": 4xx/5xx, "retry_after": seconds}``, answered as
  problem+json (with ``Retry-After`` when given) without reaching the simulator;
- ``drop``: ``{"rate": 0..1}``: the TCP connection is closed without any response;
- ``slow_body``: ``{"chunk_bytes": .., "delay_ms": ..}``: the body sent in small pieces;
- ``clock_skew_s``: the simulator's clock, as read through :func:`now`, shifted for the
  requests the plan hits;
- ``seed``: seeds the plan's random draws, so a resilience test can be replayed exactly (every
  matching request draws the same numbers in the same order, whichever faults fire);
- ``max_hits``: the plan hits at most this many matching requests, then lets the rest through
  ("the first two calls fail"); ``GET /admin/faults`` shows the count as ``hits``.

Certificate expiry is not injected here (it belongs to the TLS material,
meshcert_simulators.common.tls).
Plans live in memory: they are test settings, not records, and go with the process.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import random
import re
import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import FastAPI
from fastapi import Path as PathParam
from pydantic import BeforeValidator, Field, field_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshcert_simulators.common.http import whole_number
from meshcert_simulators.common.problems import Problem, standard_problem
from meshcert_simulators.common.wire import WireModel

RUN_HEADER = "x-meshcert-run"
GLOBAL_SCOPE = "global"
GLOBAL_FAMILY = GLOBAL_SCOPE + "."
MAX_MATCHED_BODY = 1 << 20  # a body longer than this is never matched by body_contains
SCOPE_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
FAULTS_PATH = "/admin/faults"
EXEMPT_PATHS = frozenset({"/health"})

ScopePath = Annotated[str, PathParam(pattern=SCOPE_PATTERN,
                                     description="Run scope (X-Meshcert-Run) or 'global'")]

_skew: contextvars.ContextVar[float] = contextvars.ContextVar("meshcert_clock_skew", default=0.0)


def now() -> datetime:
    """The current UTC time as the simulator should see it: shifted by an active clock-skew
    fault for this request, the plain clock otherwise."""
    skew = _skew.get()
    current = datetime.now(UTC)
    return current + timedelta(seconds=skew) if skew else current


# -- the plan ----------------------------------------------------------------------------------


Rate = Annotated[float, Field(ge=0.0, le=1.0), BeforeValidator(
    lambda v: float(v) if isinstance(v, int) and not isinstance(v, bool) else v)]
Millis = Annotated[float, Field(ge=0.0, le=120_000.0), BeforeValidator(
    lambda v: float(v) if isinstance(v, int) and not isinstance(v, bool) else v)]


class FaultMatch(WireModel):
    method: Annotated[str, Field(pattern=r"^[A-Za-z]{1,16}$")] | None = None
    path_prefix: Annotated[str, Field(pattern=r"^/", max_length=512)] | None = None
    path_regex: Annotated[str, Field(max_length=512)] | None = None
    client_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    body_contains: Annotated[str, Field(min_length=1, max_length=256)] | None = None

    @field_validator("path_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value


class FaultLatencyFixed(WireModel):
    distribution: Literal["fixed"]
    ms: Millis


class FaultLatencyUniform(WireModel):
    distribution: Literal["uniform"]
    min_ms: Millis
    max_ms: Millis


class FaultLatencyNormal(WireModel):
    distribution: Literal["normal"]
    mean_ms: Millis
    stddev_ms: Millis
    cap_ms: Millis


# A bare number is fixed milliseconds.
Latency = Millis | Annotated[FaultLatencyFixed | FaultLatencyUniform | FaultLatencyNormal,
                             Field(discriminator="distribution")]


class FaultError(WireModel):
    rate: Rate
    status: whole_number(400, 599)  # type: ignore[valid-type]
    retry_after: whole_number(0, 86_400) | None = None  # type: ignore[valid-type]


class FaultDrop(WireModel):
    rate: Rate


class FaultSlowBody(WireModel):
    chunk_bytes: whole_number(1, 65_536) = 16  # type: ignore[valid-type]
    delay_ms: Annotated[float, Field(ge=0.0, le=10_000.0)] = 50.0


class FaultPlan(WireModel):
    """What to inject, and into which requests of the scope."""

    match: FaultMatch | None = None
    latency: Latency | None = None
    error: FaultError | None = None
    drop: FaultDrop | None = None
    slow_body: FaultSlowBody | None = None
    clock_skew_s: Annotated[float, Field(ge=-3.2e8, le=3.2e8), BeforeValidator(
        lambda v: float(v) if isinstance(v, int) and not isinstance(v, bool) else v)] | None = None
    seed: whole_number(0, 2**63 - 1) | None = None  # type: ignore[valid-type]
    max_hits: whole_number(1, 1_000_000) | None = None  # type: ignore[valid-type]
    hits: Annotated[int, Field(description="requests hit so far (read-only)")] | None = None

    def matches(self, method: str, path: str, client_id: str | None,
                body: bytes | None = None) -> bool:
        m = self.match
        if m is None:
            return True
        return ((m.method is None or m.method.upper() == method)
                and (m.path_prefix is None or path.startswith(m.path_prefix))
                and (m.path_regex is None or re.search(m.path_regex, path) is not None)
                and (m.client_id is None or m.client_id == client_id)
                and (m.body_contains is None
                     or (body is not None and m.body_contains.encode() in body)))

    @property
    def reads_body(self) -> bool:
        return self.match is not None and self.match.body_contains is not None


class FaultsOut(WireModel):
    faults: dict[str, FaultPlan]


class ActivePlan:
    """A plan and its random source (draws serialised, so a seeded plan replays exactly)."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.random = random.Random(plan.seed)
        self.lock = threading.Lock()
        self.hits = 0

    def take(self) -> bool:
        """Count one matching request; False once the plan's ``max_hits`` are used up."""
        with self.lock:
            if self.plan.max_hits is not None and self.hits >= self.plan.max_hits:
                return False
            self.hits += 1
            return True

    def draw(self) -> tuple[bool, bool, float]:
        """(drop?, error?, latency seconds) for one request, always in the same order."""
        plan = self.plan
        with self.lock:
            drop = plan.drop is not None and self.random.random() < plan.drop.rate
            error = plan.error is not None and self.random.random() < plan.error.rate
            latency = plan.latency
            if isinstance(latency, float):
                ms = latency
            elif isinstance(latency, FaultLatencyFixed):
                ms = latency.ms
            elif isinstance(latency, FaultLatencyUniform):
                ms = self.random.uniform(min(latency.min_ms, latency.max_ms),
                                         max(latency.min_ms, latency.max_ms))
            elif isinstance(latency, FaultLatencyNormal):
                ms = min(latency.cap_ms, max(0.0, self.random.gauss(latency.mean_ms,
                                                                    latency.stddev_ms)))
            else:
                ms = 0.0
        return drop, error, ms / 1000


# -- the middleware ----------------------------------------------------------------------------


def _shut_socket(scope: Scope) -> bool:
    """Shut the TCP connection of this request down (no response at all). ASGI gives no handle
    on the socket, so find it among the process's descriptors by its two addresses."""
    client, server = scope.get("client"), scope.get("server")
    if not client or not server:
        return False
    want = ((client[0], client[1]), (server[0], server[1]))
    try:
        fds = [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:
        return False
    for fd in fds:
        try:
            probe = socket.fromfd(fd, socket.AF_INET if ":" not in client[0] else socket.AF_INET6,
                                  socket.SOCK_STREAM)
        except OSError:
            continue
        try:
            if (probe.type == socket.SOCK_STREAM
                    and tuple(probe.getpeername()[:2]) == want[0]
                    and tuple(probe.getsockname()[:2]) == want[1]):
                probe.shutdown(socket.SHUT_RDWR)
                return True
        except OSError:
            pass
        finally:
            probe.close()
    return False


class FaultMiddleware:
    """Applies the active plans. With none set, a request costs one emptiness check."""

    def __init__(self, app: ASGIApp, plans: dict[str, ActivePlan]) -> None:
        self.app = app
        self.plans = plans

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.plans or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        active, receive = await self._plan_for(scope, receive)
        if active is None:
            await self.app(scope, receive, send)
            return
        plan = active.plan
        drop, error, delay = active.draw()
        if delay:
            await asyncio.sleep(delay)
        if drop:
            await self._drop(scope, receive)
            return
        if error and plan.error is not None:
            headers = ({"Retry-After": str(plan.error.retry_after)}
                       if plan.error.retry_after is not None else None)
            problem = standard_problem(plan.error.status, "injected by a fault plan")
            if headers:
                problem.headers.update(headers)
            request_id = scope.get("state", {}).get("request_id")
            await problem.response(scope["path"], request_id)(scope, receive, send)
            return
        if plan.slow_body is not None:
            send = _slowed(send, plan.slow_body)
        token = _skew.set(plan.clock_skew_s) if plan.clock_skew_s else None
        try:
            await self.app(scope, receive, send)
        finally:
            if token is not None:
                _skew.reset(token)

    async def _plan_for(self, scope: Scope, receive: Receive
                        ) -> tuple[ActivePlan | None, Receive]:
        """The plan for this request (see the module docstring), and the ``receive`` to pass on
        (a replay of the body when a plan had to read it)."""
        path = scope["path"]
        if path in EXEMPT_PATHS or path.startswith(FAULTS_PATH):
            return None, receive
        run = next((v.decode("latin-1") for k, v in scope["headers"]
                    if k.lower() == RUN_HEADER.encode()), None)
        first = (self.plans.get(run) if run else None) or self.plans.get(GLOBAL_SCOPE)
        family = [a for name, a in list(self.plans.items()) if name.startswith(GLOBAL_FAMILY)]
        candidates = ([first] if first is not None else []) + family
        body: bytes | None = None
        if any(a.plan.reads_body for a in candidates):
            body, receive = await _read_body(receive)
        for active in candidates:
            plan = active.plan
            client_id = client_id_of(scope) if plan.match and plan.match.client_id else None
            if plan.matches(scope["method"], path, client_id, body):
                return (active if active.take() else None), receive
        return None, receive

    @staticmethod
    async def _drop(scope: Scope, receive: Receive) -> None:
        if not _shut_socket(scope):
            return  # in-process (no socket): the caller gets no response at all
        try:  # let the server see the disconnect, so it does not answer a 500 either
            async with asyncio.timeout(2):
                while (await receive())["type"] != "http.disconnect":
                    pass
        except TimeoutError:
            pass


async def _read_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The whole request body (None past MAX_MATCHED_BODY), and a ``receive`` that hands the
    application the same messages again."""
    messages: list[Message] = []
    size, more = 0, True
    while more:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return (body if size <= MAX_MATCHED_BODY else None), replayed


def client_id_of(scope: Scope) -> str | None:
    """The client a request's bearer token names, if the app can tell (None otherwise)."""
    app = scope.get("app")
    authenticator = getattr(getattr(app, "state", None), "authenticator", None)
    if authenticator is None:
        return None
    for key, value in scope["headers"]:
        if key.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                try:
                    return authenticator.identify(token.strip()).client_id
                except Exception:
                    return None
    return None


def _slowed(send: Send, slow: FaultSlowBody) -> Send:
    async def trickle(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        size = slow.chunk_bytes
        pieces = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
        for index, piece in enumerate(pieces):
            if index:
                await asyncio.sleep(slow.delay_ms / 1000)
            await send({"type": "http.response.body", "body": piece,
                        "more_body": more or index < len(pieces) - 1})

    return trickle


# -- the admin endpoints -----------------------------------------------------------------------


def install(app: FastAPI) -> dict[str, ActivePlan]:
    """Add the admin endpoints and return the plan table for :class:`FaultMiddleware`."""
    from meshcert_simulators.common.auth import ADMIN_ROLE, require
    from meshcert_simulators.common.http import json_body

    plans: dict[str, ActivePlan] = {}
    app.state.faults = plans
    # The fault API is the harness's control plane, not part of any simulator's canonical
    # contract (vendors implement those contracts), so it stays out of the OpenAPI documents.
    hidden = {"include_in_schema": False}

    def admin(request: Request) -> None:
        require(app.state.authenticator.authenticate(request), ADMIN_ROLE)

    def listing() -> Response:
        out = FaultsOut(faults={k: v.plan.model_copy(update={"hits": v.hits})
                                for k, v in sorted(plans.items())})
        return Response(out.model_dump_json(exclude_none=True), media_type="application/json")

    @app.get(FAULTS_PATH, response_model=FaultsOut, **hidden,
             summary="Active fault plans by scope (admin credential)")
    async def list_faults(request: Request) -> Response:
        admin(request)
        return listing()

    @app.put(FAULTS_PATH + "/{scope}", response_model=FaultsOut, **hidden,
             summary="Set the fault plan of a run scope (admin credential)")
    async def put_faults(request: Request, scope: ScopePath) -> Response:
        admin(request)
        plan = await json_body(request, FaultPlan)
        if plan.hits is not None:
            raise Problem(422, "validation-error", "Invalid fault plan",
                          "hits is read-only (the count of requests a plan has hit)")
        plans[scope] = ActivePlan(plan)
        return listing()

    @app.delete(FAULTS_PATH + "/{scope}", status_code=204, **hidden,
                summary="Clear the fault plan of a run scope (admin credential)")
    async def delete_faults(request: Request, scope: ScopePath) -> Response:
        admin(request)
        plans.pop(scope, None)
        return Response(status_code=204)

    @app.api_route(FAULTS_PATH + "/{scope}", methods=["GET", "POST", "PATCH", "OPTIONS"],
                   include_in_schema=False)
    async def other_methods(scope: str) -> Response:
        # One route per method would make a 405 name only the first route's method in Allow.
        raise Problem(405, "method-not-allowed", "Method not allowed",
                      headers={"Allow": "PUT, DELETE"})

    return plans
