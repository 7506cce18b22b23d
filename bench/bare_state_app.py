"""The practical limit with real state in the path: a bare Starlette route doing only the state
work of the registry's hot read, with the project's own storage — the record read from SQLite
and the read appended to the hash-chained audit log (meshcert_simulators.common.audit),
group-committed
and durable before the answer (meshcert_simulators.common.storage) — and nothing else: no
authentication, no request id, no access log, no problem details, no contract validation.

Run by bench/simulator_throughput.py under the same uvicorn settings as bench/bare_app.py and
the simulators' SQLite durability (``MESHCERT_SQLITE_SYNCHRONOUS``); it seeds the same 200
generated residents into a fresh SQLite file of its own.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meshcert_simulators.common import audit
from meshcert_simulators.common.population import generate
from meshcert_simulators.common.storage import DEFAULT_SYNCHRONOUS, Database

LG = "131016"
SCHEMA = audit.AUDIT_SCHEMA + """
CREATE TABLE IF NOT EXISTS residents (
    lg_code TEXT NOT NULL, atena_number TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (lg_code, atena_number));
"""
db = Database(Path(tempfile.mkdtemp(prefix="meshcert-bench-")) / "bare-state.sqlite3", SCHEMA,
              os.environ.get("MESHCERT_SQLITE_SYNCHRONOUS", DEFAULT_SYNCHRONOUS))  # as the sims
with db.transaction() as seeding:
    seeding.executemany("INSERT INTO residents VALUES (?, ?, ?)",
                        [(LG, r["atena_number"], json.dumps(r, ensure_ascii=False))
                         for r in generate(LG, 200, 1)])


def read(lg: str, atena: str) -> Any:
    with db.transaction() as conn:
        row = conn.execute("SELECT record FROM residents WHERE lg_code=? AND atena_number=?",
                           (lg, atena)).fetchone()
        if row is not None:
            audit.append(conn, lg, "bench", "resident.read", atena, False, None)
    return row


async def resident(request: Request) -> Response:
    lg, atena = request.path_params["lg"], request.path_params["atena"]
    row = await db.durably(lambda: read(lg, atena))
    if row is None:
        return Response(b'{"status":404}', 404, media_type="application/problem+json")
    return Response(row[0], media_type="application/json")


app = Starlette(routes=[Route("/municipalities/{lg}/residents/{atena}", resident)])
