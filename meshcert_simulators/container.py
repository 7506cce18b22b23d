"""The entry point of the meshcert image: ``python -m meshcert_simulators.container serve|health``.

``serve`` runs one simulator (``MESHCERT_SIMULATOR`` of ``MESHCERT_TOPOLOGY``) on all
interfaces of the container, on the topology's port. A topology names every simulator by
``127.0.0.1:<port>`` — the address the host reaches through the published port, the issuer
identity in access tokens, the name in the local TLS certificate — so inside a container that
address must reach the other simulators too: for each peer in ``MESHCERT_PEERS``
(``PORT=HOST:PORT,...``) a small TCP relay listens on ``127.0.0.1:PORT`` and passes bytes
through to ``HOST:PORT`` on the mesh's private network. TLS goes through the relay untouched,
so URLs, token issuers and certificates are the same inside and outside the containers.

``health`` asks the simulator's own ``GET /health`` (the image's HEALTHCHECK): exit 0 when it
answers 200 as this simulator, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import sys
import threading
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

PEERS_ENV = "MESHCERT_PEERS"
LISTEN_ALL = "0.0.0.0"
LOOPBACK = "127.0.0.1"
CONNECT_TIMEOUT_S = 5.0
CHUNK = 64 * 1024
HEALTH_FILE = Path("/tmp/meshcert-health.json")


def parse_peers(text: str) -> dict[int, tuple[str, int]]:
    """``"18100=authz:18100,18103=jlis:18103"`` -> {18100: ("authz", 18100), ...}."""
    peers: dict[int, tuple[str, int]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        local, _, remote = item.partition("=")
        host, _, port = remote.rpartition(":")
        if not (local.isdigit() and host and port.isdigit()):
            raise ValueError(f"{PEERS_ENV}: {item!r} is not PORT=HOST:PORT")
        peers[int(local)] = (host, int(port))
    return peers


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(CHUNK):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _relay(host: str, port: int) -> Handler:
    async def handle(client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        try:
            peer_reader, peer_writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError):
            # The peer is down or cut off: the caller sees its connection closed at once,
            # exactly what it would see from a stopped simulator, never a hang.
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, peer_writer),
                             _pipe(peer_reader, client_writer))
    return handle


async def _serve_relays(peers: dict[int, tuple[str, int]], ready: threading.Event) -> None:
    servers = [await asyncio.start_server(_relay(host, port), LOOPBACK, local)
               for local, (host, port) in peers.items()]
    ready.set()
    await asyncio.gather(*(server.serve_forever() for server in servers))


def start_relays(peers: dict[int, tuple[str, int]]) -> None:
    """Run the relays in a daemon thread with an event loop of their own."""
    if not peers:
        return
    ready = threading.Event()
    thread = threading.Thread(target=asyncio.run, args=(_serve_relays(peers, ready),),
                              name="meshcert-relays", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the peer relays did not start")


def health() -> int:
    """The image's health check, every few seconds: so it imports nothing heavy and reads what
    ``serve`` wrote down (the URL of this simulator's /health and the CA to trust)."""
    try:
        facts = json.loads(HEALTH_FILE.read_text(encoding="utf-8"))
        context = ssl.create_default_context(cafile=facts["ca"]) if facts["ca"] else None
        with urllib.request.urlopen(facts["url"], timeout=2, context=context) as response:
            body = json.loads(response.read())
    except (OSError, ValueError, KeyError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if not isinstance(body, dict) or body.get("simulator") != facts["name"]:
        print(f"unhealthy: {facts['url']} answers as {body!r:.80}", file=sys.stderr)
        return 1
    return 0


def serve(argv: list[str]) -> int:
    """Start the relays, then the simulator on every interface (``serve`` arguments follow:
    e.g. ``--defect ID``)."""
    from meshcert_simulators import serve as serve_module
    from meshcert_simulators.common.settings import Settings

    try:
        settings = Settings.from_env()
        spec = settings.spec
        ca = Path(str(settings.tls_dir)) / "ca.pem" if spec.tls and settings.tls_dir else None
        HEALTH_FILE.write_text(json.dumps({
            "name": settings.name, "ca": str(ca) if ca else None,
            "url": f"{'https' if spec.tls else 'http'}://{LOOPBACK}:{spec.port}/health"}),
            encoding="utf-8")
        start_relays(parse_peers(os.environ.get(PEERS_ENV, "")))
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"meshcert: {exc}", file=sys.stderr)
        return 2
    return serve_module.main(["--host", LISTEN_ALL, *argv])


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args.pop(0) if args else "serve"
    if command == "serve":
        return serve(args)
    if command == "health":
        return health()
    print(f"usage: python -m meshcert_simulators.container serve [serve options] | health "
          f"(not {command!r})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
