"""Exchanges recorded as evidence: every request a suite sends to the target, with its response.

A vendor must see the exact exchange that showed a failure, and the agency what a passing test
saw; so each test's exchanges are kept (credentials redacted, bodies capped) and written beside
the report. httpx clients record through :meth:`Recorder.hooks`; what goes through ``requests``
(Schemathesis calls the target with it) through :meth:`Recorder.record_requests`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

BODY_LIMIT = 64 * 1024  # keep evidence readable; the hash of the full body is kept too
REDACTED_HEADERS = {"authorization", "cookie", "set-cookie", "proxy-authorization"}


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    elapsed_ms: float | None = None
    error: str | None = None
    started_at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _headers(headers: Any) -> dict[str, str]:
    """Headers as name → value, credentials redacted (Schemathesis keeps each value as a list
    of the values received: they are joined as one header line would carry them)."""
    return {k: ("[redacted]" if k.lower() in REDACTED_HEADERS
                else ", ".join(map(str, v)) if isinstance(v, list | tuple) else str(v))
            for k, v in dict(headers).items()}


def _text(content: bytes | str | None) -> str | None:
    if not content:
        return None
    if isinstance(content, str):
        content = content.encode("utf-8")
    clipped = content[:BODY_LIMIT]
    text = clipped.decode("utf-8", errors="replace")
    if len(content) > BODY_LIMIT:
        text += f"\n… [{len(content) - BODY_LIMIT} more bytes not kept]"
    return text


class Recorder:
    """Collects the exchanges of one test through httpx event hooks."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self._on_request], "response": [self._on_response]}

    def _on_request(self, request: httpx.Request) -> None:
        request.extensions["meshcert_started"] = time.perf_counter()
        try:
            body = _text(request.content)
        except httpx.RequestNotRead:  # a streamed body: reading it here would consume it
            body = "[streamed body: not recorded]"
        self.exchanges.append(Exchange(request.method, str(request.url),
                                       _headers(request.headers), body))
        request.extensions["meshcert_index"] = len(self.exchanges) - 1

    def _on_response(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        exchange = self.exchanges[request.extensions["meshcert_index"]]
        exchange.status = response.status_code
        exchange.response_headers = _headers(response.headers)
        exchange.response_body = _text(response.content)
        exchange.elapsed_ms = round(
            (time.perf_counter() - request.extensions["meshcert_started"]) * 1000, 3)

    def record_requests(self, response: Any, error: str | None = None) -> Exchange:
        """Record an exchange made with ``requests`` (a ``requests.Response``, or what
        Schemathesis returns with the same fields); returns it, so that a check failing after
        can add its ``error``."""
        sent = response.request
        elapsed = response.elapsed
        exchange = Exchange(
            sent.method, str(sent.url), _headers(sent.headers),
            # a generator body (streamed upload) cannot be read back
            _text(sent.body) if isinstance(sent.body, bytes | str | None)
            else "[streamed body: not recorded]",
            status=response.status_code, response_headers=_headers(response.headers),
            response_body=_text(response.content),
            elapsed_ms=round((elapsed if isinstance(elapsed, float | int)
                              else elapsed.total_seconds()) * 1000, 3),
            error=error)
        self.exchanges.append(exchange)
        return exchange

    def dump(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self.exchanges]
