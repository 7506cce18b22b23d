"""Durable state of the JPKI-like CA: the certificates issued to cards with their keys (the
simulated cards keep their keys here), revocations, and the cursors of the registry feed.

A person has at most one live certificate of each kind: a new one is issued only when there is
none (the first signature, or the first after a revocation).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from meshcert_simulators.common.storage import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS certificates (
    serial TEXT PRIMARY KEY,
    juminhyo_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    facts TEXT,
    issued_at TEXT NOT NULL,
    not_after TEXT NOT NULL,
    revoked_at TEXT,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS certificates_of_person ON certificates (juminhyo_code, kind);
CREATE TABLE IF NOT EXISTS feed_cursors (
    source TEXT NOT NULL,
    lg_code TEXT NOT NULL,
    after INTEGER NOT NULL,
    PRIMARY KEY (source, lg_code)
);
"""


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class JpkiStore:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    def live(self, juminhyo_code: str, kind: str) -> sqlite3.Row | None:
        """The person's unrevoked certificate of ``kind``, if any."""
        return self.db.query_one(
            "SELECT * FROM certificates WHERE juminhyo_code=? AND kind=? AND revoked_at IS NULL "
            "ORDER BY issued_at DESC LIMIT 1", (juminhyo_code, kind))

    def add(self, serial: str, juminhyo_code: str, kind: str, certificate_pem: str,
            private_key_pem: str, facts: dict[str, str] | None, not_after: datetime) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO certificates (serial, juminhyo_code, kind, "
                         "certificate_pem, private_key_pem, facts, issued_at, not_after) "
                         "VALUES (?,?,?,?,?,?,?,?)",
                         (serial, juminhyo_code, kind, certificate_pem, private_key_pem,
                          None if facts is None else json.dumps(facts, ensure_ascii=False),
                          stamp(self.clock()), stamp(not_after)))

    def get(self, serial: str) -> sqlite3.Row | None:
        return self.db.query_one("SELECT * FROM certificates WHERE serial=?", (serial,))

    def revoke_live(self, juminhyo_code: str, kinds: tuple[str, ...], reason: str) -> list[str]:
        """Revoke the person's live certificates of ``kinds``; the serials revoked."""
        marks = ",".join("?" for _ in kinds)
        with self.db.transaction() as conn:
            rows = conn.execute(f"SELECT serial FROM certificates WHERE juminhyo_code=? AND "
                                f"kind IN ({marks}) AND revoked_at IS NULL",
                                (juminhyo_code, *kinds)).fetchall()
            conn.executemany("UPDATE certificates SET revoked_at=?, reason=? WHERE serial=?",
                             [(stamp(self.clock()), reason, r["serial"]) for r in rows])
        return [r["serial"] for r in rows]

    def revoked(self) -> list[sqlite3.Row]:
        return self.db.query("SELECT serial, revoked_at, reason FROM certificates "
                             "WHERE revoked_at IS NOT NULL ORDER BY revoked_at, serial")

    def facts_of(self, row: sqlite3.Row) -> dict[str, str] | None:
        return None if row["facts"] is None else json.loads(row["facts"])

    # -- the registry feed's cursors -------------------------------------------------------

    def cursor(self, source: str, lg_code: str) -> int:
        row = self.db.query_one("SELECT after FROM feed_cursors WHERE source=? AND lg_code=?",
                                (source, lg_code))
        return int(row[0]) if row else 0

    def move_cursor(self, source: str, lg_code: str, after: int) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO feed_cursors VALUES (?,?,?) ON CONFLICT (source, lg_code) "
                         "DO UPDATE SET after=excluded.after", (source, lg_code, after))

    def describe(self, row: sqlite3.Row) -> dict[str, Any]:
        """A certificate as the lookup answers it (no key, no person identifier)."""
        return {"serial": row["serial"], "kind": row["kind"],
                "certificate": row["certificate_pem"], "issued_at": row["issued_at"],
                "not_after": row["not_after"],
                "status": "revoked" if row["revoked_at"] else "good",
                "revoked_at": row["revoked_at"], "reason": row["reason"]}
