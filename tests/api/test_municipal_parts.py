"""The registry's parts on ``app.state`` are what its routes use: each can be replaced on its own
(access, reads, filings, the audit export, the seeder) and tested without HTTP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.storage import Database
from meshcert_simulators.municipal import moveout
from meshcert_simulators.municipal.audit_export import AuditExport
from meshcert_simulators.municipal.filings import Movements
from meshcert_simulators.municipal.models import MovementRequest
from meshcert_simulators.municipal.records import Records
from meshcert_simulators.municipal.registry import SCHEMA, Actor, Registry
from meshcert_suites.resident_registry.builders import LG, move_in, person
from tests.conftest import bearer

OTHER_LG = "131041"  # 新宿区, hosted beside 千代田区
CLERK = Actor("test-clerk", None, True)


def _admit(client: Any, topology: Any) -> dict[str, Any]:
    response = client.post(f"/municipalities/{LG}/movements", json=move_in(person()),
                           headers=bearer(topology, "demo-clerk"))
    assert response.status_code == 201, response.text
    return response.json()["affected"][0]


def _parts(tmp_path: Path) -> SimpleNamespace:
    """A state holding only a registry (two municipalities), as the parts see the app's."""
    db = Database(tmp_path / "parts.sqlite3", SCHEMA + moveout.MOVEOUT_SCHEMA)
    return SimpleNamespace(registry=Registry(db, [LG, OTHER_LG]),
                           moveout_rules=moveout.MoveoutRules())


def _movement(event_id: str) -> tuple[MovementRequest, bytes]:
    """A move-in as the wire carries it (strict models parse JSON text, not Python dates)."""
    raw = json.dumps(move_in(person(), event_id=event_id), ensure_ascii=False).encode()
    return MovementRequest.model_validate_json(raw), raw


def test_a_replaced_access_part_refuses_every_operation(registry_client, topology):
    class Closed:
        def caller(self, *args: Any, **kwargs: Any) -> Any:
            raise Problem(403, "insufficient-scope", "Closed", "refused by the replacement")

    registry_client.app.state.access = Closed()
    for path in (f"/municipalities/{LG}/changes", f"/municipalities/{LG}/audit-log/keys"):
        r = registry_client.get(path, headers=bearer(topology, "demo-tax-system"))
        assert r.status_code == 403, r.text
        assert r.json()["detail"] == "refused by the replacement"


def test_a_replaced_records_part_answers_household_reads(registry_client, topology):
    record = _admit(registry_client, topology)
    path = f"/municipalities/{LG}/households/{record['setai_number']}"
    reference = registry_client.get(path, headers=bearer(topology, "demo-tax-system")).json()
    assert reference["head_atena_number"] == record["atena_number"]

    class Headless(Records):
        def household(self, lg_code: str, setai_number: str, actor: Actor) -> dict[str, Any]:
            return {**super().household(lg_code, setai_number, actor), "head_atena_number": None}

    registry_client.app.state.records = Headless(registry_client.app.state)
    replaced = registry_client.get(path, headers=bearer(topology, "demo-tax-system")).json()
    assert replaced["head_atena_number"] is None
    assert replaced["members"] == reference["members"]


def test_a_replaced_seeder_is_what_the_seed_route_calls(registry_client, topology):
    asked: list[str] = []

    class Noting:
        def seed(self, request: Any, actor: Actor) -> dict[str, Any]:
            asked.append(request.lg_code)
            return {"lg_code": request.lg_code, "written": 0, "residents": 42}

    registry_client.app.state.seeder = Noting()
    r = registry_client.post("/admin/seed", json={"lg_code": LG, "residents": []},
                             headers=bearer(topology, "admin"))
    assert r.status_code == 200, r.text
    assert r.json()["residents"] == 42 and asked == [LG]


def test_movements_and_records_work_without_http(tmp_path):
    state = _parts(tmp_path)
    result, created = Movements(state).apply(LG, *_movement("parts-1"), CLERK)
    assert created
    [affected] = result["affected"]
    records = Records(state)
    read = records.resident(LG, affected["atena_number"], CLERK)
    assert read["juminhyo_code"] == affected["juminhyo_code"]
    durable = asyncio.run(records.resident_durably(LG, affected["atena_number"], CLERK))
    assert durable == read
    page = records.changes(LG, 0, 10, CLERK)
    assert [e["atena_number"] for e in page["entries"]] == [affected["atena_number"]]
    assert page["next_after"] == page["entries"][-1]["seq"] and not page["has_more"]
    state.registry.db.close()


def test_the_audit_export_pages_and_verifies_without_http(tmp_path):
    state = _parts(tmp_path)
    [affected] = Movements(state).apply(LG, *_movement("parts-2"), CLERK)[0]["affected"]
    Records(state).resident(LG, affected["atena_number"], CLERK)  # one audited read
    export = AuditExport(state)
    page = export.page(LG, 0, 100)
    assert page["checkpoint"]["seq"] == page["entries"][-1]["seq"] >= 1
    kept = page["checkpoint"]["jws"]
    check = export.verification(LG, kept)
    assert check["valid"] and check["checkpoints_checked"] >= 2
    assert check["checkpoint"]["seq"] == page["checkpoint"]["seq"]
    other = state.registry.checkpoint(OTHER_LG).as_dict()["jws"]
    for foreign in (other, "not-a-jws"):
        with pytest.raises(Problem) as refused:
            export.verification(LG, foreign)
        assert refused.value.status == 422
        assert refused.value.body()["type"].endswith(":invalid-checkpoint")
    assert [k["kid"] for k in export.keys()["keys"]]
    state.registry.db.close()
