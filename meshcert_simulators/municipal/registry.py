"""The resident register: records, households, the difference feed, numbering, and auditing.

Every write goes through :meth:`Registry.write`, which bumps the record's version, appends a feed
entry and an audit entry in the same transaction; so the feed and the operation log can never
disagree with the records.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import orjson
from joserfc.jwk import Key, KeySet

from meshcert_simulators.common import audit, checkpoints, faults
from meshcert_simulators.common.identifiers import (
    generate_juminhyo_code,
    generate_my_number,
    mod11_check_digit,
)
from meshcert_simulators.common.japanese_calendar import EraTable
from meshcert_simulators.common.paging import seq_page
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.storage import Database
from meshcert_simulators.municipal.models import RELATIONSHIPS

JST = timezone(timedelta(hours=9))  # Japan keeps no daylight saving time

SCHEMA = audit.AUDIT_SCHEMA + checkpoints.CHECKPOINT_SCHEMA + """
CREATE TABLE IF NOT EXISTS residents (
    lg_code TEXT NOT NULL,
    atena_number TEXT NOT NULL,
    setai_number TEXT NOT NULL,
    juminhyo_code TEXT NOT NULL,
    my_number TEXT NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (lg_code, atena_number)
);
CREATE INDEX IF NOT EXISTS residents_household ON residents (lg_code, setai_number);
CREATE INDEX IF NOT EXISTS residents_juminhyo ON residents (lg_code, juminhyo_code);
CREATE INDEX IF NOT EXISTS residents_mynumber ON residents (lg_code, my_number);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    lg_code TEXT NOT NULL,
    atena_number TEXT NOT NULL,
    change_type TEXT NOT NULL,
    event_id TEXT,
    changed_at TEXT NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_municipality ON changes (lg_code, seq);
