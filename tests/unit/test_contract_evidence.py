"""Contract tests keep their exchanges as evidence, passing ones too: Schemathesis calls the
target with ``requests`` (no httpx event hooks), so the contract suites' Runner records each
exchange it checks through ``Recorder.record_requests``. Real HTTP to a small server on
127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from meshcert.certify.evidence import Recorder
from meshcert_suites.resident_registry.test_contract import Runner, _operation

ANSWERS = {"/health": (200, {"status": "ok"})}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = ANSWERS[self.path]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def contract_runner(base_url: str) -> tuple[Runner, Recorder]:
    recorder = Recorder()
    harness = SimpleNamespace(
        target=SimpleNamespace(base_url=base_url, tls=SimpleNamespace(verify=False)),
        recorder_for=lambda node: recorder, ca_file=lambda: None, token=lambda: "secret")
    return Runner(harness, SimpleNamespace(user_properties=[])), recorder


def test_a_passing_contract_check_keeps_its_exchange(server: str) -> None:
    runner, recorder = contract_runner(server)
    case = _operation("GET /health").Case()
    runner.run(case, checks=[not_a_server_error])
    [exchange] = recorder.exchanges
    assert (exchange.method, exchange.url) == ("GET", f"{server}/health")
    assert exchange.status == 200 and exchange.error is None
    assert json.loads(exchange.response_body or "") == {"status": "ok"}
    assert exchange.response_headers["content-type"] == "application/json"  # not "[…]"
    assert exchange.request_headers["Authorization"] == "[redacted]"
    assert exchange.elapsed_ms is not None and exchange.elapsed_ms >= 0


def test_a_failing_contract_check_keeps_its_exchange_with_the_failure(server: str) -> None:
    ANSWERS["/health"] = (500, {"title": "boom"})
    try:
        runner, recorder = contract_runner(server)
        with pytest.raises(FailureGroup):
            runner.run(_operation("GET /health").Case(), checks=[not_a_server_error])
    finally:
        ANSWERS["/health"] = (200, {"status": "ok"})
    [exchange] = recorder.exchanges
    assert exchange.status == 500
    assert exchange.error and "Server error" in exchange.error


def test_an_exchange_made_but_never_checked_is_evidence_too_and_kept_once(server: str) -> None:
    runner, recorder = contract_runner(server)
    response = runner.call(_operation("GET /health").Case())
    assert [e.status for e in recorder.exchanges] == [200]  # a test's assert may stop here
    runner.check(_operation("GET /health").Case(), response, checks=[not_a_server_error])
    assert len(recorder.exchanges) == 1 and runner.calls == 1
