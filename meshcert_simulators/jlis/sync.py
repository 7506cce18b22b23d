"""Batch sync from the resident registry: the copy path is not real-time.

``POST /v1/sync`` pulls each hosted municipality's difference feed (PULL, after the durable
cursor) and registers every changed record as a copy of the resident-information item, version =
the feed's sequence number. The copies are published only ``delay_s`` after the pull, so until
then inquiries get the previous version: the staleness the mesh's real-time path removes.

Whose copies, under which code: when the topology has an institution with ``registry_of:
<lg_code>`` on this server's copy route and a mesh simulator, the copies are that institution's,
filed under its real 符号 — the server asks the mesh (``POST /v1/codes`` with the record's
住民票コード, as that institution's client), so a mesh inquiry on the copy path reaches them.
Without one, they are filed for the institution ``<lg_code>`` under a stand-in code derived from
the 宛名番号 (:func:`synced_code`), for a registry synced without a mesh.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from meshcert_simulators.common.identifiers import find_my_numbers
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings, SettingsError
from meshcert_simulators.common.tls import trust_for
from meshcert_simulators.jlis.models import ITEM_CODE, CopyRegistration
from meshcert_simulators.jlis.store import JlisStore, stamp

DEFAULT_DELAY_S = 3600
DEFAULT_CLIENT = "jlis-intermediate"
DEFAULT_ITEM = "TM00000000000001"  # resident information (assumed code; see README of jlis)
PAGE = 1000
MAX_PAGES = 1000


@dataclass(frozen=True)
class SyncConfig:
    source: str | None  # the municipal simulator of the topology pulled from
    client_id: str
    delay_s: int
    item_code: str

    @classmethod
    def for_settings(cls, settings: Settings) -> SyncConfig:
        """``MESHCERT_JLIS_SYNC_DELAY_S`` (default 3600), ``MESHCERT_JLIS_SYNC_CLIENT``,
        ``MESHCERT_JLIS_SYNC_SOURCE``, ``MESHCERT_JLIS_SYNC_ITEM``; ``settings.extra`` keys
        ``sync_delay_s``, ``sync_client``, ``sync_source``, ``sync_item`` win."""

        def get(key: str, default: str | None) -> str | None:
            return settings.extra.get(key) or os.environ.get(f"MESHCERT_JLIS_{key.upper()}",
                                                             default)

        delay = str(get("sync_delay_s", str(DEFAULT_DELAY_S)))
        if not delay.isdigit():
            raise SettingsError(f"MESHCERT_JLIS_SYNC_DELAY_S must be a whole number of seconds "
                                f">= 0, not {delay!r}")
        item = str(get("sync_item", DEFAULT_ITEM))
        if not re.fullmatch(ITEM_CODE, item):
            raise SettingsError(f"MESHCERT_JLIS_SYNC_ITEM must be an item code like "
                                f"{DEFAULT_ITEM}, not {item!r}")
        source = get("sync_source", None) or next(
            (n for n, s in settings.topology.simulators.items() if s.kind == "municipal"), None)
        return cls(source, str(get("sync_client", DEFAULT_CLIENT)), int(delay), item)


def synced_code(lg_code: str, atena_number: str) -> str:
    """The 符号 a synced copy is filed under (the mesh's code shape: 32 base32 characters)."""
    digest = hashlib.sha256(f"jlis-sync:{lg_code}:{atena_number.zfill(15)}".encode()).digest()
    return base64.b32encode(digest[:20]).decode("ascii")


def _unavailable(detail: str) -> Problem:
    return Problem(502, "sync-source-unavailable", "The resident registry cannot be read",
                   detail)


class MeshCodes:
    """The 符号 of a municipality's institution for each person, asked of the mesh once each."""

    def __init__(self, http: httpx.AsyncClient, institution: str) -> None:
        self.http = http
        self.institution = institution
        self.known: dict[str, str] = {}

    async def code(self, juminhyo_code: str) -> str:
        if juminhyo_code not in self.known:
            try:
                answer = await self.http.post("/v1/codes",
                                              json={"juminhyo_code": juminhyo_code})
            except httpx.HTTPError as exc:
                raise _no_codes(f"{type(exc).__name__}: {exc}") from None
            if answer.status_code not in (200, 201):
                raise _no_codes(f"POST /v1/codes as {self.institution} answered "
                                f"{answer.status_code}")
            self.known[juminhyo_code] = str(answer.json()["code"])
        return self.known[juminhyo_code]


def _no_codes(detail: str) -> Problem:
    return Problem(502, "sync-codes-unavailable", "The mesh did not issue the copies' codes",
                   detail)


@contextlib.asynccontextmanager
async def _mesh_codes(settings: Settings, lg_code: str,
                      transport: httpx.AsyncBaseTransport | None
                      ) -> AsyncIterator[MeshCodes | None]:
    """Codes from the mesh for ``lg_code``'s institution, or None (stand-in codes)."""
    topology = settings.topology
    inst = next((i for i in topology.institutions if i.registry_of == lg_code
                 and i.simulator == settings.name), None)
    if inst is None:
        yield None
        return
    mesh = next((n for n, s in topology.simulators.items() if s.kind == "mesh"), None)
    client = topology.client(inst.client)
    if mesh is None or client is None or client.token is None:
        raise Problem(503, "sync-not-configured", "Sync is not configured",
                      f"institution {inst.code!r} needs a mesh simulator in the topology and a "
                      f"client {inst.client!r} with a static token to ask for its codes")
    async with httpx.AsyncClient(base_url=topology.url(mesh), transport=transport,
                                 verify=trust_for(settings.tls_dir), timeout=30.0,
                                 headers={"Authorization": f"Bearer {client.token}"}) as http:
        yield MeshCodes(http, inst.client)


async def run_sync(store: JlisStore, settings: Settings, config: SyncConfig,
                   transport: httpx.AsyncBaseTransport | None) -> dict[str, Any]:
    topology = settings.topology
    client = topology.client(config.client_id)
    spec = topology.simulators.get(config.source or "")
    if spec is None or spec.kind != "municipal" or client is None or client.token is None:
        raise Problem(503, "sync-not-configured", "Sync is not configured",
                      "the topology needs a municipal simulator and a client "
                      f"{config.client_id!r} with a static token and registry:read")
    pulled_at = store.clock()
    start = pulled_at + timedelta(seconds=config.delay_s)
    done: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=topology.url(str(config.source)), transport=transport,
                                 verify=trust_for(settings.tls_dir), timeout=30.0,
                                 headers={"Authorization": f"Bearer {client.token}"}) as http:
        for lg_code in spec.municipalities:
            if not client.municipalities or lg_code in client.municipalities:
                async with _mesh_codes(settings, lg_code, transport) as codes:
                    done.append(await _sync_one(store, http, config, lg_code, start, codes))
    return {"source": config.source, "pulled_at": stamp(pulled_at),
            "publication_start": stamp(start), "delay_s": config.delay_s,
            "item_code": config.item_code, "municipalities": done}


