"""Revocation from the registry's difference feed: the CA follows each hosted municipality's
feed (its durable cursor) and revokes what a change makes untrue.

Rules (docs: meshcert_simulators/jpki/README.md): a person deceased or removed loses both
certificates (``cessationOfOperation``); a person moved out, or whose four facts changed (a move
within the town, a corrected name), loses the signing certificate (``affiliationChanged``); the
user-authentication certificate carries no fact and stays.
"""

from __future__ import annotations

from typing import Any

import httpx

from meshcert_simulators.common.registry_client import RegistryAccess, feed_page
from meshcert_simulators.contracts.basic_facts import basic_facts
from meshcert_simulators.jpki.store import JpkiStore

ENDED = frozenset({"deceased", "removed"})
MAX_PAGES = 1000


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
