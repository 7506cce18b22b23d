"""The mesh's outgoing transport (meshcert_simulators.common.http1_transport) against small servers
on
127.0.0.1 that answer as scripted: kept-alive reuse, framing of every kind, the failures a
provider can cause, and the fallback for ``https``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from meshcert_simulators.common.http1_transport import Http1Transport, post

Answer = Callable[[bytes], bytes | None]  # request head + body -> raw response (None: hang)


def ok(body: bytes = b'{"ok":true}', close: bool = False) -> bytes:
    extra = b"Connection: close\r\n" if close else b""
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra +
            b"Content-Length: %d\r\n\r\n" % len(body) + body)


@asynccontextmanager
async def server(answer: Answer) -> AsyncIterator[tuple[str, list[int], list[bytes]]]:
    """A server answering each request with ``answer``; yields its URL, the number of each
    request's connection, and the requests seen."""
    connections: list[int] = []
    seen: list[bytes] = []
    opened = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal opened
        opened += 1
        mine = opened
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                request = head + await reader.readexactly(length)
                seen.append(request)
                connections.append(mine)
                response = answer(request)
                if response is None:
                    await asyncio.sleep(30)
                    return
                writer.write(response)
                await writer.drain()
                if b"connection: close" in response.lower():
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listening = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", connections, seen
    finally:
        listening.close()


def run(main: Callable[[], object]) -> None:
    asyncio.run(main())  # type: ignore[arg-type]


def test_a_kept_alive_connection_serves_the_next_requests() -> None:
    async def main() -> None:
        async with server(lambda _: ok()) as (url, connections, seen), \
                httpx.AsyncClient(transport=Http1Transport()) as client:
            for n in range(3):
                response = await client.post(f"{url}/v1/x?n={n}", content=b'{"a":1}',
                                             headers={"Authorization": "Bearer t"})
                assert response.status_code == 200 and response.json() == {"ok": True}
        assert connections == [1, 1, 1]
        first = seen[0]
        assert first.startswith(b"POST /v1/x?n=0 HTTP/1.1\r\n") and first.endswith(b'{"a":1}')
        assert b"\r\nauthorization: bearer t\r\n" in first.lower()
        assert b"\r\nhost: 127.0.0.1:" in first.lower()
    run(main)


def test_requests_at_once_get_connections_of_their_own() -> None:
    async def main() -> None:
        gate = asyncio.Event()

        async with server(lambda _: ok()) as (url, connections, _), \
                httpx.AsyncClient(transport=Http1Transport()) as client:
            async def call() -> int:
                await gate.wait()
                return (await client.get(url)).status_code

            calls = [asyncio.create_task(call()) for _ in range(4)]
            gate.set()
            assert await asyncio.gather(*calls) == [200] * 4
            assert len(set(connections)) == 4
            await client.get(url)  # an idle one is taken again
            assert len(set(connections)) == 4
    run(main)


def test_a_connection_the_server_closes_is_not_used_again() -> None:
    async def main() -> None:
        async with server(lambda _: ok(close=True)) as (url, connections, _), \
                httpx.AsyncClient(transport=Http1Transport()) as client:
            for _ in range(3):
                assert (await client.get(url)).status_code == 200
                await asyncio.sleep(0.01)
        assert connections == [1, 2, 3]
    run(main)


def test_chunked_and_close_delimited_bodies_are_read_whole() -> None:
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    until_close = b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\nno framing here"

    async def main() -> None:
        async with httpx.AsyncClient(transport=Http1Transport()) as client:
            async with server(lambda _: chunked) as (url, _, _):
                assert (await client.get(url)).text == "hello world"
            async with server(lambda _: until_close) as (url, _, _):
                response = await client.get(url)
                assert response.status_code == 502 and response.text == "no framing here"
    run(main)


@pytest.mark.parametrize(("answer", "error"), [
    (lambda _: b"this is not HTTP\r\n\r\n", httpx.RemoteProtocolError),
    (lambda _: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nshort",
     httpx.RemoteProtocolError),
    (lambda _: None, httpx.ReadTimeout),
])
def test_a_provider_that_answers_badly_or_not_at_all_gives_httpx_errors(
        answer: Answer, error: type[Exception]) -> None:
    async def main() -> None:
        async with server(answer) as (url, _, _), \
                httpx.AsyncClient(transport=Http1Transport()) as client:
            with pytest.raises(error):
                await client.get(url, timeout=0.3)
    run(main)


def test_nothing_listening_is_a_connect_error() -> None:
    async def main() -> None:
        async with server(lambda _: ok()) as (url, _, _):
            pass  # closed again: nothing listens on its port now
        async with httpx.AsyncClient(transport=Http1Transport()) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(url)
    run(main)


def test_https_goes_to_the_fallback_transport() -> None:
    asked: list[str] = []

    def fallback(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(204)

    async def main() -> None:
        transport = Http1Transport(fallback=httpx.MockTransport(fallback))
        async with httpx.AsyncClient(transport=transport) as client:
            assert (await client.get("https://provider.example/x")).status_code == 204
    run(main)
    assert asked == ["https://provider.example/x"]


def test_post_sends_the_same_request_directly_or_through_another_transport() -> None:
    """``post`` skips httpx's models for an Http1Transport; a test's transport sees the same
    request through them."""
    headers = [(b"Content-Type", b"application/json"), (b"Authorization", b"Bearer t")]
    through_models: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        through_models.append(request)
        return httpx.Response(201, content=b'{"via":"models"}')

    async def main() -> None:
        async with server(lambda _: ok(b'{"via":"wire"}')) as (url, _, seen):
            transport = Http1Transport()
            target = httpx.URL(f"{url}/v1/provisions?x=1")
            assert await post(transport, target, headers, b'{"q":1}', 5.0) == (
                200, b'{"via":"wire"}')
            await transport.aclose()
        wire = seen[0]
        assert wire.startswith(b"POST /v1/provisions?x=1 HTTP/1.1\r\nHost: 127.0.0.1:")
        assert b"\r\nContent-Length: 7\r\n\r\n{\"q\":1}" in wire
        assert b"\r\nAuthorization: Bearer t\r\n" in wire
        assert await post(httpx.MockTransport(provider), target, headers, b'{"q":1}', 5.0) == (
            201, b'{"via":"models"}')
    run(main)
    [request] = through_models
    assert request.content == b'{"q":1}' and request.headers["authorization"] == "Bearer t"
    assert request.extensions["timeout"]["read"] == 5.0
