"""Durable state of the intermediate server: copies (副本), art. 23 provision records, and the
sync cursors of the batch pull from the resident registry.

Which copy answers (invariant 6): of the versions registered for (institution, 符号, item), the
highest one whose publication has started (``publication_start <= now``) is current — a newer
version replaces an older one from its publication start on, and the older is never served again.
It is served only while ``now < publication_end`` (open end: no end); otherwise "no data".
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from meshcert_simulators.common.identifiers import find_my_numbers
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.provision_records import ProvisionRecords
from meshcert_simulators.common.storage import Database
from meshcert_simulators.jlis.models import (
    ITEM_NO_DATA,
    ITEM_PROVIDED,
    LINE_PROCESSED,
    CopyRegistration,
    ProvisionRequest,
)

# The intermediate server's art. 23 records: one per inquiry answered from a copy.
RECORDS = ProvisionRecords(
    unique=True,
    columns=(("inquirer_client", "TEXT NOT NULL"), ("provider", "TEXT"),
             ("procedure_code", "TEXT NOT NULL"), ("item_code", "TEXT NOT NULL"),
             ("requested_at", "TEXT NOT NULL"), ("provided_at", "TEXT NOT NULL"),
             ("outcome", "TEXT NOT NULL"), ("item_status", "TEXT NOT NULL"),
             ("copy_version", "INTEGER")))

SCHEMA = """
CREATE TABLE IF NOT EXISTS copies (
    institution TEXT NOT NULL,
    code TEXT NOT NULL,
    item_code TEXT NOT NULL,
    version INTEGER NOT NULL,
    data_set_key TEXT NOT NULL,
    publication_start TEXT NOT NULL,
    publication_end TEXT,
    payload TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    PRIMARY KEY (institution, code, item_code, version)
);
CREATE INDEX IF NOT EXISTS copies_by_code ON copies (code, item_code);
""" + RECORDS.schema + """CREATE TABLE IF NOT EXISTS sync_cursors (
    source TEXT NOT NULL,
    lg_code TEXT NOT NULL,
    after INTEGER NOT NULL,
    PRIMARY KEY (source, lg_code)
);
"""


NO_DATA_MESSAGE = "no copy of this item is published for this code now"


def now_utc() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def refuse_my_numbers(doc: Any) -> None:
    """Invariant 1: the intermediate server never holds a My Number."""
    found = find_my_numbers(json.dumps(doc, ensure_ascii=False))
    if found:
        raise Problem(422, "my-number-in-copy", "A My Number must not be registered",
                      f"the copy contains {len(found)} value(s) that pass the My Number check "
                      "digit; register the data keyed by the 符号, without the My Number")


def current_copy(rows: list[sqlite3.Row], now: datetime) -> sqlite3.Row | None:
    """The copy to serve at ``now`` among the versions of one key (see the module doc)."""
    started = [r for r in rows if parse(r["publication_start"]) <= now]  # type: ignore[operator]
    if not started:
        return None
    newest = max(started, key=lambda r: r["version"])
    end = parse(newest["publication_end"])
    return newest if end is None or now < end else None


class JlisStore:
    def __init__(self, db: Database, clock: Callable[[], datetime] = now_utc) -> None:
        self.db = db
        self.clock = clock

    # -- copies ----------------------------------------------------------------------------

    def register(self, institution: str, code: str, item_code: str, body: CopyRegistration,
                 by: str) -> dict[str, Any]:
        if body.publication_end is not None and body.publication_end <= body.publication_start:
            raise Problem(422, "invalid-publication-window", "Publication window is empty",
                          "publication_end must be after publication_start")
        refuse_my_numbers({"code": code, "data_set_key": body.data_set_key,
                           "payload": body.payload})
        with self.db.transaction() as conn:
            return self._insert(conn, institution, code, item_code, body, by)

    def _insert(self, conn: sqlite3.Connection, institution: str, code: str, item_code: str,
                body: CopyRegistration, by: str) -> dict[str, Any]:
        latest = self.latest_version(conn, institution, code, item_code)
        if latest is not None and body.version <= latest:
            raise Problem(409, "copy-version-not-newer", "Copy version is not newer",
                          f"version {body.version} is not newer than the registered version "
                          f"{latest}; a copy is replaced only by a newer version",
                          registered_version=latest)
        registered_at = stamp(self.clock())
        end = stamp(body.publication_end) if body.publication_end else None
        conn.execute("INSERT INTO copies VALUES (?,?,?,?,?,?,?,?,?,?)",
                     (institution, code, item_code, body.version, body.data_set_key,
                      stamp(body.publication_start), end,
                      json.dumps(body.payload, ensure_ascii=False), registered_at, by))
        return {"institution": institution, "code": code, "item_code": item_code,
                "data_set_key": body.data_set_key, "version": body.version,
                "publication_start": stamp(body.publication_start), "publication_end": end,
                "registered_at": registered_at}

    def copies(self, institution: str, code: str, item_code: str) -> list[dict[str, Any]]:
        """Every version registered for the key, oldest first, as registered (no payload)."""
        rows = self.db.query("SELECT * FROM copies WHERE institution=? AND code=? AND "
                             "item_code=? ORDER BY version", (institution, code, item_code))
        return [{"institution": r["institution"], "code": r["code"],
                 "item_code": r["item_code"], "data_set_key": r["data_set_key"],
                 "version": r["version"], "publication_start": r["publication_start"],
                 "publication_end": r["publication_end"], "registered_at": r["registered_at"]}
                for r in rows]

    def latest_version(self, conn: sqlite3.Connection, institution: str, code: str,
                       item_code: str) -> int | None:
        row = conn.execute("SELECT MAX(version) FROM copies WHERE institution=? AND code=? "
                           "AND item_code=?", (institution, code, item_code)).fetchone()
        return row[0] if row else None

    # -- inquiries ---------------------------------------------------------------------------

    def provide(self, body: ProvisionRequest, inquirer: str) -> dict[str, Any]:
        """Answer one inquiry from the copy current now, and write the art. 23 record."""
        requested_at = self.clock()
        with self.db.transaction() as conn:
            if RECORDS.has(conn, body.record_id):
                raise Problem(409, "duplicate-record-id", "Duplicate record id",
                              f"record id {body.record_id!r} was already answered; an inquiry "
                              "is never processed twice", record_id=body.record_id)
            rows = conn.execute("SELECT * FROM copies WHERE code=? AND item_code=?",
                                (body.code, body.item_code)).fetchall()
            providers = sorted({r["institution"] for r in rows})
            if len(providers) > 1:
                raise Problem(409, "ambiguous-code", "The code names copies of several providers",
                              "a 符号 is issued to one institution; these copies conflict",
                              providers=providers)
            chosen = current_copy(rows, requested_at)
            provider = providers[0] if providers else None
            provided_at = self.clock()
            item: dict[str, Any] = {"item_code": body.item_code,
                                    "status": ITEM_PROVIDED if chosen else ITEM_NO_DATA,
                                    "message": None if chosen else NO_DATA_MESSAGE,
                                    "payload": json.loads(chosen["payload"]) if chosen else None}
            RECORDS.insert(conn, record_id=body.record_id, inquirer_client=inquirer,
                           provider=provider, procedure_code=body.procedure_code,
                           item_code=body.item_code, requested_at=stamp(requested_at),
                           provided_at=stamp(provided_at),
                           outcome="provided" if chosen else "no-data",
                           item_status=item["status"],
                           copy_version=chosen["version"] if chosen else None)
        return {"status": LINE_PROCESSED, "items": [item]}

    def records(self, after: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        return RECORDS.page(self.db, after, limit)

    # -- sync cursors ------------------------------------------------------------------------

    def cursor(self, source: str, lg_code: str) -> int:
        row = self.db.query_one("SELECT after FROM sync_cursors WHERE source=? AND lg_code=?",
                                (source, lg_code))
        return int(row[0]) if row else 0

    def apply_page(self, source: str, lg_code: str, next_after: int,
                   copies: list[tuple[str, str, CopyRegistration]], by: str, *,
                   institution: str) -> tuple[int, int]:
        """Register a page of synced copies of ``institution`` and move the cursor, in one
        transaction.

        Returns (registered, skipped): a version already held (an earlier sync) is skipped."""
        registered = skipped = 0
        with self.db.transaction() as conn:
            for code, item_code, body in copies:
                latest = self.latest_version(conn, institution, code, item_code)
                if latest is not None and body.version <= latest:
                    skipped += 1
                    continue
                self._insert(conn, institution, code, item_code, body, by)
                registered += 1
            conn.execute("INSERT INTO sync_cursors VALUES (?,?,?) ON CONFLICT (source, lg_code) "
                         "DO UPDATE SET after=excluded.after", (source, lg_code, next_after))
        return registered, skipped
