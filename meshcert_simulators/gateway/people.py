"""The people the gateway asks the resident registry about, at request time (never a copy):
the consent's person when a consent is recorded, and when facts are provided."""

from __future__ import annotations

from typing import Any

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.registry_client import RegistryAccess, find_person


class People:
    """Reads a person's current record through ``state.registry_access`` (a Problem when the
    topology has no registry) and ``state.registry_transport`` (None: the network; tests put
    the registry in-process), both read at the time of each request."""

    def __init__(self, state: Any) -> None:
        self.state = state

    async def person(self, juminhyo_code: str) -> dict[str, Any] | None:
        """The registry's record of the person, or None when no hosted municipality has it."""
        access: RegistryAccess | Problem = self.state.registry_access
        if isinstance(access, Problem):
            raise access
        async with access.client(self.state.registry_transport) as http:
            return await find_person(access, http, juminhyo_code)
