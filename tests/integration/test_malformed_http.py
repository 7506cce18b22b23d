"""A request the HTTP parser refuses — a negative Content-Length, a control character in the
path, a malformed request line — is answered like every other bad request: RFC 9457
problem+json (400, a stable type), an X-Request-ID, one access-log line. Sent over raw sockets
to simulators served as ``python -m meshcert_simulators.serve`` serves them
(meshcert_simulators/common/
http_protocol.py)."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from tests.integration.served import TOPOLOGIES, log_after, served

pytestmark = pytest.mark.slow

MALFORMED = {
    "negative content-length": b"POST /v1/inquiries HTTP/1.1\r\nHost: sim\r\n"
                               b"X-Request-ID: probe-negative-length\r\n"
                               b"Content-Type: application/json\r\nContent-Length: -5\r\n\r\n",
    "control character in the path": b"GET /hea\x01lth HTTP/1.1\r\nHost: sim\r\n\r\n",
    "bytes outside ASCII in the path": b"GET /\xff\xfe HTTP/1.1\r\nHost: sim\r\n\r\n",
    "malformed request line": b"GARBAGE\r\n\r\n",
    "unknown HTTP version": b"GET /health HTTP/9.9\r\nHost: sim\r\n\r\n",
    "space in a header name": b"GET /health HTTP/1.1\r\nHost: sim\r\nBad Header: 1\r\n\r\n",
}


def exchange(host: str, port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; read until the server closes: (status, headers, body)."""
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(("simulator", "topology"), [
    ("municipal", TOPOLOGIES / "embedded.yaml"), ("mesh", TOPOLOGIES / "mesh.yaml")])
def test_what_the_parser_refuses_is_a_problem_with_a_request_id_and_a_log_line(
        tmp_path, simulator, topology):
    with served(tmp_path, simulator, topology) as sim:
        answers = {case: exchange(sim.host, sim.port, data) for case, data in MALFORMED.items()}
        ids = {case: headers.get("x-request-id") for case, (_, headers, _) in answers.items()}
        log = log_after(sim, lambda text: all(f'"{i}"' in text for i in ids.values()))
        # The server goes on serving after each refusal.
        assert httpx.get(f"{sim.url}/health", timeout=5).status_code == 200
    for case, (status, headers, body) in answers.items():
        assert status == 400, case
        assert headers["content-type"] == "application/problem+json", case
        assert headers["connection"] == "close", case
        problem = json.loads(body)
        assert problem["type"] == "urn:meshcert:problem:malformed-http-request", case
        assert problem["status"] == 400 and problem["title"] and problem["detail"], case
        assert problem["request_id"] == headers["x-request-id"], case
    assert ids["negative content-length"] == "probe-negative-length"  # the caller's own id
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    for case, request_id in ids.items():
        [line] = [entry for entry in lines if entry["request_id"] == request_id]
        assert line["status"] == 400, case
    assert "Traceback" not in log
