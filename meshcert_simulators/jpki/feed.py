"""Revocation from the registry's difference feed: the CA follows each hosted municipality's
feed (its durable cursor) and revokes what a change makes untrue.

Rules (docs: meshcert_simulators/jpki/README.md): a person deceased or removed loses both
certificates (``cessationOfOperation``); a person moved out, or whose four facts changed (a move
within the town, a corrected name), loses the signing certificate (``affiliationChanged``); the
user-authentication certificate carries no fact and stays.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.registry_client import RegistryAccess, feed_page
from meshcert_simulators.common.settings import Settings, SettingsError
from meshcert_simulators.contracts.basic_facts import basic_facts
from meshcert_simulators.jpki.store import JpkiStore

ENDED = frozenset({"deceased", "removed"})
MAX_PAGES = 1000

log = logging.getLogger("meshcert.jpki")


def sync_interval(settings: Settings) -> float:
    """``sync_interval_s`` (settings.extra) or MESHCERT_JPKI_SYNC_INTERVAL_S: seconds >= 0."""
    raw = settings.extra.get("sync_interval_s") or os.environ.get(
        "MESHCERT_JPKI_SYNC_INTERVAL_S", "0")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise SettingsError(f"MESHCERT_JPKI_SYNC_INTERVAL_S must be seconds >= 0, not {raw!r}")
    return value


def registry_of(state: Any) -> RegistryAccess:
    """The registry the CA reads (``state.registry_access``), or the problem of having none."""
    access: RegistryAccess | Problem = state.registry_access
    if isinstance(access, Problem):
        raise access
    return access


def revoke_for(store: JpkiStore, record: dict[str, Any]) -> list[str]:
    """Revoke what the registry's ``record`` (as it is now) makes untrue; the serials."""
    person = str(record["juminhyo_code"])
    status = record.get("status")
    if status in ENDED:
        return store.revoke_live(person, ("signing", "authentication"), "cessationOfOperation")
    live = store.live(person, "signing")
    if live is None:
        return []
    if status != "resident" or store.facts_of(live) != basic_facts(record):
        return store.revoke_live(person, ("signing",), "affiliationChanged")
    return []


async def follow(store: JpkiStore, access: RegistryAccess, http: httpx.AsyncClient
                 ) -> dict[str, Any]:
    """Read every hosted municipality's feed from its cursor to the end and revoke."""
    revoked: list[str] = []
    places: list[dict[str, int | str]] = []
    for lg_code in access.municipalities:
        before = after = store.cursor(access.source, lg_code)
        for _ in range(MAX_PAGES):
            page = await feed_page(http, lg_code, after)
            for entry in page["entries"]:
                revoked += revoke_for(store, entry["record"])
            after = int(page["next_after"])
            store.move_cursor(access.source, lg_code, after)
            if not page["has_more"]:
                break
        places.append({"lg_code": lg_code, "after_before": before, "after_now": after})
    return {"source": access.source, "revoked": revoked, "municipalities": places}


class RegistryFeed:
    """The CA's revocation from the registry's feed: follows it (at most once per
    ``interval_s`` unless forced) through ``state.registry_access`` and
    ``state.registry_transport``, revoking in ``state.store``, all read at the time of use.
    One pull at a time; :meth:`current` holds the feed still while a card signs."""

    def __init__(self, state: Any, interval_s: float = 0.0) -> None:
        self.state = state
        self.interval_s = interval_s
        self._lock = asyncio.Lock()
        self._synced_at = float("-inf")

    async def sync(self, *, force: bool = False) -> dict[str, Any]:
        """Follow the feed now (``force``) or when the interval has passed; what it did."""
        async with self._lock:
            return await self._sync(force)

    async def sync_quietly(self) -> None:
        """Follow the feed before answering from the CA's records; a registry that cannot be
        read is logged, and the records answer as they are (a status must still be had)."""
        try:
            await self.sync()
        except Problem as problem:
            log.warning("registry feed not followed: %s", problem.detail or problem.title)

    @asynccontextmanager
    async def current(self) -> AsyncIterator[None]:
        """Followed up to now, and no revocation applied until the block ends (so a card does
        not sign with a certificate the feed is revoking)."""
        async with self._lock:
            await self._sync(force=False)
            yield

    async def _sync(self, force: bool) -> dict[str, Any]:
        access = registry_of(self.state)
        if not force and time.monotonic() - self._synced_at < self.interval_s:
            return {"source": access.source, "revoked": [], "municipalities": []}
        async with access.client(self.state.registry_transport) as http:
            result = await follow(self.state.store, access, http)
        self._synced_at = time.monotonic()
        return result
