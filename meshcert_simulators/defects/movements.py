"""Negative controls of movement events (MOVE-*): how applying an 異動 goes wrong."""

from __future__ import annotations

import sqlite3
from typing import Any

from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import registry_as
from meshcert_simulators.municipal.registry import Actor, Registry


class _NotifiedDateLost(Registry):
    """Stores the processing date where the record's notified date belongs."""

    def write(self, conn: sqlite3.Connection, lg_code: str, record: dict[str, Any],
              change_type: str, event_id: str | None, actor: Actor) -> dict[str, Any]:
        if change_type != "seed" and isinstance(record.get("dates"), dict):
            record = {**record, "dates": {**record["dates"],
                                          "notified": record["dates"]["processed"]}}
        return super().write(conn, lg_code, record, change_type, event_id, actor)


class _NotIdempotent(Registry):
    """Ignores a movement's event_id: a resent movement is applied again."""

    def recall(self, conn: sqlite3.Connection | None, lg_code: str, kind: str, key: str,
               body_hash: str) -> dict[str, Any] | None:
        if kind == "movement":
            return None
        return super().recall(conn, lg_code, kind, key, body_hash)

    def remember(self, conn: sqlite3.Connection, lg_code: str, kind: str, key: str,
                 body_hash: str, result: dict[str, Any]) -> None:
        if kind != "movement":
            super().remember(conn, lg_code, kind, key, body_hash, result)


class _PartialMovement(Registry):
    """Commits each record of a movement on its own, so a movement refused half-way leaves the
    records written before the refusal (with their feed and log entries)."""

    def write(self, conn: sqlite3.Connection, lg_code: str, record: dict[str, Any],
              change_type: str, event_id: str | None, actor: Actor) -> dict[str, Any]:
        written = super().write(conn, lg_code, record, change_type, event_id, actor)
        if change_type != "seed":
            conn.execute("COMMIT")
            conn.execute("BEGIN IMMEDIATE")
        return written


class _TwoHeadsAllowed(Registry):
    """Never checks how many heads (続柄 02) a household has after a movement."""

    def check_one_head(self, conn: sqlite3.Connection, lg_code: str, setai: str) -> None:
        return None


defect("notified-date-lost", "municipal", "MOVE-DATES-001",
       "a movement's notified date is not kept: the record shows the processing date instead",
       patch=registry_as(_NotifiedDateLost))
defect("movements-not-idempotent", "municipal", "MOVE-IDEM-001",
       "a movement resent with the same event_id is applied again",
       patch=registry_as(_NotIdempotent))
defect("partial-movement", "municipal", "MOVE-ATOMIC-001",
       "a movement refused for one of its persons keeps the persons written before",
       patch=registry_as(_PartialMovement))
defect("two-heads-allowed", "municipal", "MOVE-HEAD-001",
       "a person joining a household, or a newborn, may be a second head (続柄 02)",
       patch=registry_as(_TwoHeadsAllowed))