async def _sync_one(store: JlisStore, http: httpx.AsyncClient, config: SyncConfig,
                    lg_code: str, start: Any, codes: MeshCodes | None) -> dict[str, Any]:
    source = str(config.source)
    before = after = store.cursor(source, lg_code)
    registered = skipped = 0
    for _ in range(MAX_PAGES):
        try:
            response = await http.get(f"/municipalities/{lg_code}/changes",
                                      params={"after": after, "limit": PAGE})
        except httpx.HTTPError as exc:
            raise _unavailable(f"{type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise _unavailable(f"GET changes of {lg_code} answered {response.status_code}")
        page = response.json()
        copies = []
        for entry in page["entries"]:
            record = {k: v for k, v in entry["record"].items() if k != "my_number"}
            body = CopyRegistration(data_set_key=f"{lg_code}:{entry['atena_number']}",
                                    version=int(entry["seq"]), publication_start=start,
                                    publication_end=None,
                                    payload={"change_type": entry["change_type"],
                                             "changed_at": entry["changed_at"],
                                             "resident": record})
            if find_my_numbers(body.model_dump_json()):
                skipped += 1  # never hold a My-Number-shaped value
                continue
            code = (await codes.code(entry["record"]["juminhyo_code"]) if codes
                    else synced_code(lg_code, entry["atena_number"]))
            copies.append((code, config.item_code, body))
        new, old = store.apply_page(source, lg_code, int(page["next_after"]), copies,
                                    f"sync:{source}",
                                    institution=codes.institution if codes else lg_code)
        registered, skipped, after = registered + new, skipped + old, int(page["next_after"])
        if not page["has_more"]:
            break
    return {"lg_code": lg_code, "institution": codes.institution if codes else lg_code,
            "after_before": before, "after_now": after, "registered": registered,
            "skipped": skipped}


class Syncer:
    """Runs the batch sync. The ``store``, the ``sync_config`` and the ``http_transport`` (None:
    the network) are read from the app's state at the time of each run, so a test can serve
    the registry in-process or replace any of them (or this object)."""

    def __init__(self, state: Any, settings: Settings) -> None:
        self.state = state
        self.settings = settings

    async def run(self) -> dict[str, Any]:
        """Pull every hosted municipality's feed after its cursor; the sync's summary."""
        return await run_sync(self.state.store, self.settings, self.state.sync_config,
                              self.state.http_transport)
