"""The register's SQLite file: residents, the difference feed, the hash-chained operation log,
and the answers kept for idempotent resends.

One connection, used only from the event loop's thread: every request's state work runs
without an ``await`` in between, so it is atomic with respect to other requests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
SCHEMA = """
CREATE TABLE IF NOT EXISTS residents (lg TEXT, atena TEXT, setai TEXT, juminhyo TEXT,
    my_number TEXT, status TEXT, record TEXT, PRIMARY KEY (lg, atena));
CREATE INDEX IF NOT EXISTS residents_setai ON residents (lg, setai);
CREATE INDEX IF NOT EXISTS residents_juminhyo ON residents (juminhyo);
CREATE INDEX IF NOT EXISTS residents_my_number ON residents (my_number);
CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, lg TEXT, entry TEXT);
CREATE INDEX IF NOT EXISTS changes_lg ON changes (lg, seq);
CREATE TABLE IF NOT EXISTS audit (lg TEXT, seq INTEGER, hash TEXT, entry TEXT,
    PRIMARY KEY (lg, seq));
CREATE TABLE IF NOT EXISTS checkpoints (lg TEXT, seq INTEGER, head_hash TEXT,
    PRIMARY KEY (lg, seq));
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS answers (lg TEXT, kind TEXT, id TEXT, fingerprint TEXT,
    answer TEXT, PRIMARY KEY (lg, kind, id));
