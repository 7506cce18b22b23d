"""Filings at the portal — the online move-out (転出届) and e-applications for other
procedures — by the person or a proxy, idempotent by the caller's key: the same key again is
the same filing (200), never a second one; the same key with a different request is a 409.

A move-out is forwarded to the old municipality's registry intake (its filing window and checks
answer there; a refusal is passed on as it was said), with the move-in reservation (転入予約) at
the new municipality. Its status is always the registry's, read when asked.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.registry_client import RegistryAccess
from meshcert_simulators.portal.context import Portal
from meshcert_simulators.portal.identity import Person
from meshcert_simulators.portal.models import KEY, ApplicationRequest, MoveoutRequest
from meshcert_simulators.portal.peers import relayed
from meshcert_simulators.portal.people import hosting, resident
from meshcert_simulators.portal.proxies import acting_for
from meshcert_simulators.portal.store import keyed_id, request_hash, stamp

MOVE_IN_DAYS = 14  # 転入届: within 14 days of moving in (住民基本台帳法 22条)
MOVEOUT = "moveout"


def filing_key(header: str | None, body_key: str | None) -> str:
    """The idempotency key, from the ``Idempotency-Key`` header or the body (both: equal)."""
    if header is not None and re.fullmatch(KEY, header) is None:
        raise Problem(422, "invalid-idempotency-key", "Idempotency-Key is malformed",
                      f"it must match {KEY}")
    if header is not None and body_key is not None and header != body_key:
        raise Problem(422, "idempotency-key-mismatch", "Two different idempotency keys",
                      "the Idempotency-Key header and idempotency_key differ")
    key = header or body_key
    if key is None:
        raise Problem(422, "idempotency-key-required", "An idempotency key is required",
                      "send idempotency_key (or an Idempotency-Key header): a resend after a "
                      "timeout must be recognisable as the same filing")
    return key


def _earlier(portal: Portal, kind: str, filer: str, key: str, hashed: str
             ) -> dict[str, Any] | None:
    earlier = portal.store.filing_by_key(kind, filer, key)
    if earlier is not None and earlier["request_hash"] != hashed:
        raise Problem(409, "idempotency-key-reused", "The key names another request",
                      "this idempotency key was used for a different request; use a new key "
                      "for a new filing", filing_id=earlier["id"])
    return earlier


# -- move-out ------------------------------------------------------------------------------


async def file_moveout(portal: Portal, person: Person, body: MoveoutRequest,
                       header_key: str | None) -> tuple[dict[str, Any], bool]:
    """File (or find again) a move-out; (the filing as shown, newly created)."""
    key = filing_key(header_key, body.idempotency_key)
    applicant, delegation = acting_for(portal, person, body.on_behalf_of, MOVEOUT)
    hashed = request_hash(body.model_dump(mode="json", exclude={"idempotency_key"}))
    earlier = _earlier(portal, MOVEOUT, person.juminhyo_code, key, hashed)
    if earlier is not None:
        return await moveout_view(portal, earlier), False
    access, record = await resident(portal.peers, portal.config.registries, applicant)
    filing_id = keyed_id("mo", person.juminhyo_code, key)
    state = await _forward(portal, access, record, filing_id, body)
    now = stamp(portal.clock())
    doc = {"id": filing_id, "applicant": applicant, "filer": person.juminhyo_code,
           "registry": access.source, "old_lg_code": record["lg_code"],
           "moving_date": body.moving_date.isoformat(),
           "new_address": body.new_address.model_dump(mode="json"), "reason": body.reason,
           "move_in_reservation": _reservation(portal, body),
           "filed_by": "proxy" if delegation else "person",
           "on_behalf_of": delegation["id"] if delegation else None,
           "client_id": person.client_id, "created_at": now}
    kept, added = portal.store.add_filing(MOVEOUT, person.juminhyo_code, applicant, key,
                                          hashed, doc)
    if not added:  # a resend raced this one and was kept first: the same filing
        return await moveout_view(portal, kept), False
    return _shown(kept, state), True


async def _forward(portal: Portal, access: RegistryAccess, record: dict[str, Any],
                   filing_id: str, body: MoveoutRequest) -> dict[str, Any]:
    """POST the notification to the old municipality's intake; its state, or its refusal."""
    name = record["name"]
    notification = {
        "application_id": filing_id,
        "applicant": {"juminhyo_code": record["juminhyo_code"], "surname": name["surname"],
                      "given_name": name["given_name"],
                      "birth_date": record["birth_date"].get("iso")},
        "moving_date": body.moving_date.isoformat(),
        "destination": {"lg_code": body.new_address.lg_code,
                        "address": body.new_address.address},
        "planned_visit_date": body.moving_date.isoformat()}
    answer = await portal.peers.call(
        "registry", access.base_url, access.token, "POST",
        f"/municipalities/{record['lg_code']}/moveout-notifications", json=notification)
    if answer.status_code not in (200, 202):
        raise relayed("registry", answer)
    return dict(answer.json())


