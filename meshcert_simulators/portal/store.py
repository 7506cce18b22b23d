"""The portal's durable state (SQLite, survives a restart): delegations, move-out filings,
e-applications, notices, and the cursors of the registry feeds it follows.

Filings are kept as JSON documents keyed by id, with the columns they are looked up by; the
(filer, idempotency key) pair is unique, so a resend can never make a second filing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from meshcert_simulators.common.storage import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS delegations (
    id TEXT PRIMARY KEY,
    principal TEXT NOT NULL,
    proxy TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS delegations_principal ON delegations (principal);
CREATE INDEX IF NOT EXISTS delegations_proxy ON delegations (proxy);
CREATE TABLE IF NOT EXISTS filings (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,              -- moveout | application
    filer TEXT NOT NULL,             -- 住民票コード of who filed (the person or the proxy)
    applicant TEXT NOT NULL,         -- 住民票コード of whom it is for
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (kind, filer, idempotency_key)
);
CREATE INDEX IF NOT EXISTS filings_applicant ON filings (kind, applicant);
CREATE TABLE IF NOT EXISTS notices (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    person TEXT NOT NULL,
    source TEXT NOT NULL,            -- what made it (e.g. the registry change), once per person
    doc TEXT NOT NULL,
    read_at TEXT,
    UNIQUE (person, source)
);
CREATE INDEX IF NOT EXISTS notices_source ON notices (source);
CREATE TABLE IF NOT EXISTS feed_cursors (
    feed TEXT PRIMARY KEY,           -- <registry simulator>/<lg_code>
    after INTEGER NOT NULL
);
"""


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


def keyed_id(prefix: str, *parts: str) -> str:
    """An id derived from ``parts``: the same filing key always names the same filing, also at
    the registry (a resend that raced the first is recognised there as well)."""
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return f"{prefix}-{digest[:24]}"


def request_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


