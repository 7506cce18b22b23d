"""SQLite storage of the subscriber register: each resident's record as the feed last gave it,
the feed entries applied per person, and the cursor — one transaction per page, so a restart
resumes exactly where the last committed page ended (nothing applied twice, nothing lost)."""

from __future__ import annotations

import json
from typing import Any

from meshcert_simulators.common.storage import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscribers (
    lg_code TEXT NOT NULL,
    atena_number TEXT NOT NULL,
    setai_number TEXT NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (lg_code, atena_number)
);
CREATE INDEX IF NOT EXISTS subscribers_household ON subscribers (lg_code, setai_number);
CREATE TABLE IF NOT EXISTS applied (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lg_code TEXT NOT NULL,
    atena_number TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS applied_person ON applied (lg_code, atena_number);
CREATE TABLE IF NOT EXISTS cursors (
    lg_code TEXT PRIMARY KEY,
    after INTEGER NOT NULL
);
"""

# The parts of a registry record this register keeps (the rest is not its business).
KEPT = ("atena_number", "setai_number", "lg_code", "name", "birth_date", "address", "status",
        "my_number", "relationship")


def kept(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record.get(k) for k in KEPT}


class NhiStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def cursor(self, lg_code: str) -> int:
        row = self.db.query_one("SELECT after FROM cursors WHERE lg_code = ?", (lg_code,))
        return int(row["after"]) if row else 0

    def apply(self, lg_code: str, entries: list[dict[str, Any]], next_after: int) -> int:
        """Apply one feed page and move the cursor to ``next_after``, atomically; entries at
        or before the stored cursor are skipped. The number applied."""
        done = 0
        with self.db.transaction() as conn:
            row = conn.execute("SELECT after FROM cursors WHERE lg_code = ?",
                               (lg_code,)).fetchone()
            after = int(row[0]) if row else 0
            for entry in entries:
                if int(entry["seq"]) <= after:
                    continue
                self.write(conn, lg_code, entry)
                done += 1
            conn.execute("INSERT INTO cursors VALUES (?, ?) ON CONFLICT(lg_code) DO UPDATE "
                         "SET after = excluded.after", (lg_code, max(after, next_after)))
        return done

    def write(self, conn: Any, lg_code: str, entry: dict[str, Any]) -> None:
        record = kept(entry["record"])
        conn.execute("INSERT INTO subscribers VALUES (?,?,?,?,?) ON CONFLICT(lg_code, "
                     "atena_number) DO UPDATE SET setai_number = excluded.setai_number, "
                     "status = excluded.status, record = excluded.record",
                     (lg_code, record["atena_number"], record["setai_number"], record["status"],
                      json.dumps(record, ensure_ascii=False)))
        conn.execute("INSERT INTO applied (lg_code, atena_number, seq) VALUES (?,?,?)",
                     (lg_code, record["atena_number"], int(entry["seq"])))

    def resident(self, lg_code: str, atena_number: str) -> tuple[dict[str, Any], list[int]] | None:
        row = self.db.query_one("SELECT record FROM subscribers WHERE lg_code = ? AND "
                                "atena_number = ?", (lg_code, atena_number))
        if row is None:
            return None
        seqs = [int(r["seq"]) for r in self.db.query(
            "SELECT seq FROM applied WHERE lg_code = ? AND atena_number = ? ORDER BY id",
            (lg_code, atena_number))]
        return json.loads(row["record"]), seqs

    def household(self, lg_code: str, setai_number: str) -> list[str]:
        """The 宛名番号 of the household's members who are resident now."""
        return [r["atena_number"] for r in self.db.query(
            "SELECT atena_number FROM subscribers WHERE lg_code = ? AND setai_number = ? AND "
            "status = 'resident' ORDER BY atena_number", (lg_code, setai_number))]
