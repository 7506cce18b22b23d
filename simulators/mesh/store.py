"""The mesh's durable state (SQLite): issued 符号, inquiries by record id, art. 23 records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simulators.common.storage import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS codes (
    institution TEXT NOT NULL,
    code TEXT NOT NULL,
    person_key TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    PRIMARY KEY (institution, code),
    UNIQUE (institution, person_key)
);
CREATE TABLE IF NOT EXISTS inquiries (
    inquirer TEXT NOT NULL,
    record_id TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    state TEXT NOT NULL,            -- processing | done
    status INTEGER,
    response TEXT,
    received_at TEXT NOT NULL,
    PRIMARY KEY (inquirer, record_id)
);
CREATE TABLE IF NOT EXISTS provision_records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL,
    inquirer TEXT NOT NULL,
    provider TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    item_codes TEXT NOT NULL,
    person_key TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    provided_at TEXT,
    outcome TEXT NOT NULL,
    non_disclosure INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS provision_records_person ON provision_records (person_key, seq);
"""


class MeshStore:
    """The mesh's tables in one SQLite file. Closed at the end of the app's lifespan and opened
    again on next use (an in-process host may run the lifespan more than once)."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self.path = path
        self.synchronous = synchronous
        self._db: Database | None = Database(path, SCHEMA, synchronous)

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.path, SCHEMA, self.synchronous)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- codes ---------------------------------------------------------------------------------

    def ensure_code(self, institution: str, code: str, person_key: str, now: str) -> bool:
        """Keep (institution, code) → person key; True when newly issued."""
        with self.db.transaction() as conn:
            cur = conn.execute("INSERT OR IGNORE INTO codes VALUES (?, ?, ?, ?)",
                               (institution, code, person_key, now))
            return cur.rowcount == 1

    def person_of(self, institution: str, code: str) -> str | None:
        row = self.db.query_one("SELECT person_key FROM codes WHERE institution = ? AND code = ?",
                                (institution, code))
        return None if row is None else str(row["person_key"])

    # -- inquiries by record id ----------------------------------------------------------------

    def reserve(self, inquirer: str, record_id: str, body_sha256: str, now: str
                ) -> tuple[str, Any]:
        """Claim a record id: ("new", None), ("replay", (status, body)) for an identical resend
        of a finished inquiry, or ("duplicate", None)."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT * FROM inquiries WHERE inquirer = ? AND record_id = ?",
                               (inquirer, record_id)).fetchone()
            if row is None:
                conn.execute("INSERT INTO inquiries VALUES (?, ?, ?, 'processing', NULL, NULL, ?)",
                             (inquirer, record_id, body_sha256, now))
                return "new", None
        if row["state"] == "done" and row["body_sha256"] == body_sha256:
            return "replay", (int(row["status"]), json.loads(row["response"]))
        return "duplicate", None

    def finish(self, inquirer: str, record_id: str, status: int, body: dict[str, Any]) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE inquiries SET state = 'done', status = ?, response = ? "
                         "WHERE inquirer = ? AND record_id = ?",
                         (status, json.dumps(body, ensure_ascii=False), inquirer, record_id))

    # -- art. 23 provision records -------------------------------------------------------------

    def record(self, *, record_id: str, inquirer: str, provider: str, procedure_code: str,
               item_codes: list[str], person_key: str, requested_at: str,
               provided_at: str | None, outcome: str, non_disclosure: bool) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO provision_records (record_id, inquirer, provider, procedure_code, "
                "item_codes, person_key, requested_at, provided_at, outcome, non_disclosure) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record_id, inquirer, provider, procedure_code, json.dumps(item_codes),
                 person_key, requested_at, provided_at, outcome, int(non_disclosure)))

    def records_of(self, person_key: str, include_non_disclosable: bool
                   ) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT * FROM provision_records WHERE person_key = ? "
                             + ("" if include_non_disclosable else "AND non_disclosure = 0 ")
                             + "ORDER BY seq", (person_key,))
        return [{"seq": r["seq"], "record_id": r["record_id"], "inquirer": r["inquirer"],
                 "provider": r["provider"], "procedure_code": r["procedure_code"],
                 "item_codes": json.loads(r["item_codes"]), "requested_at": r["requested_at"],
                 "provided_at": r["provided_at"], "outcome": r["outcome"],
                 "non_disclosure": bool(r["non_disclosure"])} for r in rows]
