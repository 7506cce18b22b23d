"""The registry's reads as the API serves them: a resident, a household with its head, a page
of the difference feed. Each read is audited by the registry itself."""

from __future__ import annotations

from typing import Any

from meshcert_simulators.common.paging import next_after
from meshcert_simulators.municipal.registry import Actor

HEAD = "02"  # 続柄 世帯主


class Records:
    """Reads records for the API. The ``registry`` is read from the app's state at the time of
    each read, so a negative control or a test can replace it (or this object)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def resident(self, lg_code: str, atena_number: str, actor: Actor) -> dict[str, Any]:
        return self.state.registry.read_resident(lg_code, atena_number, actor)

    async def resident_durably(self, lg_code: str, atena_number: str, actor: Actor
                               ) -> dict[str, Any]:
        """:meth:`resident`, answered once its audit entry is durable: it commits with those of
        the other reads of this loop turn (one commit for them all)."""
        registry = self.state.registry
        return await registry.db.durably(
            lambda: registry.read_resident(lg_code, atena_number, actor))

    def find(self, lg_code: str, juminhyo_code: str, actor: Actor) -> dict[str, Any]:
        return self.state.registry.find_by_juminhyo(lg_code, juminhyo_code, actor)

    def household(self, lg_code: str, setai_number: str, actor: Actor) -> dict[str, Any]:
        """The household with its members (and 続柄), its head's 宛名番号 if it has one."""
        members = self.state.registry.read_household(lg_code, setai_number, actor)
        head = next((m for m in members if m["relationship"]["code"] == HEAD), None)
        return {"lg_code": lg_code, "setai_number": setai_number,
                "head_atena_number": head["atena_number"] if head else None,
                "address": members[0]["address"], "members": members}

    def changes(self, lg_code: str, after: int, limit: int, actor: Actor) -> dict[str, Any]:
        """A page of the difference feed after the cursor ``after``."""
        entries, has_more = self.state.registry.read_changes(lg_code, after, limit, actor)
        return {"entries": entries, "next_after": next_after(entries, after),
                "has_more": has_more}
