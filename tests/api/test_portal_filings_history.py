"""A move-out the portal forwarded to the old municipality's registry is an exchange of the
person's data: it shows in the person's やりとり履歴 (source ``portal``) — also when a proxy filed
it for them, then in the principal's history and not in the proxy's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.portal_support import World, open_world
from tests.api.test_portal import moveout
from tests.api.test_portal_people import delegate


@pytest.fixture
def world(tmp_path: Path):
    with open_world(tmp_path) as opened:
        yield opened


def portal_entries(world: World, record: dict) -> list[dict]:
    page = world.portal.get("/v1/me/history", headers=world.as_person(record))
    assert page.status_code == 200, page.text
    return [e for e in page.json()["entries"] if e["source"] == "portal"]


def test_a_forwarded_moveout_is_in_the_persons_history(world: World):
    me = world.resident()[0]
    assert portal_entries(world, me) == []
    filed = world.portal.post("/v1/moveouts", headers=world.as_person(me), json=moveout())
    assert filed.status_code == 201, filed.text
    (entry,) = portal_entries(world, me)
    assert entry["record_id"] == filed.json()["id"]
    assert entry["counterpart"] == "東京都千代田区 住民記録システム"
    assert entry["purpose"] == "転出届 (moveout, filed by the person)"
    assert {"name", "birthdate", "new_address"} <= set(entry["items"])
    assert entry["outcome"] == "forwarded"


def test_a_proxys_filing_is_in_the_principals_history_not_the_proxys(world: World):
    principal = world.resident()[0]
    proxy = world.resident("鈴木", "次郎")[0]
    dg = delegate(world, principal, proxy).json()
    filed = world.portal.post("/v1/moveouts", headers=world.as_person(proxy),
                              json=moveout(on_behalf_of=dg["id"]))
    assert filed.status_code == 201, filed.text
    (entry,) = portal_entries(world, principal)
    assert entry["record_id"] == filed.json()["id"]
    assert entry["purpose"] == "転出届 (moveout, filed by a proxy)"
    assert portal_entries(world, proxy) == []
