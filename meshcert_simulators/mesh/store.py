"""The mesh's durable state (SQLite): issued 符号, inquiries by record id, art. 23 records, and
bulk-inquiry jobs with their per-row state (a restart resumes the unfinished ones)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from meshcert_simulators.common.provision_records import ProvisionRecords
from meshcert_simulators.common.storage import DEFAULT_SYNCHRONOUS, Database

# The mesh's art. 23 records: by person (its key, never a number), for every outcome.
RECORDS = ProvisionRecords(
    columns=(("inquirer", "TEXT NOT NULL"), ("provider", "TEXT NOT NULL"),
             ("procedure_code", "TEXT NOT NULL"), ("item_codes", "TEXT NOT NULL"),
             ("person_key", "TEXT NOT NULL"), ("requested_at", "TEXT NOT NULL"),
             ("provided_at", "TEXT"), ("outcome", "TEXT NOT NULL"),
             ("non_disclosure", "INTEGER NOT NULL")),
    indexes=(("provision_records_person", "person_key, seq"),
             ("provision_records_age", "requested_at")))
# Outcomes of an inquiry the provider never answered: an identical resend is processed again.
RETRYABLE_FAILURES = (":provider-timeout", ":provider-unreachable")

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
""" + RECORDS.schema + """CREATE TABLE IF NOT EXISTS bulk_jobs (
    job_id TEXT PRIMARY KEY,
    inquirer TEXT NOT NULL,
    state TEXT NOT NULL,            -- queued | running | done
    total INTEGER NOT NULL,
    submitted_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS bulk_rows (
    job_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,        -- 1-based position in the file
    record_id TEXT NOT NULL,
    body TEXT NOT NULL,             -- the row as sent (JSON)
    claimed INTEGER NOT NULL,       -- 1 once its record id is reserved for this row
    state TEXT NOT NULL,            -- pending | ok | failed
    status INTEGER,
    response TEXT,
    PRIMARY KEY (job_id, row_no)
);
"""


