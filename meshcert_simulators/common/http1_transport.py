"""Outgoing HTTP/1.1 for the mesh's hop to providers: an httpx transport over asyncio
protocols and the httptools parser (the one uvicorn uses), with kept-alive connections.

httpcore, httpx's own transport, costs most of a hop here: its pool checks each connection on
every request and response, and each read and write goes through anyio's stream layers. This
transport keeps a free list of idle connections per origin; a request takes one (or opens one),
writes the request in one call and waits for the parser to complete the response. It speaks
plain ``http`` only — a request to ``https`` (or a ``HEAD``) goes to ``fallback`` (httpx's
default transport), which keeps certificate checking in one well-tested place.

Errors are httpx's (``ConnectError``, ``ReadTimeout``, ``RemoteProtocolError``, ...), so callers
handle them as with any httpx transport. Timeouts are the request's (``connect`` and ``read``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httptools
import httpx

__all__ = ["Http1Transport", "post"]


class _Connection(asyncio.Protocol):
    """One kept-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[None] | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.reusable = False
        self.lost = False
        self.headers_done = False

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed response: {exc}"))

    def eof_received(self) -> bool | None:
        self.lost = True  # an idle connection the server closed is not taken again
        framing = {name.lower() for name, _ in self.headers} & {b"content-length",
                                                                b"transfer-encoding"}
        if self.headers_done and not framing:
            self.on_message_complete()  # a body delimited by the close (RFC 9112 §6.3)
            self.reusable = False
        else:
            self._fail(httpx.RemoteProtocolError("the server closed the connection "
                                                 "before the response was complete"))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._fail(httpx.ReadError(f"connection lost: {exc}" if exc else "connection lost"))

    # -- httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.reusable = self.parser.should_keep_alive()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, exc: Exception) -> None:
        self.reusable = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    async def exchange(self, raw: bytes, read_timeout: float | None
                       ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Send ``raw`` and wait for the whole response."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.headers, self.body, self.reusable, self.headers_done = [], [], False, False
        self.transport.write(raw)
        try:
            async with asyncio.timeout(read_timeout):
                await self.waiter
        except TimeoutError:
            raise httpx.ReadTimeout(f"no complete response within {read_timeout} s") from None
        finally:
            self.waiter = None
        return self.parser.get_status_code(), self.headers, b"".join(self.body)

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


class Http1Transport(httpx.AsyncBaseTransport):
    """Plain-HTTP/1.1 requests over kept-alive connections (module docstring)."""

    def __init__(self, fallback: httpx.AsyncBaseTransport | None = None,
                 max_idle_per_origin: int = 64) -> None:
        self.fallback = fallback or httpx.AsyncHTTPTransport()
        self.max_idle_per_origin = max_idle_per_origin
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._in_use: set[_Connection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http" or request.method == "HEAD":
            return await self.fallback.handle_async_request(request)
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        raw = _serialise(request, await request.aread())
        status, headers, body = await self._round_trip(url, raw, timeouts.get("connect"),
                                                       timeouts.get("read"))
        return httpx.Response(status, headers=headers, content=body,
                              extensions={"http_version": b"HTTP/1.1"})

    async def post(self, url: httpx.URL, headers: Sequence[tuple[bytes, bytes]], body: bytes,
                   timeout: float | None) -> tuple[int, bytes]:
        """POST ``body`` to a plain-``http`` ``url``; (status, body) of the answer. ``timeout``
        bounds connecting and waiting for the answer, as httpx's does. No httpx request or
        response is made: see :func:`post`."""
        head = [b"POST %s HTTP/1.1\r\nHost: %s\r\n" % (url.raw_path, url.netloc)]
        head.extend(b"%s: %s\r\n" % (name, value) for name, value in headers)
        head.append(b"Content-Length: %d\r\n\r\n" % len(body))
        status, _, content = await self._round_trip(url, b"".join(head) + body, timeout,
                                                    timeout)
        return status, content

    async def _round_trip(self, url: httpx.URL, raw: bytes, connect_timeout: float | None,
                          read_timeout: float | None
                          ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        origin = (url.host, url.port or 80)
        connection = await self._take(origin, connect_timeout)
        self._in_use.add(connection)
        try:
            answer = await connection.exchange(raw, read_timeout)
        except BaseException:
            connection.close()
            raise
        finally:
            self._in_use.discard(connection)
        self._give_back(origin, connection)
        return answer

    async def _take(self, origin: tuple[str, int], timeout: float | None) -> _Connection:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if not connection.lost:
                return connection
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(_Connection, *origin)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"no connection to {origin[0]}:{origin[1]} within "
                                       f"{timeout} s") from None
        except OSError as exc:
            raise httpx.ConnectError(f"{origin[0]}:{origin[1]}: {exc}") from None
        return connection

    def _give_back(self, origin: tuple[str, int], connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if connection.reusable and not connection.lost and len(idle) < self.max_idle_per_origin:
            idle.append(connection)
        else:
            connection.close()

    async def aclose(self) -> None:
        for connection in [c for idle in self._idle.values() for c in idle] + [*self._in_use]:
            connection.close()
        self._idle.clear()
        self._in_use.clear()
        await self.fallback.aclose()


def _serialise(request: httpx.Request, body: bytes) -> bytes:
    """The request as bytes on the wire: request line, headers (httpx sets Host and
    Content-Length), blank line, body."""
    target = request.url.raw_path
    lines = [b"%s %s HTTP/1.1" % (request.method.encode(), target)]
    lines.extend(b"%s: %s" % (name, value) for name, value in request.headers.raw)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def post(transport: httpx.AsyncBaseTransport, url: httpx.URL,
               headers: Sequence[tuple[bytes, bytes]], body: bytes, timeout: float | None
               ) -> tuple[int, bytes]:
    """POST ``body`` to ``url`` through ``transport`` and read the whole answer: (status, body).

    An :class:`Http1Transport` sending plain ``http`` is called directly (building httpx's
    request and response models cost as much as the hop itself); any other transport (the
    fallback, or a test's ``httpx.ASGITransport`` serving a provider in-process) goes through
    them. Either way errors are httpx's."""
    if isinstance(transport, Http1Transport) and url.scheme == "http":
        return await transport.post(url, headers, body, timeout)
    request = httpx.Request("POST", url, headers=list(headers), content=body,
                            extensions={"timeout": httpx.Timeout(timeout).as_dict()})
    response = await transport.handle_async_request(request)
    await response.aread()
    return response.status_code, response.content
