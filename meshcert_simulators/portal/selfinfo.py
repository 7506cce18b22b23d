"""自己情報: the registry's four facts of the person and their household, read now, and the
items the legal-basis table lets the portal's institution obtain through the mesh for the
person (each rule naming the portal as inquirer, valid today: one inquiry each, recorded by the
mesh like any other and so visible in the person's history)."""

from __future__ import annotations

from typing import Any

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.contracts.basic_facts import basic_facts
from meshcert_simulators.mesh.legal_basis import LegalBasisTable
from meshcert_simulators.portal.context import Portal
from meshcert_simulators.portal.peers import relayed
from meshcert_simulators.portal.people import household, resident
from meshcert_simulators.portal.store import new_id


async def _mesh_items(portal: Portal, table: LegalBasisTable, person: str
                      ) -> list[dict[str, Any]]:
    mesh = portal.config.mesh
    if mesh is None:
        return []
    today = portal.clock().date()
    rules = [r for r in table.rules if r.inquirer == mesh.institution and r.valid_on(today)]
    if not rules:
        return []
    code = await portal.peers.call("mesh", mesh.url, mesh.token, "POST", "/v1/codes",
                                   json={"juminhyo_code": person})
    if code.status_code not in (200, 201):
        raise relayed("mesh", code)
    items: list[dict[str, Any]] = []
    for rule in rules:
        answer = await portal.peers.call("mesh", mesh.url, mesh.token, "POST", "/v1/inquiries",
                                         json={"record_id": new_id("self"),
                                               "procedure_code": rule.procedure_code,
                                               "item_code": rule.item_code,
                                               "provider": rule.provider,
                                               "code": code.json()["code"]})
        if answer.status_code != 200:
            raise relayed("mesh", answer)
        items += [{**item, "provider": rule.provider} for item in answer.json()["items"]]
    return items


async def self_info(portal: Portal, table: LegalBasisTable, person: str) -> dict[str, Any]:
    access, record = await resident(portal.peers, portal.config.registries, person)
    members = (await household(portal.peers, access, record)).get("members", [])
    facts = basic_facts(record)
    try:
        items, unavailable = await _mesh_items(portal, table, person), False
    except (Problem, KeyError, TypeError, ValueError):
        items, unavailable = [], True
    return {"name": facts["name"], "name_kana": facts.get("name_kana", ""),
            "address": facts["address"], "birthdate": facts.get("birthdate"),
            "gender": facts["gender"], "lg_code": record["lg_code"],
            "household": [{"name": basic_facts(m)["name"],
                           "relationship": m["relationship"]["label"],
                           "is_self": m["juminhyo_code"] == person} for m in members],
            "items": items, "items_unavailable": unavailable}