def _reservation(portal: Portal, body: MoveoutRequest) -> dict[str, Any]:
    moving: date = body.moving_date
    return {"lg_code": body.new_address.lg_code, "address": body.new_address.address,
            "status": "予約済", "visit_from": moving.isoformat(),
            "visit_by": (moving + timedelta(days=MOVE_IN_DAYS)).isoformat(),
            "hosted": hosting(portal.config.registries, body.new_address.lg_code) is not None}


async def registry_state(portal: Portal, doc: dict[str, Any]) -> dict[str, Any]:
    """The move-out's state as its registry says it now (502 when it cannot say)."""
    access = next((a for a in portal.config.registries if a.source == doc["registry"]), None)
    if access is None:
        raise Problem(502, "registry-unavailable", "The registry of this move-out is gone",
                      f"the topology no longer has {doc['registry']!r}")
    answer = await portal.peers.call(
        "registry", access.base_url, access.token, "GET",
        f"/municipalities/{doc['old_lg_code']}/moveout-notifications/{doc['id']}")
    if answer.status_code != 200:
        raise relayed("registry", answer)
    return dict(answer.json())


async def moveout_view(portal: Portal, doc: dict[str, Any]) -> dict[str, Any]:
    return _shown(doc, await registry_state(portal, doc))


def _shown(doc: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["id"], "status": state["status"],
            "status_updated_at": state["updated_at"], "old_lg_code": doc["old_lg_code"],
            "moving_date": doc["moving_date"], "new_address": doc["new_address"],
            "reason": doc["reason"], "move_in_reservation": doc["move_in_reservation"],
            "filed_by": doc["filed_by"], "on_behalf_of": doc["on_behalf_of"],
            "created_at": doc["created_at"]}


def visible_filing(portal: Portal, person: Person, kind: str, filing_id: str
                   ) -> dict[str, Any]:
    """A filing the caller may see: its applicant's, or its proxy's while the delegation
    still lets them (404 otherwise, so nobody learns of another person's filing)."""
    doc = portal.store.filing(kind, filing_id)
    if doc is None or person.juminhyo_code not in (doc["applicant"], doc["filer"]):
        raise Problem(404, "filing-not-found", "No such filing of yours", filing_id)
    if doc["applicant"] != person.juminhyo_code and doc["on_behalf_of"] is not None:
        acting_for(portal, person, doc["on_behalf_of"], doc.get("procedure", MOVEOUT))
    return doc


# -- e-applications ------------------------------------------------------------------------


def file_application(portal: Portal, person: Person, body: ApplicationRequest,
                     header_key: str | None) -> tuple[dict[str, Any], bool]:
    if body.procedure == MOVEOUT:
        raise Problem(422, "use-moveout-endpoint", "A move-out is filed at /v1/moveouts",
                      "the online move-out goes to the registry through POST /v1/moveouts")
    key = filing_key(header_key, body.idempotency_key)
    applicant, delegation = acting_for(portal, person, body.on_behalf_of, body.procedure)
    hashed = request_hash(body.model_dump(mode="json", exclude={"idempotency_key"}))
    earlier = _earlier(portal, "application", person.juminhyo_code, key, hashed)
    if earlier is not None:
        return application_shown(earlier), False
    doc = {"id": keyed_id("ap", person.juminhyo_code, key), "procedure": body.procedure,
           "fields": body.fields, "status": "受付", "applicant": applicant,
           "filer": person.juminhyo_code, "filed_by": "proxy" if delegation else "person",
           "on_behalf_of": delegation["id"] if delegation else None,
           "client_id": person.client_id, "created_at": stamp(portal.clock())}
    kept, added = portal.store.add_filing("application", person.juminhyo_code, applicant, key,
                                          hashed, doc)
    return application_shown(kept), added


def application_shown(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("id", "procedure", "fields", "status", "filed_by",
                                "on_behalf_of", "created_at")}
