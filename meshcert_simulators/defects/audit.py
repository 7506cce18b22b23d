"""Negative controls of the operation log (AUDIT-*): reads not logged, an unlinked chain, a
checkpoint that lags behind the head."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from meshcert_simulators.common import audit, checkpoints
from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import registry_as
from meshcert_simulators.municipal.registry import Actor, Registry

READS = frozenset({"resident.read", "resident.find", "household.read"})


class _ReadsNotLogged(Registry):
    """Logs writes only: reading a resident or a household leaves no trace."""

    def log(self, conn: sqlite3.Connection, lg_code: str, actor: Actor, action: str,
            target: str, mynumber_accessed: bool) -> None:
        if action not in READS:
            super().log(conn, lg_code, actor, action, target, mynumber_accessed)


class _ChainUnlinked(Registry):
    """Hashes every entry as if it were the first: its prev_hash is not the previous hash."""

    def log(self, conn: sqlite3.Connection, lg_code: str, actor: Actor, action: str,
            target: str, mynumber_accessed: bool) -> None:
        last = conn.execute("SELECT max(seq) FROM audit_log WHERE scope=?", (lg_code,)).fetchone()
        seq = (last[0] or 0) + 1
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        digest = audit.entry_hash(lg_code, seq, at, actor.client_id, action, target,
                                  mynumber_accessed, actor.request_id, audit.GENESIS)
        conn.execute("INSERT INTO audit_log VALUES (?,?,?,?,?,?,?,?,?,?)",
                     (lg_code, seq, at, actor.client_id, action, target, int(mynumber_accessed),
                      actor.request_id, audit.GENESIS, digest))


class _CheckpointBehindHead(Registry):
    """Signs the entry before the newest one as the head: the newest entry can be cut off
    and every checkpoint still holds."""

    def checkpoint(self, lg_code: str) -> checkpoints.Checkpoint:
        head = super().checkpoint(lg_code)
        if head.seq == 0:
            return head
        row = self.db.query_one("SELECT hash FROM audit_log WHERE scope=? AND seq=?",
                                (lg_code, head.seq - 1))
        return checkpoints.sign(self.checkpoint_key, lg_code, head.seq - 1,
                                row[0] if row else audit.GENESIS, self.clock())


defect("reads-not-logged", "municipal", "AUDIT-LOG-001",
       "reads of residents and households are not written to the operation log",
       patch=registry_as(_ReadsNotLogged))
defect("audit-chain-unlinked", "municipal", "AUDIT-CHAIN-001",
       "operation-log entries are hashed without the previous entry's hash (prev_hash is not "
       "the previous hash)",
       patch=registry_as(_ChainUnlinked))
defect("checkpoint-behind-head", "municipal", "AUDIT-CHECKPOINT-001",
       "the signed checkpoint of an export covers the entry before the newest one, so the "
       "newest entry can be cut off unseen",
       patch=registry_as(_CheckpointBehindHead))