class PortalStore:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    # -- delegations -------------------------------------------------------------------------

    def add_delegation(self, principal: str, proxy: str, doc: dict[str, Any]) -> dict[str, Any]:
        doc = {**doc, "id": new_id("dg"), "created_at": stamp(self.clock()),
               "revoked_at": None}
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO delegations VALUES (?,?,?,?)",
                         (doc["id"], principal, proxy, json.dumps(doc, ensure_ascii=False)))
        return {**doc, "principal": principal, "proxy": proxy}

    def delegation(self, delegation_id: str) -> dict[str, Any] | None:
        row = self.db.query_one("SELECT principal, proxy, doc FROM delegations WHERE id=?",
                                (delegation_id,))
        return None if row is None else {**json.loads(row["doc"]),
                                         "principal": row["principal"], "proxy": row["proxy"]}

    def delegations_of(self, person: str) -> list[dict[str, Any]]:
        """Every delegation ``person`` granted or received, oldest first."""
        rows = self.db.query("SELECT principal, proxy, doc FROM delegations WHERE principal=? "
                             "OR proxy=? ORDER BY rowid", (person, person))
        return [{**json.loads(r["doc"]), "principal": r["principal"], "proxy": r["proxy"]}
                for r in rows]

    def revoke_delegation(self, delegation_id: str) -> dict[str, Any] | None:
        with self.db.transaction() as conn:
            row = conn.execute("SELECT doc FROM delegations WHERE id=?",
                               (delegation_id,)).fetchone()
            if row is None:
                return None
            doc = json.loads(row[0])
            if doc["revoked_at"] is None:
                doc["revoked_at"] = stamp(self.clock())
                conn.execute("UPDATE delegations SET doc=? WHERE id=?",
                             (json.dumps(doc, ensure_ascii=False), delegation_id))
        return self.delegation(delegation_id)

    # -- filings (move-outs, e-applications) -------------------------------------------------

    def filing_by_key(self, kind: str, filer: str, key: str) -> dict[str, Any] | None:
        row = self.db.query_one("SELECT request_hash, doc FROM filings WHERE kind=? AND filer=? "
                                "AND idempotency_key=?", (kind, filer, key))
        return None if row is None else {**json.loads(row["doc"]),
                                         "request_hash": row["request_hash"]}

    def add_filing(self, kind: str, filer: str, applicant: str, key: str, hashed: str,
                   doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Keep ``doc`` unless the key was used already; (the kept filing, newly added)."""
        with self.db.transaction() as conn:
            added = conn.execute(
                "INSERT OR IGNORE INTO filings VALUES (?,?,?,?,?,?,?)",
                (doc["id"], kind, filer, applicant, key, hashed,
                 json.dumps(doc, ensure_ascii=False))).rowcount == 1
        kept = self.filing_by_key(kind, filer, key)
        assert kept is not None
        return kept, added

    def filing(self, kind: str, filing_id: str) -> dict[str, Any] | None:
        row = self.db.query_one("SELECT doc FROM filings WHERE kind=? AND id=?",
                                (kind, filing_id))
        return None if row is None else dict(json.loads(row["doc"]))

    def filings_for(self, kind: str, applicant: str) -> list[dict[str, Any]]:
        """Every filing of ``kind`` for ``applicant`` (by them or a proxy), oldest first."""
        rows = self.db.query("SELECT doc FROM filings WHERE kind=? AND applicant=? "
                             "ORDER BY rowid", (kind, applicant))
        return [dict(json.loads(r["doc"])) for r in rows]

    # -- notices -----------------------------------------------------------------------------

    def add_notice(self, person: str, source: str, doc: dict[str, Any]) -> bool:
        """Keep a notice for ``person`` once per ``source``; whether it is new."""
        doc = {**doc, "id": new_id("nt"), "created_at": stamp(self.clock())}
        with self.db.transaction() as conn:
            return conn.execute("INSERT OR IGNORE INTO notices (id, person, source, doc) "
                                "VALUES (?,?,?,?)", (doc["id"], person, source,
                                                     json.dumps(doc, ensure_ascii=False))
                                ).rowcount == 1

    def add_keyed_notice(self, person: str, source: str, doc: dict[str, Any]
                         ) -> tuple[str, dict[str, Any], bool]:
        """Keep a notice under ``source`` unless one is kept there already, for anyone;
        (its person, the kept notice, newly added)."""
        fresh = {**doc, "id": new_id("nt"), "created_at": stamp(self.clock())}
        with self.db.transaction() as conn:
            row = conn.execute("SELECT person, doc FROM notices WHERE source=?",
                               (source,)).fetchone()
            if row is not None:
                return row[0], dict(json.loads(row[1])), False
            conn.execute("INSERT INTO notices (id, person, source, doc) VALUES (?,?,?,?)",
                         (fresh["id"], person, source, json.dumps(fresh, ensure_ascii=False)))
        return person, fresh, True

    def notices_of(self, person: str) -> list[dict[str, Any]]:
        """The person's notices, newest first."""
        rows = self.db.query("SELECT doc, read_at FROM notices WHERE person=? ORDER BY seq DESC",
                             (person,))
        return [{**json.loads(r["doc"]), "read_at": r["read_at"]} for r in rows]

    def mark_read(self, person: str, notice_id: str) -> dict[str, Any] | None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE notices SET read_at=? WHERE id=? AND person=? AND "
                         "read_at IS NULL", (stamp(self.clock()), notice_id, person))
        row = self.db.query_one("SELECT doc, read_at FROM notices WHERE id=? AND person=?",
                                (notice_id, person))
        return None if row is None else {**json.loads(row["doc"]), "read_at": row["read_at"]}

    # -- feed cursors ------------------------------------------------------------------------

    def cursor(self, feed: str) -> int:
        row = self.db.query_one("SELECT after FROM feed_cursors WHERE feed=?", (feed,))
        return int(row["after"]) if row else 0

    def set_cursor(self, feed: str, after: int) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO feed_cursors VALUES (?,?) ON CONFLICT (feed) DO UPDATE "
                         "SET after=max(after, excluded.after)", (feed, after))
