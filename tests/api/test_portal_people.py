"""The portal's person-facing records: proxies (scope, time, revocation at once), the history of
exchanges (the person's records only, non-disclosable ones never), and notices (a birth at the
registry → a 児童手当 notice for the parents, read/unread)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from meshcert_suites.resident_registry.builders import movement, person
from tests.api.portal_support import ADMIN, OLD_LG, World, bearer, jst_today, open_world
from tests.api.test_portal import moveout


@pytest.fixture
def world(tmp_path: Path):
    with open_world(tmp_path) as opened:
        yield opened


def delegate(world: World, principal: dict[str, Any], proxy: dict[str, Any], *,
             procedures: list[str] | None = None, until: str = "2099-01-01T00:00:00+09:00",
             kind: str = "voluntary") -> Any:
    return world.portal.post("/v1/me/proxies", headers=world.as_person(principal), json={
        "proxy_juminhyo_code": proxy["juminhyo_code"], "kind": kind,
        "procedures": procedures or ["moveout"], "until": until})


# -- proxies -------------------------------------------------------------------------------


def test_a_proxy_files_a_moveout_within_the_delegation(world: World):
    principal = world.resident()[0]
    proxy = world.resident("鈴木", "次郎")[0]
    granted = delegate(world, principal, proxy, kind="legal")
    assert granted.status_code == 201, granted.text
    dg = granted.json()
    assert dg["direction"] == "granted" and dg["active"] is True
    assert dg["principal_name"] == "山田\u3000太郎"
    received = world.portal.get("/v1/me/proxies", headers=world.as_person(proxy)).json()
    (seen,) = received["delegations"]
    assert seen["id"] == dg["id"] and seen["direction"] == "received"
    assert seen["proxy_juminhyo_code"] is None
    filed = world.portal.post("/v1/moveouts", headers=world.as_person(proxy),
                              json=moveout(on_behalf_of=dg["id"]))
    assert filed.status_code == 201, filed.text
    assert filed.json()["filed_by"] == "proxy" and filed.json()["on_behalf_of"] == dg["id"]
    at_registry = world.old.get(
        f"/municipalities/{OLD_LG}/moveout-notifications/{filed.json()['id']}",
        headers=bearer(ADMIN)).json()
    assert at_registry["atena_numbers"] == [principal["atena_number"]]  # the principal moves
    # the principal sees the filing made for them
    assert world.portal.get(f"/v1/moveouts/{filed.json()['id']}",
                            headers=world.as_person(principal)).status_code == 200


def test_a_procedure_outside_the_delegation_is_refused(world: World):
    principal = world.resident()[0]
    proxy = world.resident("鈴木", "次郎")[0]
    dg = delegate(world, principal, proxy, procedures=["child-allowance"]).json()
    answer = world.portal.post("/v1/moveouts", headers=world.as_person(proxy),
                               json=moveout(on_behalf_of=dg["id"]))
    assert answer.status_code == 403
    assert answer.json()["type"].endswith(":outside-delegation-scope")
    allowed = world.portal.post("/v1/applications", headers=world.as_person(proxy), json={
        "procedure": "child-allowance", "fields": {}, "on_behalf_of": dg["id"],
        "idempotency_key": "ca-1"})
    assert allowed.status_code == 201 and allowed.json()["filed_by"] == "proxy"


def test_a_lapsed_delegation_is_refused(world: World):
    principal = world.resident()[0]
    proxy = world.resident("鈴木", "次郎")[0]
    until = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    dg = delegate(world, principal, proxy, until=until).json()
    time.sleep(1.2)
    answer = world.portal.post("/v1/moveouts", headers=world.as_person(proxy),
                               json=moveout(on_behalf_of=dg["id"]))
    assert answer.status_code == 403 and answer.json()["type"].endswith(":delegation-expired")


def test_a_revoked_delegation_is_refused_on_the_very_next_request(world: World):
    principal = world.resident()[0]
    proxy = world.resident("鈴木", "次郎")[0]
    dg = delegate(world, principal, proxy).json()
    proxy_headers = world.as_person(proxy)
    filed = world.portal.post("/v1/moveouts", headers=proxy_headers,
                              json=moveout(on_behalf_of=dg["id"]))
    assert filed.status_code == 201
    gone = world.portal.delete(f"/v1/me/proxies/{dg['id']}", headers=world.as_person(principal))
    assert gone.status_code == 204
    again = world.portal.post("/v1/moveouts", headers=proxy_headers,
                              json=moveout(key="key-2", on_behalf_of=dg["id"]))
    assert again.status_code == 403 and again.json()["type"].endswith(":delegation-revoked")
    status = world.portal.get(f"/v1/moveouts/{filed.json()['id']}", headers=proxy_headers)
    assert status.status_code == 403  # no longer the proxy's to follow
    resent = world.portal.post("/v1/moveouts", headers=proxy_headers,
                               json=moveout(on_behalf_of=dg["id"]))
    assert resent.status_code == 403  # not even a resend of what they filed before
    listed = world.portal.get("/v1/me/proxies", headers=world.as_person(principal)).json()
    assert listed["delegations"][0]["revoked_at"] and not listed["delegations"][0]["active"]


def test_only_the_proxy_named_may_use_a_delegation_and_only_the_principal_revoke(world: World):
    principal = world.resident()[0]
    proxy = world.resident("鈴木", "次郎")[0]
    other = world.resident("田中", "三郎")[0]
    dg = delegate(world, principal, proxy).json()
    answer = world.portal.post("/v1/moveouts", headers=world.as_person(other),
                               json=moveout(on_behalf_of=dg["id"]))
    assert answer.status_code == 403 and answer.json()["type"].endswith(":no-delegation")
    assert world.portal.delete(f"/v1/me/proxies/{dg['id']}",
                               headers=world.as_person(proxy)).status_code == 404


@pytest.mark.parametrize(("change", "slug"), [
    ({"until": "2020-01-01T00:00:00+09:00"}, "until-in-past"),
    ({"proxy_juminhyo_code": "self"}, "self-delegation"),
    ({"proxy_juminhyo_code": "12345678901"}, "proxy-not-found")])
def test_a_delegation_must_make_sense(world: World, change: dict[str, str], slug: str):
    principal = world.resident()[0]
    proxy = world.resident("鈴木", "次郎")[0]
    body = {"proxy_juminhyo_code": proxy["juminhyo_code"], "kind": "legal",
            "procedures": ["moveout"], "until": "2099-01-01T00:00:00+09:00", **change}
    if body["proxy_juminhyo_code"] == "self":
        body["proxy_juminhyo_code"] = principal["juminhyo_code"]
    answer = world.portal.post("/v1/me/proxies", headers=world.as_person(principal), json=body)
    assert answer.status_code == 422 and answer.json()["type"].endswith(f":{slug}")


def test_a_naive_until_is_a_validation_error(world: World):
    principal = world.resident()[0]
    proxy = world.resident("鈴木", "次郎")[0]
    answer = delegate(world, principal, proxy, until="2099-01-01T00:00:00")
    assert answer.status_code == 422


# -- やりとり履歴 ---------------------------------------------------------------------------


def _mesh_record(rid: str, at: str, non_disclosure: bool = False) -> dict[str, Any]:
    return {"seq": 1, "record_id": rid, "inquirer": "benefit-agency",
            "provider": "public-fund-registry", "procedure_code": "JT01030000000125",
            "item_codes": ["TM00000000000089"], "requested_at": at, "provided_at": at,
            "outcome": "provided", "non_disclosure": non_disclosure}


def test_history_shows_the_persons_records_newest_first_never_the_undisclosable(world: World):
    me = world.resident()[0]
    other = world.resident("鈴木", "次郎")[0]
    mine, theirs = me["juminhyo_code"], other["juminhyo_code"]
    world.keepers.mesh[mine] = [_mesh_record("m-1", "2026-12-01T10:00:00+00:00"),
                                _mesh_record("m-secret", "2026-12-03T10:00:00+00:00", True)]
    world.keepers.mesh[theirs] = [_mesh_record("m-theirs", "2026-12-04T10:00:00+00:00")]
    world.keepers.gateway[mine] = [{
        "seq": 1, "record_id": "g-1", "consent_id": "c", "client_id": "bank-account-opening",
        "sub": "s", "purpose": "口座開設の本人確認", "scopes": ["name"], "claims": ["name"],
        "requested_at": "2026-12-02T10:00:00+00:00",
        "provided_at": "2026-12-02T10:00:00+00:00"}]
    world.keepers.accounts[mine] = [{
        "seq": 1, "record_id": "a-1", "inquirer_client": "benefit-agency",
        "procedure_code": "JT01030000000125", "item_code": "TM00000000000089",
        "juminhyo_code": mine, "requested_at": "2026-11-30T10:00:00+00:00",
        "outcome": "provided"}]
    answer = world.portal.get("/v1/me/history", headers=world.as_person(me))
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert [(e["source"], e["record_id"]) for e in page["entries"]] == [
        ("gateway", "g-1"), ("mesh", "m-1"), ("accounts", "a-1")]
    assert page["entries"][0]["counterpart"] == "bank-account-opening"
    assert page["unavailable_sources"] == [] and page["has_more"] is False
    assert "m-secret" not in answer.text and "m-theirs" not in answer.text
    assert sorted(world.keepers.asked) == sorted([f"mesh:{mine}", f"gateway:{mine}",
                                                  f"accounts:{mine}"])
    first = world.portal.get("/v1/me/history", headers=world.as_person(me),
                             params={"limit": 2}).json()
    assert len(first["entries"]) == 2 and first["has_more"] is True
    rest = world.portal.get("/v1/me/history", headers=world.as_person(me),
                            params={"limit": 2, "after": first["next_after"]}).json()
    assert [e["record_id"] for e in rest["entries"]] == ["a-1"] and rest["has_more"] is False


def test_a_keeper_that_cannot_be_read_is_named_not_hidden(world: World):
    me = world.resident()[0]
    world.keepers.down.add("mesh")
    page = world.portal.get("/v1/me/history", headers=world.as_person(me)).json()
    assert page["unavailable_sources"] == ["mesh"]


def test_history_refuses_unknown_parameters(world: World):
    me = world.resident()[0]
    answer = world.portal.get("/v1/me/history", headers=world.as_person(me),
                              params={"afterr": 3})
    assert answer.status_code == 400


# -- お知らせ -------------------------------------------------------------------------------


def _birth(world: World, head: dict[str, Any]) -> dict[str, Any]:
    child = person("山田", "花", "20", kana=("ヤマダ", "ハナ"), sex="2",
                   birth={"iso": jst_today().isoformat()})
    answer = world.old.post(f"/municipalities/{OLD_LG}/movements", headers=bearer(ADMIN),
                            json=movement("birth", jst_today(), person=child,
                                          setai_number=head["setai_number"]))
    assert answer.status_code == 201, answer.text
    return dict(answer.json()["affected"][0])


def test_a_birth_makes_a_child_allowance_notice_for_the_parents_once(world: World):
    head, spouse = world.resident("山田", "太郎", OLD_LG,
                                  person("山田", "花子", "12", kana=("ヤマダ", "ハナコ"), sex="2"))
    stranger = world.resident("鈴木", "次郎")[0]
    before = world.portal.get("/v1/me/notices", headers=world.as_person(head)).json()
    assert before == {"notices": [], "unread": 0}
    child = _birth(world, head)
    for parent in (head, spouse):
        notices = world.portal.get("/v1/me/notices", headers=world.as_person(parent)).json()
        assert notices["unread"] == 1, notices
        (notice,) = notices["notices"]
        assert notice["kind"] == "child-allowance" and notice["procedure"] == "child-allowance"
        assert "児童手当" in notice["title"] and "山田\u3000花" in notice["body"]
        assert notice["read_at"] is None
    assert world.portal.get("/v1/me/notices",
                            headers=world.as_person(stranger)).json()["notices"] == []
    assert world.portal.get("/v1/me/notices",
                            headers=world.as_person(child)).json()["notices"] == []
    again = world.portal.post("/_meshcert/portal/feeds/follow", headers=bearer(ADMIN))
    assert again.json() == {"new_notices": 0}


def test_a_notice_is_marked_read_by_its_person_only(world: World):
    head = world.resident()[0]
    stranger = world.resident("鈴木", "次郎")[0]
    _birth(world, head)
    (notice,) = world.portal.get("/v1/me/notices",
                                 headers=world.as_person(head)).json()["notices"]
    path = f"/v1/me/notices/{notice['id']}/read"
    assert world.portal.post(path, headers=world.as_person(stranger)).status_code == 404
    read = world.portal.post(path, headers=world.as_person(head))
    assert read.status_code == 200 and read.json()["read_at"]
    after = world.portal.get("/v1/me/notices", headers=world.as_person(head)).json()
    assert after["unread"] == 0 and after["notices"][0]["read_at"] == read.json()["read_at"]