"""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
                          ).hexdigest()


class Store:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: an exception rolls every write of the block back."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- residents ---------------------------------------------------------------------------

    def resident(self, lg: str, atena: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT record FROM residents WHERE lg=? AND atena=?",
                              (lg, atena)).fetchone()
        return json.loads(row[0]) if row else None

    def by_juminhyo(self, lg: str, code: str) -> dict[str, Any] | None:
        """The person with this 住民票コード: the current resident first, else the latest."""
        row = self.db.execute(
            "SELECT record FROM residents WHERE lg=? AND juminhyo=? "
            "ORDER BY status='resident' DESC, rowid DESC LIMIT 1", (lg, code)).fetchone()
        return json.loads(row[0]) if row else None

    def household(self, lg: str, setai: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT record FROM residents WHERE lg=? AND setai=? "
                               "AND status='resident'", (lg, setai)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def held(self, column: str, value: str) -> bool:
        """Whether a current resident of any municipality holds ``value``."""
        assert column in ("my_number", "juminhyo")
        return self.db.execute(f"SELECT 1 FROM residents WHERE {column}=? AND "
                               "status='resident' LIMIT 1", (value,)).fetchone() is not None

    def taken(self, column: str, value: str) -> bool:
        assert column in ("my_number", "atena", "setai")
        return self.db.execute(f"SELECT 1 FROM residents WHERE {column}=? LIMIT 1",
                               (value,)).fetchone() is not None

    def put(self, record: dict[str, Any], change: tuple[str, str | None] | None) -> None:
        """Write a record; with ``change`` (change type, event id) also its feed entry."""
        self.db.execute(
            "INSERT OR REPLACE INTO residents VALUES (?,?,?,?,?,?,?)",
            (record["lg_code"], record["atena_number"], record["setai_number"],
             record["juminhyo_code"], record.get("my_number"), record["status"],
             json.dumps(record, ensure_ascii=False)))
        if change is not None:
            entry = {"changed_at": record["updated_at"], "change_type": change[0],
                     "event_id": change[1], "atena_number": record["atena_number"],
                     "record": record}
            self.db.execute("INSERT INTO changes (lg, entry) VALUES (?,?)",
                            (record["lg_code"], json.dumps(entry, ensure_ascii=False)))

    def reset(self, lg: str) -> None:
        """The municipality's records and feed go; its operation log is never deleted."""
        self.db.execute("DELETE FROM residents WHERE lg=?", (lg,))
        self.db.execute("DELETE FROM changes WHERE lg=?", (lg,))
        self.db.execute("DELETE FROM answers WHERE lg=?", (lg,))

    def count(self, lg: str) -> int:
        return int(self.db.execute("SELECT count(*) FROM residents WHERE lg=?",
                                   (lg,)).fetchone()[0])

    # -- the difference feed -----------------------------------------------------------------

    def changes(self, lg: str, after: int, limit: int) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT seq, entry FROM changes WHERE lg=? AND seq>? "
                               "ORDER BY seq LIMIT ?", (lg, after, limit))
        return [{"seq": seq, **json.loads(entry)} for seq, entry in rows]

    # -- the operation log -------------------------------------------------------------------

    def log(self, lg: str, operator: str, action: str, target: str, mynumber: bool,
            request_id: str | None) -> None:
        """Append an entry: SHA-256 over the compact JSON array of its fields, in the
        exported order, ending with the previous entry's hash."""
        last, prev = self.head(lg)
        seq = last + 1
        entry = {"scope": lg, "seq": seq, "at": now(), "operator": operator, "action": action,
                 "target": target, "mynumber_accessed": mynumber, "request_id": request_id,
                 "prev_hash": prev}
        entry["hash"] = entry_hash(entry)
        self.db.execute("INSERT INTO audit VALUES (?,?,?,?)",
                        (lg, seq, entry["hash"], json.dumps(entry, ensure_ascii=False)))

    def head(self, lg: str) -> tuple[int, str]:
        """(seq, hash) of the newest entry; (0, GENESIS) for an empty chain."""
        row = self.db.execute("SELECT seq, hash FROM audit WHERE lg=? ORDER BY seq DESC "
                              "LIMIT 1", (lg,)).fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def audit(self, lg: str, after: int, limit: int) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT entry FROM audit WHERE lg=? AND seq>? ORDER BY seq "
                               "LIMIT ?", (lg, after, limit))
        return [json.loads(entry) for (entry,) in rows]

    def verify(self, lg: str, held: list[tuple[int, str]]) -> dict[str, Any]:
        """Recompute the chain, then hold it against checkpoints ``held`` ((seq, hash) each)
        and every one signed before: a missing or changed entry there means a cut-off tail."""
        hashes, prev, after = {0: GENESIS}, GENESIS, 0
        while entries := self.audit(lg, after, 1000):
            for entry in entries:
                if entry["prev_hash"] != prev or entry_hash(entry) != entry["hash"] \
                        or entry["seq"] != after + 1:
                    return {"valid": False, "entries": len(hashes) - 1, "head_hash": prev,
                            "first_bad_seq": entry["seq"], "reason": "hash chain broken"}
                prev = hashes[entry["seq"]] = entry["hash"]
                after = entry["seq"]
        signed = self.db.execute("SELECT seq, head_hash FROM checkpoints WHERE lg=?",
                                 (lg,)).fetchall()
        checks = [*held, *((int(a), str(b)) for a, b in signed)]
        for seq, head_hash in sorted(checks):
            if hashes.get(seq) != head_hash:
                return {"valid": False, "entries": len(hashes) - 1, "head_hash": prev,
                        "first_bad_seq": seq, "reason": f"checkpoint of entry {seq} not held",
                        "checkpoints_checked": len(checks)}
        return {"valid": True, "entries": len(hashes) - 1, "head_hash": prev,
                "first_bad_seq": None, "reason": None, "checkpoints_checked": len(checks)}

    def signed(self, lg: str, seq: int, head_hash: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO checkpoints VALUES (?,?,?)", (lg, seq, head_hash))

    def setting(self, name: str, make: Any) -> str:
        """A setting kept in the file (made by ``make()`` the first time)."""
        row = self.db.execute("SELECT value FROM settings WHERE name=?", (name,)).fetchone()
        if row is None:
            self.db.execute("INSERT INTO settings VALUES (?,?)", (name, value := make()))
            return str(value)
        return str(row[0])

    # -- answers kept for resends ------------------------------------------------------------

    def answer(self, lg: str, kind: str, key: str) -> tuple[str, Any] | None:
        row = self.db.execute("SELECT fingerprint, answer FROM answers WHERE lg=? AND kind=? "
                              "AND id=?", (lg, kind, key)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def keep(self, lg: str, kind: str, key: str, body_print: str, answer: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO answers VALUES (?,?,?,?,?)",
                        (lg, kind, key, body_print, json.dumps(answer, ensure_ascii=False)))


def entry_hash(entry: dict[str, Any]) -> str:
    fields = [entry["scope"], entry["seq"], entry["at"], entry["operator"], entry["action"],
              entry["target"], entry["mynumber_accessed"], entry["request_id"],
              entry["prev_hash"]]
    canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
