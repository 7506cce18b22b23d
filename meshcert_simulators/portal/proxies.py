"""Proxies (代理人): a principal delegates named procedures to another person until a time,
and may revoke at once. Every act of a proxy is checked against the delegation as it is at
that request — a revoked or lapsed delegation, or a procedure outside it, is refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.contracts.basic_facts import basic_facts
from meshcert_simulators.portal.context import Portal
from meshcert_simulators.portal.identity import Person
from meshcert_simulators.portal.models import DelegationRequest
from meshcert_simulators.portal.people import locate, resident
from meshcert_simulators.portal.store import stamp


def is_live(delegation: dict[str, Any], now: datetime) -> bool:
    return delegation["revoked_at"] is None and datetime.fromisoformat(
        delegation["until"]) > now


def acting_for(portal: Portal, person: Person, delegation_id: str | None, procedure: str
               ) -> tuple[str, dict[str, Any] | None]:
    """Whom ``person`` files for (a 住民票コード) and under which delegation; 403 when the
    delegation does not let them, now, for ``procedure``."""
    if delegation_id is None:
        return person.juminhyo_code, None
    delegation = portal.store.delegation(delegation_id)
    if delegation is None or delegation["proxy"] != person.juminhyo_code:
        raise Problem(403, "no-delegation", "No such delegation to this person",
                      f"{delegation_id} is not a delegation to the caller")
    if delegation["revoked_at"] is not None:
        raise Problem(403, "delegation-revoked", "The principal revoked the delegation",
                      f"revoked at {delegation['revoked_at']}", delegation_id=delegation_id)
    if not is_live(delegation, portal.clock()):
        raise Problem(403, "delegation-expired", "The delegation has ended",
                      f"it ended at {delegation['until']}", delegation_id=delegation_id)
    if procedure not in delegation["procedures"]:
        raise Problem(403, "outside-delegation-scope", "Procedure not delegated",
                      f"the delegation covers {delegation['procedures']}, not {procedure!r}",
                      delegation_id=delegation_id)
    return delegation["principal"], delegation


async def delegate(portal: Portal, person: Person, body: DelegationRequest) -> dict[str, Any]:
    """Record a delegation from ``person`` to the proxy (who must be in a registry)."""
    if body.proxy_juminhyo_code == person.juminhyo_code:
        raise Problem(422, "self-delegation", "A person cannot be their own proxy")
    if body.until <= portal.clock():
        raise Problem(422, "until-in-past", "The delegation would have ended already",
                      f"until {body.until.isoformat()} is not in the future")
    _, principal = await resident(portal.peers, portal.config.registries,
                                  person.juminhyo_code)
    if await locate(portal.peers, portal.config.registries, body.proxy_juminhyo_code) is None:
        raise Problem(422, "proxy-not-found", "The proxy is not in any registry",
                      "no registry of this topology knows the proxy's 住民票コード")
    return portal.store.add_delegation(person.juminhyo_code, body.proxy_juminhyo_code, {
        "principal_name": basic_facts(principal)["name"], "kind": body.kind,
        "procedures": sorted(set(body.procedures)), "until": stamp(body.until)})


def shown(delegation: dict[str, Any], person: str, now: datetime) -> dict[str, Any]:
    """A delegation as ``person`` (its principal or its proxy) sees it."""
    granted = delegation["principal"] == person
    return {"id": delegation["id"], "direction": "granted" if granted else "received",
            "principal_name": delegation["principal_name"],
            "proxy_juminhyo_code": delegation["proxy"] if granted else None,
            "kind": delegation["kind"], "procedures": delegation["procedures"],
            "until": delegation["until"], "created_at": delegation["created_at"],
            "revoked_at": delegation["revoked_at"], "active": is_live(delegation, now)}