CREATE TABLE IF NOT EXISTS counters (
    lg_code TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (lg_code, name)
);
CREATE TABLE IF NOT EXISTS requests (
    lg_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    request_key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (lg_code, kind, request_key)
);
"""


@dataclass(frozen=True)
class Actor:
    """Who is acting, for the audit log and for what they may see."""

    client_id: str
    request_id: str | None
    may_read_mynumber: bool


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class Registry:
    """The register of every municipality one simulator process hosts."""

    eras: EraTable | None = None  # the era table dates are converted with; None: the shipped one

    def __init__(self, db: Database, municipalities: Iterable[str],
                 clock: Callable[[], datetime] = faults.now, seed: int | None = None,
                 checkpoint_key: Key | None = None) -> None:
        self.db = db
        self.municipalities = frozenset(municipalities)
        self.clock = clock
        self._rng = random.Random(seed)
        # Signs the audit chain's head (checkpoints); kept apart from the log it anchors.
        self.checkpoint_key = checkpoint_key or checkpoints.generate_key()

    # -- reading ---------------------------------------------------------------------------

    def check_hosted(self, lg_code: str) -> None:
        if lg_code not in self.municipalities:
            raise Problem(404, "unknown-municipality", "Municipality not hosted here",
                          f"this simulator hosts {sorted(self.municipalities)}, not {lg_code}")

    def today(self) -> date:
        return self.clock().astimezone(JST).date()

    def load(self, conn: sqlite3.Connection, lg_code: str, atena: str) -> dict[str, Any]:
        row = conn.execute("SELECT record FROM residents WHERE lg_code=? AND atena_number=?",
                           (lg_code, atena)).fetchone()
        if row is None:
            raise Problem(404, "resident-not-found", "No such resident",
                          f"no record with 宛名番号 {atena} in {lg_code}", atena_number=atena)
        return orjson.loads(row["record"])

    def read_resident(self, lg_code: str, atena: str, actor: Actor) -> dict[str, Any]:
        with self.refusals_logged(lg_code, actor, "resident.read", atena), \
                self.db.transaction() as conn:
            record = self.load(conn, lg_code, atena)
            self.log(conn, lg_code, actor, "resident.read", atena, actor.may_read_mynumber)
        return self._visible(record, actor)

    def find_by_juminhyo(self, lg_code: str, code: str, actor: Actor) -> dict[str, Any]:
        with self.refusals_logged(lg_code, actor, "resident.find", code), \
                self.db.transaction() as conn:
            row = conn.execute(
                "SELECT record FROM residents WHERE lg_code=? AND juminhyo_code=? "
                "ORDER BY status = 'resident' DESC, version DESC LIMIT 1",
                (lg_code, code)).fetchone()
            if row is None:
                raise Problem(404, "resident-not-found", "No such resident",
                              f"no record with 住民票コード {code} in {lg_code}")
            record = orjson.loads(row["record"])
            self.log(conn, lg_code, actor, "resident.find", record["atena_number"],
                     actor.may_read_mynumber)
        return self._visible(record, actor)

    def read_household(self, lg_code: str, setai: str, actor: Actor) -> list[dict[str, Any]]:
        with self.refusals_logged(lg_code, actor, "household.read", setai), \
                self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT record FROM residents WHERE lg_code=? AND setai_number=? "
                "AND status='resident' ORDER BY atena_number", (lg_code, setai)).fetchall()
            if not rows:
                raise Problem(404, "household-not-found", "No such household",
                              f"no current household with 世帯番号 {setai} in {lg_code}")
            members = [orjson.loads(r["record"]) for r in rows]
            for member in members:
                self.log(conn, lg_code, actor, "household.read", member["atena_number"],
                         actor.may_read_mynumber)
        members.sort(key=lambda m: (m["relationship"]["code"] != "02", m["atena_number"]))
        return [self._visible(m, actor) for m in members]

    def read_changes(self, lg_code: str, after: int, limit: int, actor: Actor
                     ) -> tuple[list[dict[str, Any]], bool]:
        # One row more than asked tells whether another page follows.
        page, more = seq_page(
            self.db, "SELECT seq, change_type, event_id, atena_number, changed_at, snapshot "
            "FROM changes", "lg_code=?", (lg_code,), after, limit)
        if page:
            with self.db.transaction() as conn:
                self.log(conn, lg_code, actor, "changes.read",
                         f"seq {page[0]['seq']}-{page[-1]['seq']}", actor.may_read_mynumber)
        entries = [{"seq": r["seq"], "change_type": r["change_type"], "event_id": r["event_id"],
                    "atena_number": r["atena_number"], "changed_at": r["changed_at"],
                    "record": self._visible(orjson.loads(r["snapshot"]), actor)} for r in page]
        return entries, more

    @staticmethod
    def _visible(record: dict[str, Any], actor: Actor) -> dict[str, Any]:
        if actor.may_read_mynumber:
            return record
        return {k: v for k, v in record.items() if k != "my_number"}

    @contextmanager
    def refusals_logged(self, lg_code: str, actor: Actor, action: str, target: str
                        ) -> Iterator[None]:
        """A read refused inside the block (a 4xx problem: no such record) is logged as
        ``<action>.refused`` before the refusal goes out."""
        try:
            yield
        except Problem as problem:
            if 400 <= problem.status < 500:
                self.log_refused(lg_code, actor, action, target)
            raise

    def log_refused(self, lg_code: str, actor: Actor, action: str, target: str) -> None:
        """Log a refused read (no data went out, so no My Number was read)."""
        with self.db.transaction() as conn:
            self.log(conn, lg_code, actor, f"{action}.refused", target, False)

    # -- writing ---------------------------------------------------------------------------

    def log(self, conn: sqlite3.Connection, lg_code: str, actor: Actor, action: str,
            target: str, mynumber_accessed: bool) -> None:
        audit.append(conn, lg_code, actor.client_id, action, target, mynumber_accessed,
                     actor.request_id)

    def write(self, conn: sqlite3.Connection, lg_code: str, record: dict[str, Any],
              change_type: str, event_id: str | None, actor: Actor) -> dict[str, Any]:
        """Store a new version of ``record`` with its feed entry and audit entry."""
        atena = record["atena_number"]
        row = conn.execute("SELECT version FROM residents WHERE lg_code=? AND atena_number=?",
                           (lg_code, atena)).fetchone()
        stamp = self.clock().isoformat(timespec="microseconds")
        record = {**record, "lg_code": lg_code, "version": (row[0] + 1) if row else 1,
                  "updated_at": stamp}
        code = record["relationship"]["code"] if isinstance(record["relationship"], dict) \
            else record["relationship"]
        record["relationship"] = {"code": code, "label": RELATIONSHIPS[code]}
        body = to_json(record)
        conn.execute(
            "INSERT INTO residents VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(lg_code, atena_number) "
            "DO UPDATE SET setai_number=excluded.setai_number, "
            "juminhyo_code=excluded.juminhyo_code, my_number=excluded.my_number, "
            "status=excluded.status, record=excluded.record, version=excluded.version, "
            "updated_at=excluded.updated_at",
            (lg_code, atena, record["setai_number"], record["juminhyo_code"],
             record["my_number"], record["status"], body, record["version"], stamp))
        conn.execute("INSERT INTO changes (lg_code, atena_number, change_type, event_id, "
                     "changed_at, snapshot) VALUES (?,?,?,?,?,?)",
                     (lg_code, atena, change_type, event_id, stamp, body))
        self.log(conn, lg_code, actor, f"resident.{change_type}", atena, False)
        return record

    def check_one_head(self, conn: sqlite3.Connection, lg_code: str, setai: str) -> None:
        """Refuse a change that leaves a household with more than one head (続柄 02)."""
        rows = conn.execute("SELECT record FROM residents WHERE lg_code=? AND setai_number=? "
                            "AND status='resident'", (lg_code, setai)).fetchall()
        heads = [r for r in rows if orjson.loads(r[0])["relationship"]["code"] == "02"]
        if len(heads) > 1:
            raise Problem(422, "household-head", "A household has one head",
                          f"世帯番号 {setai} already has a head (続柄 02); change the head with "
                          "a head-change instead", setai_number=setai)

    def next_number(self, conn: sqlite3.Connection, lg_code: str, name: str) -> str:
        """The next free 宛名番号 or 世帯番号: a 9-digit sequence plus its modulus-11 digit."""
        row = conn.execute("SELECT value FROM counters WHERE lg_code=? AND name=?",
                           (lg_code, name)).fetchone()
        value = row[0] if row else 500_000_000  # above what the population generator uses
        while True:
            value += 1
            body = f"{value:09d}"
            try:
                number = body + mod11_check_digit(body)
            except ValueError:
                continue  # bodies with no valid check digit are never issued
            taken = conn.execute(
                f"SELECT 1 FROM residents WHERE lg_code=? AND "
                f"{'atena_number' if name == 'atena' else 'setai_number'}=? LIMIT 1",
                (lg_code, number)).fetchone()
            if not taken:
                break
        conn.execute("INSERT INTO counters VALUES (?,?,?) ON CONFLICT(lg_code, name) "
                     "DO UPDATE SET value=excluded.value", (lg_code, name, value))
        return number

    def new_my_number(self, conn: sqlite3.Connection, lg_code: str) -> str:
        while True:
            number = generate_my_number(self._rng)
            if not conn.execute("SELECT 1 FROM residents WHERE my_number=? LIMIT 1",
                                (number,)).fetchone():
                return number

    def new_juminhyo_code(self) -> str:
        return generate_juminhyo_code(self._rng)

    def remember(self, conn: sqlite3.Connection, lg_code: str, kind: str, key: str,
                 body_hash: str, result: dict[str, Any]) -> None:
        conn.execute("INSERT INTO requests VALUES (?,?,?,?,?,?)",
                     (lg_code, kind, key, body_hash, to_json(result),
                      self.clock().isoformat(timespec="microseconds")))

    def recall(self, conn: sqlite3.Connection | None, lg_code: str, kind: str, key: str,
               body_hash: str) -> dict[str, Any] | None:
        """An earlier result for the same idempotency key; 409 if the body differs."""
        sql = ("SELECT body_hash, result FROM requests WHERE lg_code=? AND kind=? "
               "AND request_key=?")
        params = (lg_code, kind, key)
        row = (conn.execute(sql, params).fetchone() if conn else self.db.query_one(sql, params))
        if row is None:
            return None
        if row["body_hash"] != body_hash:
            raise Problem(409, "idempotency-key-reused", "Identifier already used",
                          f"{kind} {key!r} was already submitted with a different body; "
                          "use a new identifier for a new request", key=key)
        return orjson.loads(row["result"])

    # -- audit -----------------------------------------------------------------------------

    def audit_entries(self, lg_code: str, after: int, limit: int) -> list[audit.AuditEntry]:
        return audit.entries(self.db.query(
            "SELECT * FROM audit_log WHERE scope=? AND seq>? ORDER BY seq LIMIT ?",
            (lg_code, after, limit)))

    def checkpoint(self, lg_code: str) -> checkpoints.Checkpoint:
        """A signed checkpoint of the chain's head now (the stored one if the head has not
        moved since it was signed; seq 0 and 64 zeros for an empty chain)."""
        # Read first: most exports find the head already signed (and write nothing).
        row = self.db.query_one(
            "SELECT h.hash AS head, c.* FROM (SELECT seq, hash FROM audit_log "
            "WHERE scope=? ORDER BY seq DESC LIMIT 1) AS h LEFT JOIN audit_checkpoints AS c "
            "ON c.scope=? AND c.seq=h.seq", (lg_code, lg_code))
        if row is not None and row["jws"] is not None and row["head_hash"] == row["head"]:
            return checkpoints.stored([row])[0]
        with self.db.transaction() as conn:
            head = conn.execute("SELECT seq, hash FROM audit_log WHERE scope=? ORDER BY seq DESC "
                                "LIMIT 1", (lg_code,)).fetchone()
            seq, head_hash = (head[0], head[1]) if head else (0, audit.GENESIS)
            made = checkpoints.sign(self.checkpoint_key, lg_code, seq, head_hash, self.clock())
            checkpoints.store(conn, made)
        return made

    def checkpoint_keys(self) -> KeySet:
        return KeySet([self.checkpoint_key])

    def verify_audit(self, lg_code: str, anchor: checkpoints.Checkpoint | None = None
                     ) -> tuple[audit.ChainCheck, int]:
        """The chain recomputed, then held against every checkpoint signed of it (and the
        caller's ``anchor``): (the verdict, how many checkpoints were checked)."""
        chain = audit.entries(self.db.query(
            "SELECT * FROM audit_log WHERE scope=? ORDER BY seq", (lg_code,)))
        check = audit.verify_chain(chain)
        signed = checkpoints.stored(self.db.query(
            "SELECT * FROM audit_checkpoints WHERE scope=? ORDER BY seq", (lg_code,)))
        anchors = [*signed, *([anchor] if anchor else [])]
        if not check.valid:
            return check, 0  # broken already: no checkpoint was needed to see it
        return checkpoints.check_chain(check, [e.hash for e in chain], anchors,
                                       self.checkpoint_keys()), len(anchors)
