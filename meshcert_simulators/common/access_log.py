"""The access log: one JSON object a line on stderr (the process backend files it).

Lines written during a turn of the event loop are written and flushed together at the start of
the next turn: one write and one flush for a burst of requests instead of one each. A line is
therefore on its way out before the loop takes new work, so a stopped simulator loses at most
the lines of the turn it was killed in. Outside a running loop a line is written at once.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson

_pending: list[str] = []


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(given: str) -> str:
    """The caller's ``X-Request-Id`` when it is a sensible one, else a fresh id (32 hex
    digits, as a UUID4's hex is)."""
    return given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(16)


def write(method: str, path: str, request_id: str, status: int, started: float,
          client: str | None) -> None:
    """The line of one answered request; ``started`` is its ``time.perf_counter()``."""
    record: dict[str, Any] = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "request_id": request_id,
        "method": method,
        "path": path,
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 3),
        "client": client,
    }
    line = orjson.dumps(record).decode()
    if not _pending:
        try:
            asyncio.get_running_loop().call_soon(flush)
        except RuntimeError:
            _pending.append(line)
            flush()
            return
    _pending.append(line)


def flush() -> None:
    """Write the pending lines now."""
    if not _pending:
        return
    lines = "\n".join(_pending) + "\n"
    _pending.clear()
    sys.stderr.write(lines)  # looked up each time: whatever stderr is now
    sys.stderr.flush()
