"""Negative controls of the online move-out (MOVEOUT-*): intake and processing of a 転出届."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import moveout_rules, registry_as
from meshcert_simulators.municipal.moveout import MoveoutRules
from meshcert_simulators.municipal.registry import Registry


class _AcceptsAbroad(MoveoutRules):
    """Takes the destination country as given: a move abroad is accepted online."""

    def domestic(self, country: str) -> bool:
        return True


class _SkipsProcessing(MoveoutRules):
    """Lets a received application be completed at once, without 処理中."""

    def may_advance(self, current: str, to: str) -> bool:
        return super().may_advance(current, to) or (current, to) == ("受付", "完了")


class _MoveoutNotIdempotent(Registry):
    """Refuses every resend of an application id as a duplicate, even an identical one (the
    front service's retry after a timeout fails)."""

    def recall(self, conn: sqlite3.Connection | None, lg_code: str, kind: str, key: str,
               body_hash: str) -> dict[str, Any] | None:
        earlier = super().recall(conn, lg_code, kind, key, body_hash)
        if earlier is not None and kind == "moveout":
            raise Problem(409, "duplicate-application", "Application already received",
                          f"application {key!r} was received before")
        return earlier


defect("window-fourteen-days-after", "municipal", "MOVEOUT-WINDOW-001",
       "the online filing window closes 14 days after the move instead of 10",
       patch=moveout_rules(MoveoutRules(window_after=timedelta(days=14))))
defect("accept-abroad", "municipal", "MOVEOUT-DOMESTIC-001",
       "an online move-out abroad is accepted",
       patch=moveout_rules(_AcceptsAbroad()))
defect("moveout-not-idempotent", "municipal", "MOVEOUT-IDEM-001",
       "a move-out notification resent with the same application id is refused with 409",
       patch=registry_as(_MoveoutNotIdempotent))
defect("status-skips-processing", "municipal", "MOVEOUT-STATUS-001",
       "a received move-out can be completed directly (受付 → 完了), skipping 処理中",
       patch=moveout_rules(_SkipsProcessing()))
