"""Negative controls of errors, the contract and latency (ERR-PROB-*, ERR-SCHEMA-*, PERF-READ-001).

Most are middlewares wrapped around the finished app, the way such bugs arrive in real systems:
a web server whose own error pages are HTML, a body-logging filter that chokes on bad JSON, a
serializer that names a field its own way, a lenient body binder, a slow data path. One changes
a setting (the body limit).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshcert_simulators.common.app import replayed
from meshcert_simulators.common.problems import PROBLEM_MEDIA_TYPE, problem_type
from meshcert_simulators.defects import defect

_BODY_METHODS = {"POST", "PUT", "PATCH"}


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body, and whether the client went away while sending it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False




def _with_header(headers: list[tuple[bytes, bytes]], name: bytes, value: bytes
                 ) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() != name] + [(name, value)]


def _content_type(headers: list[tuple[bytes, bytes]]) -> str:
    for key, value in headers:
        if key.lower() == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


class _ResponseRewriter:
    """Buffers the responses ``wanted(status, content_type)`` selects and lets ``rewrite``
    change status, headers and body; other responses pass as they are."""

    def __init__(self, app: ASGIApp,
                 wanted: Callable[[int, str], bool],
                 rewrite: Callable[[int, list[tuple[bytes, bytes]], bytes],
                                   tuple[int, list[tuple[bytes, bytes]], bytes]]) -> None:
        self.app, self.wanted, self.rewrite = app, wanted, rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if self.wanted(message["status"], _content_type(headers)):
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                status, headers, body = self.rewrite(start["status"],
                                                     list(start.get("headers", [])),
                                                     b"".join(chunks))
                headers = _with_header(headers, b"content-length", str(len(body)).encode())
                await send({**start, "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, capture)


# -- ERR-PROB-001: HTML error pages ----------------------------------------------------------------

_SERVER_LEVEL = {problem_type(s) for s in ("not-found", "method-not-allowed",
                                           "unsupported-media-type")}
_REASONS = {404: "Not Found", 405: "Method Not Allowed", 415: "Unsupported Media Type"}


def _html_error_page(status: int, headers: list[tuple[bytes, bytes]], body: bytes
                     ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    try:
        kind = json.loads(body).get("type")
    except (ValueError, AttributeError):
        kind = None
    if kind not in _SERVER_LEVEL:
        return status, headers, body
    reason = _REASONS.get(status, "Error")
    page = (f"<!DOCTYPE html><html><head><title>{status} {reason}</title></head><body>"
            f"<h1>{status} {reason}</h1><hr><address>app server</address></body></html>")
    return status, _with_header(headers, b"content-type", b"text/html; charset=utf-8"), \
        page.encode()


def _html_errors(app: ASGIApp) -> ASGIApp:
    return _ResponseRewriter(
        app, lambda status, ctype: status in _REASONS and ctype == PROBLEM_MEDIA_TYPE,
        _html_error_page)


defect("html-errors", "municipal", "ERR-PROB-001",
       "the web server's own error pages (unknown path 404, 405, 415) are HTML, not "
       "problem+json",
       wrap=_html_errors)


# -- ERR-PROB-002: malformed JSON crashes the request ----------------------------------------------


class _BodyLogger:
    """A request-logging filter that decodes every JSON body (and fails on a malformed one,
    so the server answers 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        body, gone = await _read_body(receive)
        if body and not gone and "json" in _content_type(list(scope["headers"])):
            json.loads(body)  # the bug: a malformed body raises out of the middleware
        await self.app(scope, replayed(body, receive), send)


defect("crash-on-malformed-json", "municipal", "ERR-PROB-002",
       "a body-logging middleware decodes JSON bodies unguarded: malformed JSON gives a 500",
       wrap=_BodyLogger)


# -- ERR-PROB-003: no body limit -------------------------------------------------------------------

defect("no-body-limit", "municipal", "ERR-PROB-003",
       "the request body limit is raised to 256 MiB (effectively none)",
       adjust=lambda s: replace(s, max_body_bytes=256 * 1024 * 1024))


# -- ERR-SCHEMA-001: a response field under another name -------------------------------------------


def _renamed(value: Any) -> Any:
    if isinstance(value, list):
        return [_renamed(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _renamed(v) for k, v in value.items()}
    if "atena_number" in out and "updated_at" in out:  # a resident record
        out["last_updated"] = out.pop("updated_at")
    return out


def _rename_field(status: int, headers: list[tuple[bytes, bytes]], body: bytes
                  ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    try:
        data = json.loads(body)
    except ValueError:
        return status, headers, body
    return status, headers, json.dumps(_renamed(data), ensure_ascii=False).encode()


defect("response-field-renamed", "municipal", "ERR-SCHEMA-001",
       "resident records are served with 'last_updated' instead of the contract's 'updated_at'",
       wrap=lambda app: _ResponseRewriter(
           app, lambda status, ctype: ctype == "application/json", _rename_field))


# -- ERR-SCHEMA-002: unknown request fields silently dropped ---------------------------------------


class _LenientBinder:
    """Drops request-body members the contract does not declare before the routes see them (a
    binder configured to ignore unknown properties) — so nothing is ever refused for them.
    It sits inside the app's edge middleware, where a binder belongs: body limit and media-type
    checks have already run."""

    def __init__(self, app: ASGIApp, contract: Callable[[], dict[str, Any]]) -> None:
        self.app = app
        self.contract = contract
        self._routes: list[tuple[re.Pattern[str], str, dict[str, Any]]] | None = None
        self._schemas: dict[str, Any] = {}

    def _load(self) -> list[tuple[re.Pattern[str], str, dict[str, Any]]]:
        if self._routes is None:
            doc = self.contract()
            self._schemas = doc.get("components", {}).get("schemas", {})
            self._routes = []
            for path, item in doc.get("paths", {}).items():
                pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
                for method, operation in item.items():
                    schema = (operation.get("requestBody", {}).get("content", {})
                              .get("application/json", {}).get("schema"))
                    if schema:
                        self._routes.append((pattern, method.upper(), schema))
        return self._routes

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self._schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def _prune(self, value: Any, schema: dict[str, Any]) -> Any:
        schema = self._resolve(schema)
        if isinstance(value, dict) and "discriminator" in schema:
            chosen = schema["discriminator"]["mapping"].get(
                value.get(schema["discriminator"]["propertyName"]))
            return self._prune(value, {"$ref": chosen}) if chosen else value
        if isinstance(value, dict) and "properties" in schema:
            declared = schema["properties"]
            if schema.get("additionalProperties") is False:
                value = {k: v for k, v in value.items() if k in declared}
            return {k: self._prune(v, declared[k]) if k in declared else v
                    for k, v in value.items()}
        if isinstance(value, list) and "items" in schema:
            return [self._prune(v, schema["items"]) for v in value]
        for option in schema.get("anyOf", []) + schema.get("oneOf", []):
            resolved = self._resolve(option)
            if (isinstance(value, dict) and "properties" in resolved) or (
                    isinstance(value, list) and resolved.get("type") == "array"):
                return self._prune(value, resolved)
        return value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        schema = next((s for pattern, method, s in self._load()
                       if method == scope["method"] and pattern.match(scope["path"])), None)
        body, gone = await _read_body(receive)
        if schema is not None and body and not gone:
            try:
                body = json.dumps(self._prune(json.loads(body), schema),
                                  ensure_ascii=False).encode()
            except (ValueError, RecursionError):
                pass  # not for the binder to judge: the app refuses it
            else:
                headers = _with_header(list(scope["headers"]), b"content-length",
                                       str(len(body)).encode())
                scope = {**scope, "headers": headers}
        await self.app(scope, replayed(body, receive), send)


def _add_lenient_binder(app: Any) -> None:
    # Innermost of the app's own middleware (Starlette builds the stack on the first request).
    app.user_middleware.append(Middleware(_LenientBinder, contract=app.openapi))


defect("ignore-unknown-fields", "municipal", "ERR-SCHEMA-002",
       "request members the contract does not declare are silently dropped, not refused",
       patch=_add_lenient_binder)


# -- PERF-READ-001: slow resident reads ------------------------------------------------------------

_RESIDENT_READ = re.compile(r"^/municipalities/[^/]+/residents/[^/]+$")
SLOW_READ_S = 0.3


class _SlowReads:
    """Every read of a resident by 宛名番号 that finds one takes 300 ms longer (an unindexed
    lookup: refusals and misses come back as fast as before)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (scope["type"] == "http" and scope["method"] == "GET"
                and _RESIDENT_READ.match(scope["path"])):
            await self.app(scope, receive, send)
            return

        async def slowly(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                await asyncio.sleep(SLOW_READ_S)
            await send(message)

        await self.app(scope, receive, slowly)


defect("slow-reads", "municipal", "PERF-READ-001",
       "every read of a resident by 宛名番号 takes 300 ms longer", wrap=_SlowReads)