class MeshStore:
    """The mesh's tables in one SQLite file. Closed at the end of the app's lifespan and opened
    again on next use (an in-process host may run the lifespan more than once)."""

    def __init__(self, path: Path, synchronous: str = DEFAULT_SYNCHRONOUS) -> None:
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
        if self.person_of(institution, code) is not None:
            return False  # kept already: no write transaction (most calls, on every inquiry)
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
        """Claim a record id: ("new", None); ("replay", (status, body)) for an identical resend
        of a finished inquiry; ("new", None) again for an identical resend of one the provider
        never answered (a transient failure: the inquirer's retry with the same record id);
        else ("duplicate", None)."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT * FROM inquiries WHERE inquirer = ? AND record_id = ?",
                               (inquirer, record_id)).fetchone()
            if row is None:
                conn.execute("INSERT INTO inquiries VALUES (?, ?, ?, 'processing', NULL, NULL, ?)",
                             (inquirer, record_id, body_sha256, now))
                return "new", None
            if row["state"] != "done" or row["body_sha256"] != body_sha256:
                return "duplicate", None
            answer = orjson.loads(row["response"])
            if str(answer.get("type", "")).endswith(RETRYABLE_FAILURES):
                conn.execute("UPDATE inquiries SET state = 'processing', status = NULL, "
                             "response = NULL WHERE inquirer = ? AND record_id = ?",
                             (inquirer, record_id))
                return "new", None
        return "replay", (int(row["status"]), answer)

    def finish(self, inquirer: str, record_id: str, status: int, body: dict[str, Any],
               records: Iterable[dict[str, Any]] = ()) -> None:
        """Keep an inquiry's outcome, and the art. 23 ``records`` made while processing it
        (:meth:`record`'s fields), in one transaction: both durable, or neither."""
        with self.db.transaction() as conn:
            for fields in records:
                self._insert_record(conn, **fields)
            conn.execute("UPDATE inquiries SET state = 'done', status = ?, response = ? "
                         "WHERE inquirer = ? AND record_id = ?",
                         (status, orjson.dumps(body).decode(), inquirer, record_id))

    # -- bulk-inquiry jobs ----------------------------------------------------------------------

    def create_job(self, job_id: str, inquirer: str, rows: list[tuple[str, str]],
                   refused: dict[int, tuple[int, dict[str, Any]]], now: str) -> None:
        """Store a job and its rows (record id, body JSON); ``refused`` rows (by 1-based
        number) are finished at once with their problem and never processed."""
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO bulk_jobs VALUES (?, ?, 'queued', ?, ?, NULL)",
                         (job_id, inquirer, len(rows), now))
            conn.executemany(
                "INSERT INTO bulk_rows VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                [(job_id, n, record_id, body,
                  "failed" if n in refused else "pending",
                  refused[n][0] if n in refused else None,
                  orjson.dumps(refused[n][1]).decode() if n in refused else None)
                 for n, (record_id, body) in enumerate(rows, start=1)])

    def job(self, job_id: str) -> dict[str, Any] | None:
        row = self.db.query_one("SELECT * FROM bulk_jobs WHERE job_id = ?", (job_id,))
        if row is None:
            return None
        counts = {r["state"]: r["n"] for r in self.db.query(
            "SELECT state, COUNT(*) AS n FROM bulk_rows WHERE job_id = ? GROUP BY state",
            (job_id,))}
        return {"job_id": row["job_id"], "inquirer": row["inquirer"], "state": row["state"],
                "total": row["total"], "submitted_at": row["submitted_at"],
                "finished_at": row["finished_at"], "done": counts.get("ok", 0),
                "failed": counts.get("failed", 0), "pending": counts.get("pending", 0)}

    def unfinished_jobs(self) -> list[str]:
        return [r["job_id"] for r in self.db.query(
            "SELECT job_id FROM bulk_jobs WHERE state != 'done' ORDER BY submitted_at, job_id")]

    def set_job_state(self, job_id: str, state: str, finished_at: str | None = None) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE bulk_jobs SET state = ?, finished_at = ? WHERE job_id = ?",
                         (state, finished_at, job_id))

    def pending_rows(self, job_id: str) -> list[tuple[int, str]]:
        return [(int(r["row_no"]), str(r["body"])) for r in self.db.query(
            "SELECT row_no, body FROM bulk_rows WHERE job_id = ? AND state = 'pending' "
            "ORDER BY row_no", (job_id,))]

    def claim_row(self, job_id: str, row_no: int, inquirer: str, record_id: str,
                  body_sha256: str, now: str) -> tuple[str, Any]:
        """Reserve the record id of a bulk row: ("new", None); ("new", None) again for a row
        this job claimed but never finished (interrupted by a stop); ("replay", (status,
        body)) for a claimed row whose inquiry finished; else ("duplicate", None) — a bulk row
        never replays another inquiry's answer."""
        with self.db.transaction() as conn:
            claimed = conn.execute("SELECT claimed FROM bulk_rows WHERE job_id = ? AND "
                                   "row_no = ?", (job_id, row_no)).fetchone()["claimed"]
            row = conn.execute("SELECT * FROM inquiries WHERE inquirer = ? AND record_id = ?",
                               (inquirer, record_id)).fetchone()
            if claimed and row is not None:
                if row["state"] == "done":
                    return "replay", (int(row["status"]), orjson.loads(row["response"]))
                return "new", None
            if row is not None:
                return "duplicate", None
            conn.execute("INSERT INTO inquiries VALUES (?, ?, ?, 'processing', NULL, NULL, ?)",
                         (inquirer, record_id, body_sha256, now))
            conn.execute("UPDATE bulk_rows SET claimed = 1 WHERE job_id = ? AND row_no = ?",
                         (job_id, row_no))
            return "new", None

    def finish_row(self, job_id: str, row_no: int, inquirer: str, record_id: str | None,
                   status: int, body: dict[str, Any],
                   records: Iterable[dict[str, Any]] = ()) -> None:
        """Finish a bulk row, and its inquiry (``record_id``) and art. 23 ``records``, in the
        same transaction."""
        text = orjson.dumps(body).decode()
        with self.db.transaction() as conn:
            for fields in records:
                self._insert_record(conn, **fields)
            if record_id is not None:
                conn.execute("UPDATE inquiries SET state = 'done', status = ?, response = ? "
                             "WHERE inquirer = ? AND record_id = ?",
                             (status, text, inquirer, record_id))
            conn.execute("UPDATE bulk_rows SET state = ?, status = ?, response = ? "
                         "WHERE job_id = ? AND row_no = ?",
                         ("ok" if status == 200 else "failed", status, text, job_id, row_no))

    def rows_page(self, job_id: str, after: int, limit: int) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT * FROM bulk_rows WHERE job_id = ? AND row_no > ? "
                             "ORDER BY row_no LIMIT ?", (job_id, after, limit))
        return [{"row": r["row_no"], "record_id": r["record_id"], "state": r["state"],
                 "status": r["status"],
                 "response": orjson.loads(r["response"]) if r["response"] else None}
                for r in rows]

    # -- art. 23 provision records -------------------------------------------------------------

    def record(self, *, record_id: str, inquirer: str, provider: str, procedure_code: str,
               item_codes: list[str], person_key: str, requested_at: str,
               provided_at: str | None, outcome: str, non_disclosure: bool) -> None:
        with self.db.transaction() as conn:
            self._insert_record(
                conn, record_id=record_id, inquirer=inquirer, provider=provider,
                procedure_code=procedure_code, item_codes=item_codes, person_key=person_key,
                requested_at=requested_at, provided_at=provided_at, outcome=outcome,
                non_disclosure=non_disclosure)

    @staticmethod
    def _insert_record(conn: sqlite3.Connection, *, record_id: str, inquirer: str,
                       provider: str, procedure_code: str, item_codes: list[str],
                       person_key: str, requested_at: str, provided_at: str | None,
                       outcome: str, non_disclosure: bool) -> None:
        RECORDS.insert(conn, record_id=record_id, inquirer=inquirer, provider=provider,
                       procedure_code=procedure_code,
                       item_codes=orjson.dumps(item_codes).decode(), person_key=person_key,
                       requested_at=requested_at, provided_at=provided_at, outcome=outcome,
                       non_disclosure=int(non_disclosure))

    def purge_expired(self, now: datetime) -> int:
        """Delete the records past their retention (seven years after the request, 番号法施行令
        art. 29); returns how many went."""
        return RECORDS.purge_expired(self.db, now)

    def records_of(self, person_key: str, include_non_disclosable: bool
                   ) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT * FROM provision_records WHERE person_key = ? "
                             + ("" if include_non_disclosable else "AND non_disclosure = 0 ")
                             + "ORDER BY seq", (person_key,))
        return [{"seq": r["seq"], "record_id": r["record_id"], "inquirer": r["inquirer"],
                 "provider": r["provider"], "procedure_code": r["procedure_code"],
                 "item_codes": orjson.loads(r["item_codes"]), "requested_at": r["requested_at"],
                 "provided_at": r["provided_at"], "outcome": r["outcome"],
                 "non_disclosure": bool(r["non_disclosure"])} for r in rows]
