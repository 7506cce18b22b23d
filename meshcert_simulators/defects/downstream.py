"""Negative controls of the downstream-system profile (DOWN-*), applied to the reference
国民健康保険 subscriber register (meshcert_simulators/nhi/) from outside its code: an
overriding subclass of its store, follower or views, put in place on ``app.state``."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable
from typing import Any

from meshcert_simulators.common.auth import Caller
from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import override
from meshcert_simulators.nhi.app import Views
from meshcert_simulators.nhi.follower import Follower
from meshcert_simulators.nhi.store import NhiStore


def _state_as(part: str, cls: type) -> Callable[[Any], None]:
    """Put an overriding subclass of ``app.state.<part>`` in its place."""
    def patch(app: Any) -> None:
        setattr(app.state, part, override(getattr(app.state, part), cls))
    return patch


# -- DOWN-APPLY-001 -------------------------------------------------------------------------------


class _ReappliesPageEnd(NhiStore):
    """Stores the cursor one short of the page's end: the last entry of every read comes again
    with the next read and is applied again."""

    def apply(self, lg_code: str, entries: list[dict[str, Any]], next_after: int) -> int:
        return super().apply(lg_code, entries, next_after - 1 if entries else next_after)


# -- DOWN-RESUME-001 ------------------------------------------------------------------------------


class _CursorInMemory(NhiStore):
    """Keeps the cursor in memory only: a restarted process reads the feed from the start."""

    def memory(self) -> dict[str, int]:
        return self.__dict__.setdefault("_cursors", {})

    def cursor(self, lg_code: str) -> int:
        return self.memory().get(lg_code, 0)

    def apply(self, lg_code: str, entries: list[dict[str, Any]], next_after: int) -> int:
        after = self.cursor(lg_code)
        fresh = [e for e in entries if int(e["seq"]) > after]
        with self.db.transaction() as conn:
            for entry in fresh:
                self.write(conn, lg_code, entry)
        self.memory()[lg_code] = max(after, next_after)
        return len(fresh)


# -- DOWN-TEXT-001 --------------------------------------------------------------------------------


def _nfkc(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _nfkc(v) for k, v in value.items()}
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


class _NormalizesNames(NhiStore):
    """Stores names and addresses NFKC-normalised (a 'clean-up' that rewrites compatibility
    ideographs such as 塚 U+FA10 into their unified forms)."""

    def write(self, conn: Any, lg_code: str, entry: dict[str, Any]) -> None:
        record = {**entry["record"], "name": _nfkc(entry["record"]["name"]),
                  "address": _nfkc(entry["record"]["address"])}
        super().write(conn, lg_code, {**entry, "record": record})


# -- DOWN-MYNUM-001 -------------------------------------------------------------------------------


class _MyNumberToAnyReader(Views):
    """Shows the My Number to every reader, whatever its role."""

    def resident(self, atena_number: str, caller: Caller) -> dict[str, Any]:
        view = super().resident(atena_number, caller)
        found = self.state.store.resident(self.lg_code(), atena_number)
        if found is not None and found[0].get("my_number"):
            view["my_number"] = found[0]["my_number"]
        return view


# -- DOWN-BACKOFF-001 -----------------------------------------------------------------------------


class _IgnoresRetryAfter(Follower):
    """A refusal's Retry-After is not read: the next poll comes at the usual interval."""

    def back_off(self, answer: Any) -> None:
        self.not_before = time.monotonic()


# -- DOWN-GHOST-001 -------------------------------------------------------------------------------


class _HouseholdKeepsDeparted(NhiStore):
    """A household lists everyone ever recorded in it, moved out and deceased too."""

    def household(self, lg_code: str, setai_number: str) -> list[str]:
        return [r["atena_number"] for r in self.db.query(
            "SELECT atena_number FROM subscribers WHERE lg_code = ? AND setai_number = ? "
            "ORDER BY atena_number", (lg_code, setai_number))]


defect("nhi-reapplies-page-end", "nhi", "DOWN-APPLY-001",
       "the stored cursor is one short of each read's end: the last entry is applied again "
       "by the next read",
       patch=_state_as("store", _ReappliesPageEnd))
defect("nhi-cursor-in-memory", "nhi", "DOWN-RESUME-001",
       "the feed cursor is kept in memory only: after a restart the feed is read from the start",
       patch=_state_as("store", _CursorInMemory))
defect("nhi-normalizes-names", "nhi", "DOWN-TEXT-001",
       "names and addresses are stored NFKC-normalised (compatibility ideographs rewritten)",
       patch=_state_as("store", _NormalizesNames))
defect("nhi-mynumber-to-any-reader", "nhi", "DOWN-MYNUM-001",
       "the resident view carries the My Number for every reader, not only "
       "downstream:read-mynumber",
       patch=_state_as("views", _MyNumberToAnyReader))
defect("nhi-ignores-retry-after", "nhi", "DOWN-BACKOFF-001",
       "after a 429 or 503 the next poll comes at the polling interval, Retry-After unread",
       patch=_state_as("follower", _IgnoresRetryAfter))
defect("nhi-household-keeps-departed", "nhi", "DOWN-GHOST-001",
       "the household view lists moved-out and deceased members as well",
       patch=_state_as("store", _HouseholdKeepsDeparted))
