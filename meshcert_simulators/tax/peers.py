"""What the tax system asks of others: its 符号 for a person from the mesh (when figures are
seeded by 住民票コード), and the registration of its copies (副本) at J-LIS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import httpx

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.tax.models import TAX_ITEM, PublishRequest, SeedCodeRow, SeedRequest
from meshcert_simulators.tax.store import TaxStore, synthetic_figures

CALL_TIMEOUT_S = 10.0


def peer_url(settings: Settings, kind: str) -> str | None:
    """The URL of the topology's simulator of ``kind`` (``extra['<kind>_url']`` wins)."""
    if settings.extra.get(f"{kind}_url"):
        return settings.extra[f"{kind}_url"].rstrip("/")
    topology = settings.topology
    name = next((n for n, s in topology.simulators.items() if s.kind == kind), None)
    return topology.url(name) if name else None


def own_client_of(settings: Settings) -> tuple[str, str] | None:
    """This system's mesh client (id, token): the institution served by this simulator."""
    topology = settings.topology
    inst = next((i for i in topology.institutions if i.simulator == settings.name), None)
    client_id = settings.extra.get("client") or (inst.client if inst else None)
    client = topology.client(client_id) if client_id else None
    return (client.id, client.token) if client and client.token else None


class TaxPeers:
    """Seeds figures and publishes copies. Reads ``store``, ``mesh_transport`` and
    ``http_transport`` (None: the network; tests serve the mesh and J-LIS in-process) from the
    app's state at the time of use."""

    def __init__(self, state: Any, settings: Settings) -> None:
        self.state = state
        self.settings = settings

    def own_client(self) -> tuple[str, str]:
        found = own_client_of(self.settings)
        if found is None:
            raise Problem(503, "no-mesh-client", "This system has no mesh client",
                          "no institution of the topology is served by this simulator")
        return found

    def peer(self, kind: str) -> str:
        url = peer_url(self.settings, kind)
        if url is None:
            raise Problem(503, f"no-{kind}", f"No {kind} simulator is configured",
                          f"the topology has no simulator of kind {kind!r}")
        return url

    async def call(self, transport: httpx.AsyncBaseTransport | None, method: str, url: str,
                   token: str, body: dict[str, Any], what: str) -> httpx.Response:
        try:
            async with httpx.AsyncClient(transport=transport, timeout=CALL_TIMEOUT_S) as client:
                return await client.request(method, url, json=body,
                                            headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise Problem(502, f"{what}-unreachable", f"The {what} cannot be reached",
                          f"{url}: {type(exc).__name__}") from None

    async def issued_code(self, juminhyo_code: str) -> str:
        """This system's 符号 for a person, from the mesh (the 住民票コード is not kept)."""
        _, token = self.own_client()
        answer = await self.call(self.state.mesh_transport, "POST",
                                 self.peer("mesh") + "/v1/codes", token,
                                 {"juminhyo_code": juminhyo_code}, "mesh")
        if answer.status_code == 422:
            raise Problem(422, "invalid-juminhyo-code", "Invalid 住民票コード",
                          "the mesh refused a 住民票コード of the rows")
        if answer.status_code not in (200, 201):
            raise Problem(502, "mesh-bad-answer", "The mesh refused to issue a code",
                          f"the mesh answered HTTP {answer.status_code}")
        return str(answer.json()["code"])

    async def seed(self, body: SeedRequest) -> dict[str, Any]:
        """Store the rows' figures (a ``SeedResult`` body)."""
        rows: list[tuple[str, dict[str, int]]] = []
        for row in body.rows:
            if isinstance(row, SeedCodeRow):
                code, key = row.code, row.code  # issued by the mesh already
            else:
                code, key = await self.issued_code(row.juminhyo_code), row.juminhyo_code
            figures = (row.figures.model_dump() if row.figures is not None
                       else synthetic_figures(body.seed, key))
            rows.append((code, figures))
        version = self.state.store.store(rows)
        return {"seeded": len(rows), "data_version": version,
                "codes": [code for code, _ in rows]}

    def copies(self) -> Iterator[tuple[str, str, str, int, dict[str, Any]]]:
        """(符号, item, data set key, version, payload) of every copy to register (a provider
        of other items overrides this one method)."""
        for code, figures, version in self.state.store.all_figures():
            yield (code, TAX_ITEM, f"resident-tax-{figures['tax_year']}", version,
                   {**figures, "total_levy": figures["income_levy"]
                    + figures["per_capita_levy"], "data_version": version})

    async def publish(self, body: PublishRequest) -> dict[str, Any]:
        """Register every person's current figures at J-LIS (a ``PublishResult`` body)."""
        store: TaxStore = self.state.store
        client_id, token = self.own_client()
        base = self.peer("jlis")
        start = store.clock() + timedelta(seconds=body.delay_s)
        end = None if body.duration_s is None else start + timedelta(seconds=body.duration_s)
        window = {"publication_start": start.astimezone(UTC).isoformat(),
                  "publication_end": end.astimezone(UTC).isoformat() if end else None}
        registered = unchanged = 0
        for code, item, data_set_key, version, payload in self.copies():
            answer = await self.call(self.state.http_transport, "PUT",
                                     f"{base}/v1/copies/{client_id}/{code}/{item}", token,
                                     {"data_set_key": data_set_key, "version": version,
                                      **window, "payload": payload}, "jlis")
            if answer.status_code in (200, 201):
                registered += 1
            elif answer.status_code == 409:
                unchanged += 1  # that version is already registered
            else:
                raise Problem(502, "jlis-bad-answer", "J-LIS refused a copy",
                              f"J-LIS answered HTTP {answer.status_code} after {registered} "
                              "copies")
        return {"jlis": base, "data_version": store.data_version(), **window,
                "registered": registered, "unchanged": unchanged}
