"""The independent provider's own SQLite: figures by 符号, the answers given per record id, and
its art. 23 provision records. Written from the contract alone (fixtures/specs/tax.openapi.json)."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TABLES = """
CREATE TABLE IF NOT EXISTS people (code TEXT PRIMARY KEY, figures TEXT NOT NULL,
                                   version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS answered (record_id TEXT NOT NULL, digest TEXT NOT NULL,
                                     answer TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS answered_once ON answered (record_id);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL, inquirer_client TEXT NOT NULL,
    procedure_code TEXT NOT NULL, item_code TEXT NOT NULL, requested_at TEXT NOT NULL,
    provided_at TEXT NOT NULL, outcome TEXT NOT NULL, item_status TEXT, data_version INTEGER);
"""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Store:
    def __init__(self, path: Path, *, unique_answers: bool = True) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.lock = threading.Lock()
        tables = TABLES if unique_answers else TABLES.replace("UNIQUE INDEX", "INDEX")
        self.db.executescript("PRAGMA journal_mode=WAL;" + tables)

    def seed(self, rows: list[tuple[str, dict[str, int]]]) -> int:
        """Store figures per 符号 as a new data version; returns it."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT INTO counters VALUES ('version', 1) ON CONFLICT(name) DO "
                            "UPDATE SET value = value + 1")
            version = self.db.execute("SELECT value FROM counters WHERE name='version'"
                                      ).fetchone()[0]
            self.db.executemany(
                "INSERT INTO people VALUES (?,?,?) ON CONFLICT(code) DO UPDATE SET "
                "figures=excluded.figures, version=excluded.version",
                [(code, json.dumps(figures), version) for code, figures in rows])
            self.db.execute("COMMIT")
        return int(version)

    def person(self, code: str) -> tuple[dict[str, int], int] | None:
        row = self.db.execute("SELECT * FROM people WHERE code=?", (code,)).fetchone()
        return (json.loads(row["figures"]), int(row["version"])) if row else None

    def people(self) -> list[tuple[str, dict[str, int], int]]:
        return [(r["code"], json.loads(r["figures"]), int(r["version"]))
                for r in self.db.execute("SELECT * FROM people ORDER BY code")]

    def version(self) -> int:
        row = self.db.execute("SELECT value FROM counters WHERE name='version'").fetchone()
        return int(row[0]) if row else 0

    def earlier(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        row = self.db.execute("SELECT * FROM answered WHERE record_id=?", (record_id,)).fetchone()
        return (row["digest"], json.loads(row["answer"])) if row else None

    def answer_once(self, record_id: str, digest: str, answer: dict[str, Any],
                    record: dict[str, Any]) -> bool:
        """Keep the answer and write its record together; False when the record id was
        answered meanwhile (then nothing is written)."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute("INSERT INTO answered VALUES (?,?,?)",
                                (record_id, digest, json.dumps(answer, ensure_ascii=False)))
            except sqlite3.IntegrityError:
                self.db.execute("ROLLBACK")
                return False
            self._record(record)
            self.db.execute("COMMIT")
        return True

    def record(self, record: dict[str, Any]) -> None:
        with self.lock:
            self._record(record)

    def _record(self, record: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO records (record_id, inquirer_client, procedure_code, item_code, "
            "requested_at, provided_at, outcome, item_status, data_version) VALUES "
            "(:record_id, :inquirer_client, :procedure_code, :item_code, :requested_at, "
            ":provided_at, :outcome, :item_status, :data_version)", record)

    def records(self, after: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        rows = self.db.execute("SELECT * FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
                               (after, limit + 1)).fetchall()
        return [dict(r) for r in rows[:limit]], len(rows) > limit
