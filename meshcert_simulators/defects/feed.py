"""Negative controls of the difference feed (FEED-*): the PULL interface downstream systems poll."""

from __future__ import annotations

import sqlite3
from typing import Any

from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import CHANGES, registry_as, rewrite_responses
from meshcert_simulators.municipal.registry import Actor, Registry


def _reversed_pages(page: Any) -> Any:
    """Each page newest first (its next_after still right): ORDER BY seq DESC under a LIMIT."""
    return {**page, "entries": list(reversed(page.get("entries", [])))}


class _SkipsPageBoundary(Registry):
    """When a page is full, the entry at the boundary is never served: the page ends one entry
    further on, so the next cursor jumps over it (an off-by-one in the paging query)."""

    def read_changes(self, lg_code: str, after: int, limit: int, actor: Actor
                     ) -> tuple[list[dict[str, Any]], bool]:
        entries, has_more = super().read_changes(lg_code, after, limit + 1, actor)
        if len(entries) <= limit:
            return entries, False
        return [*entries[:limit - 1], entries[limit]], has_more


class _MoveWithinNotFed(Registry):
    """A move within the municipality (転居) updates the records but yields no feed entry."""

    def write(self, conn: sqlite3.Connection, lg_code: str, record: dict[str, Any],
              change_type: str, event_id: str | None, actor: Actor) -> dict[str, Any]:
        written = super().write(conn, lg_code, record, change_type, event_id, actor)
        if change_type == "move-within":
            conn.execute("DELETE FROM changes WHERE seq = (SELECT max(seq) FROM changes "
                         "WHERE lg_code=?)", (lg_code,))
        return written


defect("feed-unordered", "municipal", "FEED-ORDER-001",
       "each feed page lists its entries newest first (the cursor is still right)",
       wrap=rewrite_responses("GET", CHANGES, _reversed_pages))
defect("feed-skips-page-boundary", "municipal", "FEED-PAGE-001",
       "when a feed page is full, the entry at the page boundary is skipped",
       patch=registry_as(_SkipsPageBoundary))
defect("move-within-not-fed", "municipal", "FEED-EVENT-001",
       "a move within the municipality (転居) yields no feed entries",
       patch=registry_as(_MoveWithinNotFed))
