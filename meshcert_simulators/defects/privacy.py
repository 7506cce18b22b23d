"""Negative controls of the My Number (PRIV-MYNUM-*): served to callers not allowed to see it."""

from __future__ import annotations

import json
from typing import Any

from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import registry_as
from meshcert_simulators.municipal.registry import Actor, Registry


class _MyNumberToEveryone(Registry):
    """Reads of one resident carry the My Number whatever the caller's scopes."""

    def _with_my_number(self, lg_code: str, record: dict[str, Any]) -> dict[str, Any]:
        row = self.db.query_one("SELECT my_number FROM residents WHERE lg_code=? AND "
                                "atena_number=?", (lg_code, record["atena_number"]))
        return {**record, "my_number": row[0]} if row else record

    def read_resident(self, lg_code: str, atena: str, actor: Actor) -> dict[str, Any]:
        return self._with_my_number(lg_code, super().read_resident(lg_code, atena, actor))

    def find_by_juminhyo(self, lg_code: str, code: str, actor: Actor) -> dict[str, Any]:
        return self._with_my_number(lg_code, super().find_by_juminhyo(lg_code, code, actor))


class _MyNumberInFeed(Registry):
    """The difference feed serves each record's snapshot as stored, My Number included."""

    def read_changes(self, lg_code: str, after: int, limit: int, actor: Actor
                     ) -> tuple[list[dict[str, Any]], bool]:
        entries, has_more = super().read_changes(lg_code, after, limit, actor)
        for entry in entries:
            row = self.db.query_one("SELECT snapshot FROM changes WHERE seq=?", (entry["seq"],))
            entry["record"]["my_number"] = json.loads(row[0])["my_number"]
        return entries, has_more


defect("mynumber-to-everyone", "municipal", "PRIV-MYNUM-001",
       "a resident read carries the My Number for callers without registry:read-mynumber",
       patch=registry_as(_MyNumberToEveryone))
defect("mynumber-in-feed", "municipal", "PRIV-MYNUM-002",
       "the difference feed carries the My Number for callers without registry:read-mynumber",
       patch=registry_as(_MyNumberInFeed))
