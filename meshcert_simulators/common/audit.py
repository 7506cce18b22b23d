"""Hash-chained operation logs: who did what to which record, and whether a My Number was read.

Each entry's hash covers its own fields and the previous entry's hash, so changing, removing or
reordering any entry breaks every hash after it. Chains are kept per scope (one per municipality).
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import orjson

GENESIS = "0" * 64

AUDIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    scope TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    operator TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    mynumber_accessed INTEGER NOT NULL,
    request_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (scope, seq)
);
"""


@dataclass(frozen=True)
class AuditEntry:
    scope: str
    seq: int
    at: str
    operator: str
    action: str
    target: str
    mynumber_accessed: bool
    request_id: str | None
    prev_hash: str
    hash: str


def canonical(fields: list[object]) -> bytes:
    """The compact JSON array the hash covers: no spaces, non-ASCII not escaped, UTF-8 —
    ``json.dumps(fields, ensure_ascii=False, separators=(",", ":"))``, made by orjson (the same
    bytes for strings, whole numbers, booleans and null; tests/unit/test_audit.py)."""
    return orjson.dumps(fields)


def entry_hash(scope: str, seq: int, at: str, operator: str, action: str, target: str,
               mynumber_accessed: bool, request_id: str | None, prev_hash: str) -> str:
    return hashlib.sha256(canonical(
        [scope, seq, at, operator, action, target, mynumber_accessed, request_id, prev_hash]
    )).hexdigest()


def append(conn: sqlite3.Connection, scope: str, operator: str, action: str, target: str,
           mynumber_accessed: bool, request_id: str | None) -> None:
    """Add an entry inside the caller's transaction (so the log commits with the change)."""
    last = conn.execute("SELECT seq, hash FROM audit_log WHERE scope = ? ORDER BY seq DESC "
                        "LIMIT 1", (scope,)).fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    digest = entry_hash(scope, seq, at, operator, action, target, mynumber_accessed,
                        request_id, prev)
    conn.execute("INSERT INTO audit_log VALUES (?,?,?,?,?,?,?,?,?,?)",
                 (scope, seq, at, operator, action, target, int(mynumber_accessed), request_id,
                  prev, digest))


def _entry(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(row["scope"], row["seq"], row["at"], row["operator"], row["action"],
                      row["target"], bool(row["mynumber_accessed"]), row["request_id"],
                      row["prev_hash"], row["hash"])


def entries(rows: list[sqlite3.Row]) -> list[AuditEntry]:
    return [_entry(r) for r in rows]


@dataclass(frozen=True)
class ChainCheck:
    valid: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str | None = None


def verify_chain(chain: list[AuditEntry]) -> ChainCheck:
    """Recompute every hash in order; report the first entry that does not hold."""
    prev = GENESIS
    for expected_seq, entry in enumerate(chain, start=1):
        if entry.seq != expected_seq:
            return ChainCheck(False, len(chain), prev, expected_seq,
                              f"entry {expected_seq} is missing (found {entry.seq})")
        if entry.prev_hash != prev:
            return ChainCheck(False, len(chain), prev, entry.seq,
                              "prev_hash does not match the previous entry")
        fields = {k: v for k, v in asdict(entry).items() if k not in ("hash",)}
        if entry_hash(**fields) != entry.hash:
            return ChainCheck(False, len(chain), prev, entry.seq,
                              "the entry's content does not match its hash")
        prev = entry.hash
    return ChainCheck(True, len(chain), prev)
