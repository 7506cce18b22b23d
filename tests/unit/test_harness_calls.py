"""A call to the harness's own simulators that goes wrong is a harness fault, not the vendor's
failure: :func:`meshcert.certify.verdicts.ensure_harness_ok` turns a bad answer into a
:class:`~meshcert.certify.verdicts.HarnessFault` (the test's outcome "error") that says which call
failed and what to do — checked over real HTTP against a broken stand-in simulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from meshcert.certify.verdicts import HarnessFault, ensure_harness_ok
from meshcert_suites.information_provider.mesh_side import Jlis

BROKEN_BODY = '{"type": "about:blank", "title": "database is locked", "status": 500}'


class _Broken(BaseHTTPRequestHandler):
    """A simulator whose admin endpoints answer 500 (GET), ``put_status`` (PUT, 500 unless
    set) and ``delete_status`` (DELETE, 204 unless set)."""

    def _answer(self, status: int, body: str = "") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer(500, BROKEN_BODY)

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer(self.server.put_status, BROKEN_BODY)  # type: ignore[attr-defined]

    def do_DELETE(self) -> None:
        self._answer(self.server.delete_status)  # type: ignore[attr-defined]

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def broken() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    server.put_status, server.delete_status = 500, 204  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def test_a_harness_call_answered_500_raises_a_harness_fault_that_says_what_to_do(broken):
    with httpx.Client(base_url=_url(broken)) as client:
        answer = client.get("/admin/exchanges")
    with pytest.raises(HarnessFault) as raised:
        ensure_harness_ok(answer, "read the mesh's exchange log")
    message = str(raised.value)
    assert message.startswith("the harness could not read the mesh's exchange log: ")
    assert f"GET {_url(broken)}/admin/exchanges was answered 500 (expected 200)" in message
    assert "database is locked" in message                  # the simulator's own words
    assert "not the system under test's" in message         # whose failure it is
    assert ".meshcert/run/" in message and "run again" in message  # what to do


def test_an_expected_answer_is_returned_unchanged(broken):
    with httpx.Client(base_url=_url(broken)) as client:
        answer = client.delete("/admin/faults/global")
    assert ensure_harness_ok(answer, "clear the mesh's fault plans", ok=(200, 204)) is answer
    with pytest.raises(HarnessFault, match=r"expected 200\)"):
        ensure_harness_ok(answer, "clear the mesh's fault plans")  # 204 not allowed here


def test_a_fault_plan_the_harness_jlis_refuses_is_a_harness_fault_not_a_failure(broken):
    with httpx.Client(base_url=_url(broken)) as client:
        jlis = Jlis(client, "mesh-token", "admin-token")
        refused = r"could not put the fault plan .* on J-LIS: PUT .*/admin/faults/\S+ was " \
                  r"answered 500"
        with pytest.raises(HarnessFault, match=refused), jlis.fault({"clock_skew_s": 60}):
            pytest.fail("the block must not run when the plan was refused")
        with pytest.raises(HarnessFault, match="could not read J-LIS's exchange capture"):
            jlis.exchanges(0)


def test_a_failed_clean_up_does_not_hide_the_verdict_of_the_block(broken):
    """The target's failure inside a fault plan stays a failure even when removing the plan
    fails afterwards; with no failure, the failed removal is the harness fault."""
    broken.put_status, broken.delete_status = 201, 500
    with httpx.Client(base_url=_url(broken)) as client:
        jlis = Jlis(client, "mesh-token", "admin-token")
        with pytest.raises(AssertionError, match="the provider answered 502"), \
                jlis.fault({"clock_skew_s": 60}):
            raise AssertionError("the provider answered 502")
        with pytest.raises(HarnessFault, match=r"could not remove the fault plan .* from J-LIS"), \
                jlis.fault({"clock_skew_s": 60}):
            pass
