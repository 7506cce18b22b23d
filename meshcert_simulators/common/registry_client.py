"""Reading the topology's resident registry over HTTP, as a national service does: find a
person by 住民票コード across the municipalities the registry hosts, and pull a municipality's
difference feed. Used by the simulators whose persons are the registry's population (the
JPKI-like CA, the gateway).

Which registry and as whom: ``settings.extra`` ``registry`` (a municipal simulator of the
topology; default the first) and the simulator's own credential (:func:`own_client`). The HTTP
transport may be replaced (tests serve the registry in-process).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from meshcert_simulators.common.auth import ADMIN_ROLE
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.tls import trust_for
from meshcert_simulators.common.topology import Client

FEED_PAGE = 1000


def unavailable(detail: str) -> Problem:
    return Problem(502, "registry-unavailable", "The resident registry cannot be read", detail)


def own_client(settings: Settings) -> Client | None:
    """The topology client a national-service simulator calls its peers as: ``settings.extra``
    ``client``, else the client named like the simulator, else the first client with a static
    token and ``registry:read`` that is not an admin (e.g. ``national-services``)."""
    topology = settings.topology
    named = settings.extra.get("client")
    if named:
        return topology.client(named)
    return topology.client(settings.name) or next(
        (c for c in topology.clients if c.token and "registry:read" in c.roles
         and ADMIN_ROLE not in c.roles), None)


@dataclass(frozen=True)
class RegistryAccess:
    source: str                     # the municipal simulator's name
    base_url: str
    token: str
    municipalities: tuple[str, ...]
    settings: Settings

    @classmethod
    def for_settings(cls, settings: Settings) -> RegistryAccess:
        """The registry ``settings`` names; 503 problem when the topology lacks one."""
        topology = settings.topology
        source = settings.extra.get("registry") or next(
            (n for n, s in topology.simulators.items() if s.kind == "municipal"), None)
        spec = topology.simulators.get(source or "")
        client = own_client(settings)
        if spec is None or spec.kind != "municipal" or client is None or client.token is None:
            raise Problem(503, "registry-not-configured", "No resident registry to read",
                          "the topology needs a municipal simulator and a client with a "
                          "static token and registry:read for this simulator")
        places = tuple(m for m in spec.municipalities
                       if not client.municipalities or m in client.municipalities)
        return cls(str(source), topology.url(str(source)), client.token, places, settings)

    @classmethod
    def or_problem(cls, settings: Settings) -> RegistryAccess | Problem:
        """As :meth:`for_settings`, the problem returned instead of raised: a simulator then
        starts without a registry and answers the problem where it needs one."""
        try:
            return cls.for_settings(settings)
        except Problem as problem:
            return problem

    def client(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, transport=transport,
                                 verify=trust_for(self.settings.tls_dir), timeout=10.0,
                                 headers={"Authorization": f"Bearer {self.token}"})


async def _get(http: httpx.AsyncClient, path: str, params: dict[str, Any]) -> httpx.Response:
    try:
        return await http.get(path, params=params)
    except httpx.HTTPError as exc:
        raise unavailable(f"GET {path}: {type(exc).__name__}: {exc}") from None


async def find_person(access: RegistryAccess, http: httpx.AsyncClient, juminhyo_code: str
                      ) -> dict[str, Any] | None:
    """The current record of the person with ``juminhyo_code``: the one of a hosted
    municipality where they are resident, else the first found (moved out, deceased), else
    None."""
    found: dict[str, Any] | None = None
    for lg_code in access.municipalities:
        answer = await _get(http, f"/municipalities/{lg_code}/residents",
                            {"juminhyo_code": juminhyo_code})
        if answer.status_code == 200:
            record = dict(answer.json())
            if record.get("status") == "resident":
                return record
            found = found or record
        elif answer.status_code != 404:
            raise unavailable(f"finding a resident in {lg_code} answered "
                              f"{answer.status_code}")
    return found


async def feed_page(http: httpx.AsyncClient, lg_code: str, after: int) -> dict[str, Any]:
    """One page of ``lg_code``'s difference feed after the cursor ``after``."""
    answer = await _get(http, f"/municipalities/{lg_code}/changes",
                        {"after": after, "limit": FEED_PAGE})
    if answer.status_code != 200:
        raise unavailable(f"GET changes of {lg_code} answered {answer.status_code}")
    return dict(answer.json())
