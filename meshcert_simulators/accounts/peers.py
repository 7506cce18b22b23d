"""The registry's calls to its peers at registration: the resident registry (the person's kana
name, to check the holder name against) and the mesh (this registry's own 符号 of the person,
by which agencies' queries reach it)."""

from __future__ import annotations

from typing import Any

import httpx

from meshcert_simulators.accounts.config import AccountsConfig
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.registry_client import RegistryAccess, find_person
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.tls import trust_for


class Peers:
    """Reads ``registry_transport`` and ``mesh_transport`` from the app's state at the time of
    each call (None: the network; tests serve the peers in-process)."""

    def __init__(self, state: Any, settings: Settings, config: AccountsConfig) -> None:
        self.state = state
        self.settings = settings
        self.config = config
        self.registry = RegistryAccess.or_problem(settings)

    async def resident(self, juminhyo_code: str) -> dict[str, Any]:
        """The person's current registry record (404 problem when the registry has none)."""
        if isinstance(self.registry, Problem):
            raise self.registry
        async with self.registry.client(self.state.registry_transport) as http:
            record = await find_person(self.registry, http, juminhyo_code)
        if record is None or record.get("status") not in (None, "resident"):
            raise Problem(409, "not-a-resident", "No current resident record",
                          "the resident registry has no current record of this person; an "
                          "account is registered for a resident only")
        return record

    async def mesh_code(self, juminhyo_code: str) -> str | None:
        """This registry's 符号 of the person from the mesh; None when there is no mesh or no
        institution of this registry in the topology (then agencies cannot reach it)."""
        if self.config.mesh_url is None or self.config.institution_token is None:
            return None
        try:
            async with httpx.AsyncClient(transport=self.state.mesh_transport, timeout=10.0,
                                         verify=trust_for(self.settings.tls_dir)) as http:
                answer = await http.post(
                    f"{self.config.mesh_url}/v1/codes", json={"juminhyo_code": juminhyo_code},
                    headers={"Authorization": f"Bearer {self.config.institution_token}"})
        except httpx.HTTPError as exc:
            raise Problem(502, "mesh-unavailable", "The mesh cannot be reached",
                          f"getting this registry's 符号: {type(exc).__name__}") from None
        if answer.status_code not in (200, 201):
            raise Problem(502, "mesh-unavailable", "The mesh refused to issue a 符号",
                          f"POST /v1/codes answered {answer.status_code}")
        return str(answer.json()["code"])
