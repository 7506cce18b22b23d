"""The registry's facts of a person, read at request time across every registry of the
topology (the old and the new municipality may be different simulators)."""

from __future__ import annotations

from typing import Any

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.registry_client import RegistryAccess, find_person
from meshcert_simulators.portal.peers import Peers, relayed


async def locate(peers: Peers, registries: tuple[RegistryAccess, ...], juminhyo_code: str
                 ) -> tuple[RegistryAccess, dict[str, Any]] | None:
    """The registry and current record of the person: where they are resident, else the
    first record found (moved out, deceased), else None."""
    found: tuple[RegistryAccess, dict[str, Any]] | None = None
    for access in registries:
        async with peers.client(access.base_url, access.token) as http:
            record = await find_person(access, http, juminhyo_code)
        if record is not None and record.get("status") == "resident":
            return access, record
        found = found or ((access, record) if record is not None else None)
    return found


async def resident(peers: Peers, registries: tuple[RegistryAccess, ...], juminhyo_code: str
                   ) -> tuple[RegistryAccess, dict[str, Any]]:
    """As :func:`locate`, for a person who must be a current resident (422 otherwise)."""
    if not registries:
        raise Problem(503, "registry-not-configured", "No resident registry to read",
                      "the topology needs a municipal simulator and a portal credential with "
                      "registry:read")
    found = await locate(peers, registries, juminhyo_code)
    if found is None or found[1].get("status") != "resident":
        raise Problem(422, "not-a-resident", "The person is not a current resident",
                      "no registry of this topology has the person as a resident")
    return found


async def household(peers: Peers, access: RegistryAccess, record: dict[str, Any]
                    ) -> dict[str, Any]:
    path = f"/municipalities/{record['lg_code']}/households/{record['setai_number']}"
    answer = await peers.call("registry", access.base_url, access.token, "GET", path)
    if answer.status_code != 200:
        raise relayed("registry", answer)
    return dict(answer.json())


def hosting(registries: tuple[RegistryAccess, ...], lg_code: str) -> RegistryAccess | None:
    return next((a for a in registries if lg_code in a.municipalities), None)
