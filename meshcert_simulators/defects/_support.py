"""What the register's negative controls are built from: an overriding subclass put in place of
the app's registry or move-out rules, and ASGI middlewares that rewrite JSON requests or
responses on their way in or out (a vendor's faulty edge, as seen from the wire)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshcert_simulators.common.app import replayed
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import MIB

T = TypeVar("T")
Patch = Callable[[Any], None]
Wrap = Callable[[Any], Any]


def override(obj: Any, cls: type[T]) -> T:
    """``obj`` as an instance of ``cls`` (a subclass of its class), with the same state."""
    assert isinstance(cls, type) and issubclass(cls, type(obj)), (cls, type(obj))
    twin = object.__new__(cls)
    twin.__dict__.update(obj.__dict__)
    return twin


def registry_as(cls: type) -> Patch:
    """Put an overriding subclass of the Registry in place of ``app.state.registry``."""
    def patch(app: Any) -> None:
        app.state.registry = override(app.state.registry, cls)
    return patch


def moveout_rules(rules: Any) -> Patch:
    """Put other move-out rules in place of ``app.state.moveout_rules``."""
    def patch(app: Any) -> None:
        app.state.moveout_rules = rules
    return patch


MOVEMENTS = re.compile(r"^/municipalities/[0-9]{6}/movements$")
CHANGES = re.compile(r"^/municipalities/[0-9]{6}/changes$")


def _matches(scope: Scope, method: str, path: re.Pattern[str]) -> bool:
    return (scope["type"] == "http" and scope["method"] == method
            and bool(path.fullmatch(scope["path"])))


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    return [*kept, (b"content-length", str(length).encode("ascii"))]


def rewrite_requests(method: str, path: re.Pattern[str],
                     rewrite: Callable[[Any], Any] | None = None,
                     refuse: Callable[[Any], Problem | None] | None = None) -> Wrap:
    """A middleware that changes matching JSON request bodies with ``rewrite`` before the app
    sees them, or answers with the problem ``refuse`` returns (None lets the request pass)."""
    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if not _matches(scope, method, path):
                await app(scope, receive, send)
                return
            body = await _read_body(receive)
            # Only well-formed bodies within the size limit are touched: anything else reaches
            # the app as sent, so the defect changes nothing but what it is about.
            data, problem = None, None
            if len(body) <= MIB:
                try:
                    data = json.loads(body)
                    problem = refuse(data) if refuse is not None else None
                    changed = rewrite(data) if rewrite is not None else data
                    if changed != data:
                        body = json.dumps(changed, ensure_ascii=False).encode("utf-8")
                        scope = {**scope, "headers": _with_length(scope["headers"], len(body))}
                except (ValueError, TypeError, AttributeError, RecursionError):
                    problem = None  # not JSON the defect understands: the reference answers
            if problem is not None:
                await problem.response(scope["path"])(scope, receive, send)
                return
            await app(scope, replayed(body, receive), send)
        return middleware
    return wrap


def rewrite_responses(method: str, path: re.Pattern[str],
                      rewrite: Callable[[Any], Any] | None = None,
                      instead: Callable[[Any], Problem | None] | None = None) -> Wrap:
    """A middleware that changes matching successful JSON responses with ``rewrite``, or
    answers the problem ``instead`` returns for one (None keeps the response)."""
    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if not _matches(scope, method, path):
                await app(scope, receive, send)
                return
            start: Message | None = None
            chunks: list[bytes] = []

            async def capture(message: Message) -> None:
                nonlocal start
                if message["type"] == "http.response.start":
                    start = message
                    return
                if message["type"] != "http.response.body" or start is None:
                    await send(message)
                    return
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                content_type = dict(start.get("headers", [])).get(b"content-type", b"")
                if start["status"] == 200 and content_type.startswith(b"application/json"):
                    data = json.loads(body)
                    problem = instead(data) if instead is not None else None
                    if problem is not None:
                        await problem.response(scope["path"])(scope, receive, send)
                        return
                    if rewrite is not None:
                        body = json.dumps(rewrite(data), ensure_ascii=False,
                                          separators=(",", ":")).encode("utf-8")
                        start["headers"] = _with_length(list(start.get("headers", [])),
                                                        len(body))
                await send(start)
                await send({"type": "http.response.body", "body": body, "more_body": False})

            await app(scope, receive, capture)
        return middleware
    return wrap


def strings(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` (parsed JSON) with ``change`` applied to every string in it."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [strings(v, change) for v in value]
    if isinstance(value, dict):
        return {k: strings(v, change) for k, v in value.items()}
    return value
