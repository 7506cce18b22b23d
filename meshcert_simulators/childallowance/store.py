"""The child-allowance system's records in SQLite: applications (with the form as submitted,
My Number included — it stays here) and inquiries, which are its art. 23 records.

An inquiry row, with its record id, is written before the first attempt and reused by every
retry, so an inquiry the mesh already processed is never processed again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from meshcert_simulators.common.paging import seq_page
from meshcert_simulators.common.storage import DEFAULT_SYNCHRONOUS, Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS applications (
    application_id TEXT PRIMARY KEY,
    body_sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    received_at TEXT NOT NULL,
    give_up_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    code TEXT,
    decision TEXT,
    notice TEXT
);
CREATE TABLE IF NOT EXISTS inquiries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE,
    application_id TEXT NOT NULL REFERENCES applications(application_id),
    procedure_code TEXT NOT NULL,
    item_code TEXT NOT NULL,
    provider TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    provided_at TEXT,
    outcome TEXT NOT NULL,
    item_status TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    answer TEXT
);
CREATE INDEX IF NOT EXISTS inquiries_by_application ON inquiries(application_id);
"""


def _loads(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


class AllowanceStore:
    def __init__(self, path: Path, synchronous: str = DEFAULT_SYNCHRONOUS) -> None:
        self.db = Database(path, SCHEMA, synchronous)

    def close(self) -> None:
        self.db.close()

    # -- applications --------------------------------------------------------------------

    def receive(self, application_id: str, digest: str, body: dict[str, Any], now: str,
                give_up_at: str) -> tuple[str, dict[str, Any] | None]:
        """("new", None), ("same", row) for an identical resend, or ("conflict", row)."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT * FROM applications WHERE application_id = ?",
                               (application_id,)).fetchone()
            if row is None:
                conn.execute("INSERT INTO applications VALUES (?, ?, ?, 'received', ?, ?, ?, "
                             "NULL, NULL, NULL)",
                             (application_id, digest, json.dumps(body, ensure_ascii=False), now,
                              give_up_at, now))
                return "new", None
        return ("same" if row["body_sha256"] == digest else "conflict"), dict(row)

    def application(self, application_id: str) -> dict[str, Any] | None:
        row = self.db.query_one("SELECT * FROM applications WHERE application_id = ?",
                                (application_id,))
        if row is None:
            return None
        out = dict(row)
        out["body"] = json.loads(out["body"])
        out["decision"] = _loads(out["decision"])
        out["notice"] = _loads(out["notice"])
        return out

    def unfinished(self) -> list[str]:
        return [r["application_id"] for r in self.db.query(
            "SELECT application_id FROM applications WHERE state IN ('received', 'inquiring') "
            "ORDER BY received_at")]

    def set_state(self, application_id: str, state: str, now: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE applications SET state = ?, updated_at = ? "
                         "WHERE application_id = ?", (state, now, application_id))

    def set_code(self, application_id: str, code: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE applications SET code = ? WHERE application_id = ?",
                         (code, application_id))

    def conclude(self, application_id: str, state: str, decision: dict[str, Any] | None,
                 notice: dict[str, Any], now: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE applications SET state = ?, decision = ?, notice = ?, "
                         "updated_at = ? WHERE application_id = ?",
                         (state, json.dumps(decision, ensure_ascii=False) if decision else None,
                          json.dumps(notice, ensure_ascii=False), now, application_id))

    # -- inquiries (art. 23 records) ----------------------------------------------------

    def inquiry(self, application_id: str, item_code: str) -> dict[str, Any] | None:
        row = self.db.query_one("SELECT * FROM inquiries WHERE application_id = ? AND "
                                "item_code = ?", (application_id, item_code))
        return dict(row) if row else None

    def inquiries_of(self, application_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.query(
            "SELECT record_id, outcome, attempts FROM inquiries WHERE application_id = ? "
            "ORDER BY seq", (application_id,))]

    def open_inquiry(self, application_id: str, record_id: str, procedure_code: str,
                     item_code: str, provider: str, now: str) -> dict[str, Any]:
        """Write the record of a new inquiry (before its first attempt)."""
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO inquiries (record_id, application_id, procedure_code, "
                         "item_code, provider, requested_at, outcome) "
                         "VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                         (record_id, application_id, procedure_code, item_code, provider, now))
        found = self.inquiry(application_id, item_code)
        assert found is not None
        return found

    def count_attempt(self, record_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE inquiries SET attempts = attempts + 1 WHERE record_id = ?",
                         (record_id,))

    def close_inquiry(self, record_id: str, outcome: str, *, requested_at: str | None = None,
                      provided_at: str | None = None, item_status: str | None = None,
                      answer: dict[str, Any] | None = None) -> None:
        """Finish an inquiry's record: ``provided`` with the mesh's times, ``refused`` or
        ``failed`` (never answered)."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE inquiries SET outcome = ?, "
                         "requested_at = COALESCE(?, requested_at), provided_at = ?, "
                         "item_status = ?, answer = ? WHERE record_id = ?",
                         (outcome, requested_at, provided_at, item_status,
                          json.dumps(answer, ensure_ascii=False) if answer else None, record_id))

    def records(self, after: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        rows, more = seq_page(
            self.db, "SELECT seq, record_id, procedure_code, item_code, provider, requested_at, "
            "provided_at, outcome, item_status, attempts FROM inquiries", "", (), after, limit)
        return [dict(r) for r in rows], more
