"""The HTTP/1.1 protocol every simulator is served with: uvicorn's httptools protocol, answering
the requests its parser refuses as the simulators answer every other bad request.

uvicorn answers a request it cannot parse (a negative ``Content-Length``, a control character in
the path, a malformed request line) itself, before any app sees it: a text/plain 400 with no
request id and no access-log line. :class:`ProblemHttpProtocol` answers it instead with RFC 9457
problem+json (400, ``urn:meshcert:problem:malformed-http-request``), an ``X-Request-ID`` (the
caller's when its header was parsed, else a new one) and one access-log line, then closes the
connection as uvicorn does (the stream can no longer be trusted).
"""

from __future__ import annotations

import sys
import time

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from meshcert_simulators.common import access_log
from meshcert_simulators.common.http import edge_headers
from meshcert_simulators.common.problems import Problem

MALFORMED_SLUG = "malformed-http-request"


class ProblemHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; a request its parser refuses gets a problem (module doc)."""

    def send_400_response(self, msg: str) -> None:
        started = time.perf_counter()
        # Called while data_received handles the parser's error: that error says what is wrong.
        error = sys.exc_info()[1]
        cycle = self.cycle
        if cycle is not None and cycle.response_started and not cycle.response_complete:
            # The app is answering this request already: a second status line would corrupt
            # its answer. Close, as the parser can no longer follow the stream.
            self.transport.close()
            return
        parsed = self.headers or []  # the headers parsed before the error, if any
        request_id = access_log.request_id_of(edge_headers(parsed).get("x-request-id", ""))
        reason = str(error) if error is not None and str(error) else msg
        problem = Problem(400, MALFORMED_SLUG, "Malformed HTTP request",
                          f"the request is not valid HTTP/1.1 ({reason}); the connection is "
                          "closed")
        response = problem.response(None, request_id)
        lines = [STATUS_LINE[400]]
        for name, value in [*self.server_state.default_headers, *response.raw_headers,
                            (b"x-request-id", request_id.encode("ascii")),
                            (b"connection", b"close")]:
            lines += [name, b": ", value, b"\r\n"]
        lines += [b"\r\n", response.body]
        self.transport.write(b"".join(lines))
        self.transport.close()
        # A served simulator always keeps its access log (Settings.from_env).
        access_log.write(self._method(), self._target(), request_id, 400, started, None)

    def _method(self) -> str:
        """The method, once the parser has gone past it (to the target or a header); "" for a
        bad request line, where the parser's method is only its initial value."""
        if not (getattr(self, "url", b"") or self.headers):
            return ""
        try:
            return self.parser.get_method().decode("latin-1")
        except Exception:  # no method parsed: the parser raises (its type varies by version)
            return ""

    def _target(self) -> str:
        """The request target as far as it was parsed (control characters escaped by the JSON
        log line)."""
        return getattr(self, "url", b"").decode("latin-1")
