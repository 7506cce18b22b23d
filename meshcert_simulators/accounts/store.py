"""SQLite storage of the account registry: one account per person (keyed by 住民票コード, the
stand-in for the My Number the real registry keys on, with this registry's 符号 from the mesh)
and the art. 23 records of the agencies' queries, kept across restarts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from meshcert_simulators.common.paging import seq_page
from meshcert_simulators.common.provision_records import TABLE, ProvisionRecords
from meshcert_simulators.common.storage import Database

RECORDS = ProvisionRecords(
    columns=(("inquirer_client", "TEXT NOT NULL"), ("procedure_code", "TEXT NOT NULL"),
             ("item_code", "TEXT NOT NULL"), ("code", "TEXT NOT NULL"),
             ("juminhyo_code", "TEXT"), ("requested_at", "TEXT NOT NULL"),
             ("outcome", "TEXT NOT NULL"), ("request_sha256", "TEXT"), ("response", "TEXT")),
    indexes=(("records_by_person", "juminhyo_code, seq"), ("records_by_id", "record_id")))

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    juminhyo_code TEXT PRIMARY KEY,
    code TEXT UNIQUE,
    bank_code TEXT NOT NULL,
    branch_code TEXT NOT NULL,
    account_type TEXT NOT NULL,
    account_number TEXT NOT NULL,
    holder_kana TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
""" + RECORDS.schema

ACCOUNT_FIELDS = ("bank_code", "branch_code", "account_type", "account_number", "holder_kana",
                  "phone", "email")
PAYLOAD_FIELDS = ("bank_code", "branch_code", "account_type", "account_number", "holder_kana",
                  "registered_at", "updated_at")
RECORD_FIELDS = ("seq", "record_id", "inquirer_client", "procedure_code", "item_code",
                 "juminhyo_code", "requested_at", "outcome")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


class AccountStore:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    # -- accounts --------------------------------------------------------------------------

    def account(self, juminhyo_code: str) -> dict[str, Any] | None:
        row = self.db.query_one("SELECT * FROM accounts WHERE juminhyo_code=?", (juminhyo_code,))
        return dict(row) if row else None

    def account_by_code(self, code: str) -> dict[str, Any] | None:
        row = self.db.query_one("SELECT * FROM accounts WHERE code=?", (code,))
        return dict(row) if row else None

    def put(self, juminhyo_code: str, code: str | None, fields: dict[str, str]
            ) -> tuple[dict[str, Any], bool]:
        """Register or change the person's one account; returns it and whether it is new."""
        now = iso(self.clock())
        values = {k: fields[k] for k in ACCOUNT_FIELDS}
        with self.db.transaction() as conn:
            created = conn.execute("SELECT 1 FROM accounts WHERE juminhyo_code=?",
                                   (juminhyo_code,)).fetchone() is None
            if created:
                conn.execute(
                    f"INSERT INTO accounts (juminhyo_code, code, {', '.join(ACCOUNT_FIELDS)}, "
                    f"registered_at, updated_at) VALUES (?, ?, "
                    f"{', '.join('?' * len(ACCOUNT_FIELDS))}, ?, ?)",
                    (juminhyo_code, code, *values.values(), now, now))
            else:
                conn.execute(
                    f"UPDATE accounts SET {', '.join(f'{k}=?' for k in ACCOUNT_FIELDS)}, "
                    "code=COALESCE(?, code), updated_at=? WHERE juminhyo_code=?",
                    (*values.values(), code, now, juminhyo_code))
        account = self.account(juminhyo_code)
        assert account is not None
        return account, created

    def remove(self, juminhyo_code: str) -> bool:
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM accounts WHERE juminhyo_code=?",
                                (juminhyo_code,)).rowcount > 0

    def holders(self) -> int:
        row = self.db.query_one("SELECT COUNT(*) AS n FROM accounts")
        return int(row["n"]) if row else 0

    # -- query records ---------------------------------------------------------------------

    def answer_of(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        """The digest and answer of the first query under ``record_id``, if one was answered."""
        row = self.db.query_one(
            f"SELECT request_sha256, response FROM {TABLE} WHERE record_id=? AND response "
            "IS NOT NULL ORDER BY seq LIMIT 1", (record_id,))
        return (row["request_sha256"], json.loads(row["response"])) if row else None

    def record(self, conn: sqlite3.Connection | None = None, **fields: Any) -> None:
        """Write one query record (in ``conn``'s transaction, or a new one)."""
        values = {"request_sha256": None, "response": None, **fields}
        if isinstance(values["response"], dict):
            values["response"] = json.dumps(values["response"], ensure_ascii=False)
        if conn is not None:
            RECORDS.insert(conn, **values)
            return
        with self.db.transaction() as own:
            RECORDS.insert(own, **values)

    def records(self, juminhyo_code: str | None, after: int, limit: int
                ) -> tuple[list[dict[str, Any]], bool]:
        """The query records (of one person when ``juminhyo_code`` is given), oldest first."""
        where, params = ("juminhyo_code=?", (juminhyo_code,)) if juminhyo_code else ("", ())
        rows, more = seq_page(self.db, f"SELECT {', '.join(RECORD_FIELDS)} FROM {TABLE}",
                              where, params, after, limit)
        return [dict(r) for r in rows], more
