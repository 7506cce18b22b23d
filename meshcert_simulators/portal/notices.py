"""お知らせ: notices pushed when a person's data makes them eligible for a service.

Institutions push notices themselves (:func:`push`: a benefit-paying agency telling a payee;
role ``portal:notify``), idempotent by the institution's key. Besides, the portal follows
each registry's difference feed (durable cursors, so a restart neither misses nor repeats a
change) and turns events into notices: a birth recorded at the registry tells the parents in
the child's household (世帯主 and spouse: 続柄 02, 11, 12) that they may claim 児童手当. A
notice is made once per person and event. The feeds are read when a person looks (and by the
control plane), so what the person sees is never behind the registry.
"""

from __future__ import annotations

import asyncio
from typing import Any

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.registry_client import RegistryAccess, feed_page
from meshcert_simulators.portal.context import Portal
from meshcert_simulators.portal.filings import filing_key
from meshcert_simulators.portal.models import NoticePush
from meshcert_simulators.portal.people import household

PARENTS = frozenset({"02", "11", "12"})  # 世帯主, 夫, 妻
MAX_PAGES = 1000
NOTIFY_ROLE = "portal:notify"
SHOWN = ("kind", "title", "body", "procedure")


def push(portal: Portal, sender: str, body: NoticePush, header_key: str | None
         ) -> tuple[dict[str, Any], bool]:
    """Keep an institution's notice for the person (once per sender and key); (the notice as
    received, newly kept). The same key with another notice is a 409. The person need not be
    known to the registries of this topology: the sender answers for whom it notifies [I]."""
    key = filing_key(header_key, body.idempotency_key)
    wanted = body.model_dump(include=set(SHOWN))
    person, kept, added = portal.store.add_keyed_notice(
        body.juminhyo_code, f"institution/{sender}/{key}", wanted)
    if not added and (person != body.juminhyo_code
                      or {k: kept.get(k) for k in SHOWN} != wanted):
        raise Problem(409, "idempotency-key-reused", "The key names another notice",
                      "this idempotency key was used for a different notice; use a new key "
                      "for a new notice", notice_id=kept["id"])
    return {"id": kept["id"], "juminhyo_code": person, "sender": sender,
            **{k: kept.get(k) for k in SHOWN}, "created_at": kept["created_at"]}, added


def child_allowance_notice(child: dict[str, Any]) -> dict[str, Any]:
    name = child["name"]
    return {"kind": "child-allowance", "procedure": "child-allowance",
            "title": "児童手当の認定請求ができます",
            "body": f"{name['surname']}\u3000{name['given_name']}さんの出生が住民記録に記録され"
                    "ました。児童手当の認定請求は出生日の翌日から15日以内にお住まいの市区町村へ。"}


async def _births(portal: Portal, access: RegistryAccess, entry: dict[str, Any]) -> int:
    """Notices for the parents of the child born in ``entry``; how many were new."""
    child = entry["record"]
    members = (await household(portal.peers, access, child)).get("members", [])
    made = 0
    for member in members:
        if member["juminhyo_code"] != child["juminhyo_code"] and \
                member["relationship"]["code"] in PARENTS:
            source = f"{access.source}/{child['lg_code']}/{entry['seq']}"
            made += portal.store.add_notice(member["juminhyo_code"], source,
                                            child_allowance_notice(child))
    return made


async def follow(portal: Portal, lock: asyncio.Lock) -> int:
    """Read every feed from its cursor to its end (one reader at a time: ``lock``); the
    number of new notices."""
    made = 0
    async with lock:
        for access in portal.config.registries:
            for lg_code in access.municipalities:
                feed = f"{access.source}/{lg_code}"
                after = portal.store.cursor(feed)
                for _ in range(MAX_PAGES):
                    async with portal.peers.client(access.base_url, access.token) as http:
                        page = await feed_page(http, lg_code, after)
                    for entry in page["entries"]:
                        if entry["change_type"] == "birth":
                            made += await _births(portal, access, entry)
                    after = int(page["next_after"])
                    portal.store.set_cursor(feed, after)
                    if not page["has_more"]:
                        break
    return made
