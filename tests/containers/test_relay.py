"""The peer relays inside a container (meshcert_simulators/container.py), in-process: bytes pass
through both ways, and a peer that cannot be reached closes the caller's connection at once."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from meshcert_simulators.container import parse_peers, start_relays


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_peers_are_read_as_local_port_to_host_and_port():
    assert parse_peers("19100=authz:18100, 19103=jlis:19103,") == {
        19100: ("authz", 18100), 19103: ("jlis", 19103)}
    assert parse_peers("") == {}
    with pytest.raises(ValueError, match="not PORT=HOST:PORT"):
        parse_peers("19100=authz")


def test_a_relay_passes_bytes_both_ways_and_closes_when_the_peer_is_gone():
    upstream = socket.create_server(("127.0.0.1", 0))
    echo_port = upstream.getsockname()[1]

    def echo() -> None:
        conn, _ = upstream.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data.upper())

    threading.Thread(target=echo, daemon=True).start()
    live, dead = free_port(), free_port()
    start_relays({live: ("127.0.0.1", echo_port), dead: ("127.0.0.1", free_port())})

    with socket.create_connection(("127.0.0.1", live), timeout=5) as client:
        client.sendall(b"x" * 200_000)
        received = b""
        while len(received) < 200_000:
            received += client.recv(65536)
        assert received == b"X" * 200_000
    upstream.close()

    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", dead), timeout=5) as client:
        assert client.recv(1) == b""  # closed, not left hanging
    assert time.monotonic() - began < 2
