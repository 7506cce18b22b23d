"""やりとり履歴: who was given the person's data, from every record keeper of the topology —
the mesh's art. 23 provision records (asked as the portal's institution, by its own 符号 of the
person), the gateway's provision records to private services, the account registry's query
records, and the portal's own: each move-out it forwarded with the person's data to their old
municipality's registry, filed by the person or by a proxy for them — newest first. A record
flagged non-disclosable (番号法 art. 23 ただし書き) is never shown, whatever a keeper sends. A
keeper that cannot be read now is named in ``unavailable_sources`` rather than silently left
out.
"""

from __future__ import annotations

from typing import Any

from meshcert_simulators.common.municipalities import lookup
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.portal.context import Portal
from meshcert_simulators.portal.filings import MOVEOUT
from meshcert_simulators.portal.peers import relayed

PAGE = 1000
MAX_PAGES = 100


def _entry(source: str, record: dict[str, Any], *, at: str | None, counterpart: str | None,
           purpose: str | None, items: list[str], outcome: str | None) -> dict[str, Any]:
    return {"source": source, "record_id": str(record.get("record_id", "")), "at": at or "",
            "counterpart": counterpart or "", "purpose": purpose, "items": items,
            "outcome": outcome}


async def _paged(portal: Portal, peer: str, url: str, token: str | None, path: str,
                 params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record of a ``{records, next_after, has_more}`` export."""
    out: list[dict[str, Any]] = []
    after = 0
    for _ in range(MAX_PAGES):
        answer = await portal.peers.call(peer, url, token, "GET", path,
                                         params={**params, "after": after, "limit": PAGE})
        if answer.status_code != 200:
            raise relayed(peer, answer)
        page = answer.json()
        out += page["records"]
        if not page.get("has_more"):
            break
        after = int(page["next_after"])
    return out


async def _mesh(portal: Portal, person: str) -> list[dict[str, Any]]:
    mesh = portal.config.mesh
    if mesh is None:
        return []
    code = await portal.peers.call("mesh", mesh.url, mesh.token, "POST", "/v1/codes",
                                   json={"juminhyo_code": person})
    if code.status_code not in (200, 201):
        raise relayed("mesh", code)
    answer = await portal.peers.call("mesh", mesh.url, mesh.token, "GET", "/v1/provision-records",
                                     params={"code": code.json()["code"]})
    if answer.status_code != 200:
        raise relayed("mesh", answer)
    return [_entry("mesh", r, at=r.get("provided_at") or r.get("requested_at"),
                   counterpart=r.get("inquirer"), purpose=r.get("procedure_code"),
                   items=list(r.get("item_codes", [])), outcome=r.get("outcome"))
            for r in answer.json()["records"] if r.get("non_disclosure") is not True]


async def _gateway(portal: Portal, person: str) -> list[dict[str, Any]]:
    if portal.config.gateway_url is None:
        return []
    records = await _paged(portal, "gateway", portal.config.gateway_url, portal.config.token,
                           "/v1/provision-records", {"juminhyo_code": person})
    return [_entry("gateway", r, at=r.get("provided_at") or r.get("requested_at"),
                   counterpart=r.get("client_id"), purpose=r.get("purpose"),
                   items=list(r.get("claims") or r.get("scopes") or []), outcome="provided")
            for r in records if r.get("non_disclosure") is not True]


async def _accounts(portal: Portal, person: str) -> list[dict[str, Any]]:
    if portal.config.accounts_url is None:
        return []
    records = await _paged(portal, "accounts", portal.config.accounts_url, portal.config.token,
                           "/v1/records", {"person": person})
    return [_entry("accounts", r, at=r.get("requested_at"),
                   counterpart=r.get("inquirer_client"), purpose=r.get("procedure_code"),
                   items=[str(r["item_code"])] if r.get("item_code") else [],
                   outcome=r.get("outcome"))
            for r in records if r.get("non_disclosure") is not True]


# What a move-out carries to the old municipality's registry (filings._forward).
MOVEOUT_ITEMS = ["juminhyo_code", "name", "birthdate", "moving_date", "new_address"]


async def _filings(portal: Portal, person: str) -> list[dict[str, Any]]:
    found = []
    for doc in portal.store.filings_for(MOVEOUT, person):
        by = "filed by a proxy" if doc["filed_by"] == "proxy" else "filed by the person"
        found.append(_entry("portal", {"record_id": doc["id"]}, at=doc["created_at"],
                            counterpart=f"{_place(doc['old_lg_code'])} 住民記録システム",
                            purpose=f"転出届 (moveout, {by})", items=MOVEOUT_ITEMS,
                            outcome="forwarded"))
    return found


def _place(lg_code: str) -> str:
    try:
        found = lookup(lg_code)
    except ValueError:
        return lg_code
    return f"{found.prefecture}{found.city}"


SOURCES = (("mesh", _mesh), ("gateway", _gateway), ("accounts", _accounts),
           ("portal", _filings))


async def history(portal: Portal, person: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every disclosable record about ``person``, newest first, numbered from 1; and the
    sources that could not be read."""
    entries: list[dict[str, Any]] = []
    unavailable: list[str] = []
    for name, read in SOURCES:
        try:
            entries += await read(portal, person)
        except (Problem, KeyError, TypeError, ValueError):
            unavailable.append(name)
    entries.sort(key=lambda e: (e["at"], e["record_id"]), reverse=True)
    return [{"seq": i, **e} for i, e in enumerate(entries, 1)], unavailable
