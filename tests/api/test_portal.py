"""The portal in-process with two real registries (old and new municipality) and stand-ins for
the idp and the record keepers: who may call, 自己情報, the online move-out (forwarded, idempotent,
the registry's refusals and status passed on), e-applications, and state surviving a restart.
Proxies, history and notices: test_portal_people.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from meshcert_simulators.common.problems import PROBLEM_MEDIA_TYPE
from tests.api.portal_support import (
    ADMIN,
    NEW_LG,
    OLD_LG,
    TestClient,
    World,
    bearer,
    build_portal,
    jst_today,
    open_world,
)

SHINJUKU = "東京都新宿区西新宿二丁目8-1"


@pytest.fixture
def world(tmp_path: Path):
    with open_world(tmp_path) as opened:
        yield opened


def moveout(days: int = 7, key: str | None = "key-1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"moving_date": (jst_today() + timedelta(days=days)).isoformat(),
                            "new_address": {"lg_code": NEW_LG, "address": SHINJUKU}, **extra}
    if key is not None:
        body["idempotency_key"] = key
    return body


def registry_advance(world: World, moveout_id: str, status: str) -> None:
    answer = world.old.post(f"/municipalities/{OLD_LG}/moveout-notifications/{moveout_id}"
                            "/transitions", headers=bearer(ADMIN), json={"status": status})
    assert answer.status_code == 200, answer.text


# -- who may call --------------------------------------------------------------------------


def test_a_call_without_a_token_is_401_problem_with_a_bearer_challenge(world: World):
    answer = world.portal.get("/v1/me")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_token_not_for_the_portal_is_refused(world: World):
    head = world.resident()[0]
    answer = world.portal.get("/v1/me", headers=world.as_person(
        head, aud=["urn:meshcert:gateway"]))
    assert answer.status_code == 401
    assert answer.json()["reason"] == "wrong-audience"


def test_an_expired_token_is_refused(world: World):
    head = world.resident()[0]
    answer = world.portal.get("/v1/me", headers=world.as_person(head, exp_in=-120))
    assert answer.status_code == 401 and answer.json()["reason"] == "expired"


def test_a_token_the_idp_revoked_is_refused_on_the_next_request(world: World):
    head = world.resident()[0]
    token = world.idp.token(head["juminhyo_code"])
    assert world.portal.get("/v1/me", headers=bearer(token)).status_code == 200
    world.idp.revoked.update(world.idp.persons)
    answer = world.portal.get("/v1/me", headers=bearer(token))
    assert answer.status_code == 401 and answer.json()["reason"] == "revoked"


def test_a_static_token_is_no_person(world: World):
    answer = world.portal.get("/v1/me", headers=bearer(ADMIN))
    assert answer.status_code == 401


# -- 自己情報 -------------------------------------------------------------------------------


def test_me_shows_the_registry_facts_and_the_household(world: World):
    head, spouse = world.resident("佐藤", "一郎", OLD_LG, _member("花子", "12", "2"))
    answer = world.portal.get("/v1/me", headers=world.as_person(spouse))
    assert answer.status_code == 200, answer.text
    me = answer.json()
    assert me["name"] == "佐藤\u3000花子" and me["gender"] == "female"
    assert me["lg_code"] == OLD_LG and me["address"].startswith("東京都千代田区")
    assert sorted((m["name"], m["is_self"]) for m in me["household"]) == [
        ("佐藤\u3000一郎", False), ("佐藤\u3000花子", True)]
    assert me["items"] == [] and me["items_unavailable"] is False
    assert head["juminhyo_code"] not in answer.text  # nobody else's identifiers


def test_me_reads_the_registry_now(world: World):
    head = world.resident("高橋", "健")[0]
    headers = world.as_person(head)
    assert world.portal.get("/v1/me", headers=headers).json()["name"] == "高橋\u3000健"
    moved = world.old.post(f"/municipalities/{OLD_LG}/movements", headers=bearer(ADMIN), json={
        "movement": {"kind": "death", "event_date": jst_today().isoformat(),
                     "notified_date": jst_today().isoformat(),
                     "atena_number": head["atena_number"]}})
    assert moved.status_code == 201, moved.text
    answer = world.portal.get("/v1/me", headers=headers)
    assert answer.status_code == 422 and answer.json()["type"].endswith(":not-a-resident")


def _member(given: str, relationship: str, sex: str) -> dict[str, Any]:
    from meshcert_suites.resident_registry.builders import person
    return person("佐藤", given, relationship, kana=("サトウ", "ハナコ"), sex=sex)


# -- 転出届 ---------------------------------------------------------------------------------


def test_a_moveout_is_forwarded_to_the_old_registry_with_a_move_in_reservation(world: World):
    head = world.resident()[0]
    answer = world.portal.post("/v1/moveouts", headers=world.as_person(head), json=moveout())
    assert answer.status_code == 201, answer.text
    filed = answer.json()
    assert filed["status"] == "受付" and filed["old_lg_code"] == OLD_LG
    assert filed["filed_by"] == "person" and filed["on_behalf_of"] is None
    reservation = filed["move_in_reservation"]
    moving = jst_today() + timedelta(days=7)
    assert reservation == {"lg_code": NEW_LG, "address": SHINJUKU, "status": "予約済",
                           "visit_from": moving.isoformat(),
                           "visit_by": (moving + timedelta(days=14)).isoformat(),
                           "hosted": True}
    at_registry = world.old.get(f"/municipalities/{OLD_LG}/moveout-notifications/{filed['id']}",
                                headers=bearer(ADMIN))
    assert at_registry.status_code == 200, at_registry.text
    assert at_registry.json()["atena_numbers"] == [head["atena_number"]]
    assert at_registry.json()["destination"]["lg_code"] == NEW_LG


def test_the_same_key_again_is_the_same_filing_never_a_second(world: World):
    head = world.resident()[0]
    headers = world.as_person(head)
    first = world.portal.post("/v1/moveouts", headers=headers, json=moveout(key="resend-1"))
    again = world.portal.post("/v1/moveouts", headers=world.as_person(head),
                              json=moveout(key="resend-1"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    # by header, equally
    by_header = world.portal.post("/v1/moveouts", headers={**headers,
                                                           "Idempotency-Key": "resend-1"},
                                  json=moveout(key=None))
    assert by_header.status_code == 200 and by_header.json()["id"] == first.json()["id"]
    rows = world.apps["portal"].state.portal.store.db.query("SELECT count(*) AS n FROM filings")
    assert rows[0]["n"] == 1


def test_a_key_reused_for_another_request_is_409(world: World):
    head = world.resident()[0]
    headers = world.as_person(head)
    assert world.portal.post("/v1/moveouts", headers=headers, json=moveout()).status_code == 201
    other = world.portal.post("/v1/moveouts", headers=headers, json=moveout(days=8))
    assert other.status_code == 409
    assert other.json()["type"].endswith(":idempotency-key-reused")


@pytest.mark.parametrize(("key", "header", "slug"), [
    (None, None, "idempotency-key-required"),
    ("a", "b", "idempotency-key-mismatch")])
def test_the_key_is_required_and_must_agree(world: World, key: str | None,
                                            header: str | None, slug: str):
    head = world.resident()[0]
    headers = world.as_person(head) | ({"Idempotency-Key": header} if header else {})
    answer = world.portal.post("/v1/moveouts", headers=headers, json=moveout(key=key))
    assert answer.status_code == 422 and answer.json()["type"].endswith(f":{slug}")


def test_outside_the_filing_window_the_registry_refusal_is_passed_on_and_nothing_kept(
        world: World):
    head = world.resident()[0]
    headers = world.as_person(head)
    answer = world.portal.post("/v1/moveouts", headers=headers, json=moveout(days=45))
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    problem = answer.json()
    assert problem["type"] == "urn:meshcert:problem:outside-filing-window"
    assert problem["source"] == "registry" and "window_end" in problem
    # nothing kept: the same key may be used for a filing inside the window
    inside = world.portal.post("/v1/moveouts", headers=headers, json=moveout(days=5))
    assert inside.status_code == 201, inside.text


def test_a_destination_in_the_same_municipality_is_refused_by_the_registry(world: World):
    head = world.resident()[0]
    body = moveout(new_address={"lg_code": OLD_LG, "address": "東京都千代田区丸の内一丁目"})
    answer = world.portal.post("/v1/moveouts", headers=world.as_person(head), json=body)
    assert answer.status_code == 422
    assert answer.json()["type"].endswith(":invalid-destination")


def test_the_status_is_the_registrys_as_it_advances(world: World):
    head = world.resident()[0]
    headers = world.as_person(head)
    filed = world.portal.post("/v1/moveouts", headers=headers, json=moveout()).json()
    path = f"/v1/moveouts/{filed['id']}"
    assert world.portal.get(path, headers=headers).json()["status"] == "受付"
    registry_advance(world, filed["id"], "処理中")
    assert world.portal.get(path, headers=headers).json()["status"] == "処理中"
    done = world.portal.post(f"/_meshcert/portal/moveouts/{filed['id']}/transitions",
                             headers=bearer(ADMIN), json={"status": "完了"})
    assert done.status_code == 200, done.text
    shown = world.portal.get(path, headers=headers).json()
    assert shown["status"] == "完了"
    record = world.old.get(f"/municipalities/{OLD_LG}/residents/{head['atena_number']}",
                           headers=bearer(ADMIN)).json()
    assert record["status"] == "moved-out"


def test_the_status_is_never_guessed_when_the_registry_cannot_say(world: World):
    head = world.resident()[0]
    headers = world.as_person(head)
    filed = world.portal.post("/v1/moveouts", headers=headers, json=moveout()).json()
    fault = world.old.put("/admin/faults/global", headers=bearer(ADMIN), json={
        "match": {"method": "GET", "path_regex": "/moveout-notifications/"},
        "error": {"status": 503, "rate": 1.0}})
    assert fault.status_code in (200, 201), fault.text
    answer = world.portal.get(f"/v1/moveouts/{filed['id']}", headers=headers)
    assert answer.status_code == 502
    assert answer.json()["type"].endswith(":registry-unavailable")


def test_another_persons_moveout_is_not_found(world: World):
    head = world.resident()[0]
    stranger = world.resident("鈴木", "次郎")[0]
    filed = world.portal.post("/v1/moveouts", headers=world.as_person(head),
                              json=moveout()).json()
    answer = world.portal.get(f"/v1/moveouts/{filed['id']}",
                              headers=world.as_person(stranger))
    assert answer.status_code == 404


@pytest.mark.parametrize("body", [
    b"{", b"[]", b'{"moving_date": "2026-13-40", "new_address": {}}',
    b'{"moving_date": 20261212, "new_address": {"lg_code": "131041", "address": "x"}, '
    b'"idempotency_key": "k"}'])
def test_malformed_moveouts_are_problems_not_500(world: World, body: bytes):
    head = world.resident()[0]
    answer = world.portal.post("/v1/moveouts", headers={**world.as_person(head),
                                                        "content-type": "application/json"},
                               content=body)
    assert answer.status_code in (400, 422)
    assert answer.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)


# -- 電子申請 -------------------------------------------------------------------------------


def test_an_application_is_taken_once_per_key(world: World):
    head = world.resident()[0]
    headers = world.as_person(head)
    body = {"procedure": "child-allowance", "fields": {"child_name": "山田　花"},
            "idempotency_key": "app-1"}
    first = world.portal.post("/v1/applications", headers=headers, json=body)
    again = world.portal.post("/v1/applications", headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and first.json()["status"] == "受付"
    shown = world.portal.get(f"/v1/applications/{first.json()['id']}", headers=headers)
    assert shown.status_code == 200 and shown.json()["fields"] == {"child_name": "山田　花"}
    stranger = world.resident("鈴木", "次郎")[0]
    assert world.portal.get(f"/v1/applications/{first.json()['id']}",
                            headers=world.as_person(stranger)).status_code == 404


def test_a_moveout_is_not_an_application(world: World):
    head = world.resident()[0]
    answer = world.portal.post("/v1/applications", headers=world.as_person(head), json={
        "procedure": "moveout", "fields": {}, "idempotency_key": "x"})
    assert answer.status_code == 422
    assert answer.json()["type"].endswith(":use-moveout-endpoint")


# -- durability, capture -------------------------------------------------------------------


def test_filings_and_delegations_survive_a_restart(tmp_path: Path):
    with open_world(tmp_path) as world:
        head = world.resident()[0]
        proxy = world.resident("鈴木", "次郎")[0]
        headers = world.as_person(head)
        filed = world.portal.post("/v1/moveouts", headers=headers, json=moveout()).json()
        granted = world.portal.post("/v1/me/proxies", headers=headers, json={
            "proxy_juminhyo_code": proxy["juminhyo_code"], "kind": "voluntary",
            "procedures": ["moveout"], "until": "2099-01-01T00:00:00+09:00"}).json()
        again = build_portal(tmp_path, world.idp, world.keepers, world.apps["municipal"],
                             world.apps["municipal-new"])
        world.portal.close()
        with TestClient(again) as restarted:
            shown = restarted.get(f"/v1/moveouts/{filed['id']}", headers=headers)
            assert shown.status_code == 200 and shown.json()["id"] == filed["id"]
            resent = restarted.post("/v1/moveouts", headers=headers, json=moveout())
            assert resent.status_code == 200 and resent.json()["id"] == filed["id"]
            listed = restarted.get("/v1/me/proxies", headers=headers).json()["delegations"]
            assert [d["id"] for d in listed] == [granted["id"]]


def test_exchanges_record_the_front_service_with_timing(world: World):
    head = world.resident()[0]
    headers = world.as_person(head)
    world.portal.post("/v1/moveouts", headers=headers, json=moveout())
    answer = world.portal.get("/admin/exchanges", headers=bearer(ADMIN),
                              params={"client_id": "front-app", "path_prefix": "/v1/moveouts"})
    assert answer.status_code == 200, answer.text
    (exchange,) = answer.json()["exchanges"]
    assert exchange["method"] == "POST" and exchange["status"] == 201
    assert exchange["duration_ms"] > 0 and exchange["at"]
    token = headers["Authorization"].split()[1]
    assert token not in str(exchange["request_headers"])  # credentials redacted


def test_faults_injected_at_the_portal_hit_the_front_service_named(world: World):
    head = world.resident()[0]
    plan = world.portal.put("/admin/faults/global", headers=bearer(ADMIN), json={
        "match": {"client_id": "front-app", "path_prefix": "/v1/moveouts"},
        "error": {"status": 503, "rate": 1.0}, "max_hits": 1})
    assert plan.status_code in (200, 201), plan.text
    headers = world.as_person(head)
    hit = world.portal.post("/v1/moveouts", headers=headers, json=moveout())
    assert hit.status_code == 503
    assert hit.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    # the resend after the failure files it, once
    assert world.portal.post("/v1/moveouts", headers=headers, json=moveout()).status_code == 201
    assert world.portal.get("/v1/me", headers=headers).status_code == 200


def test_a_registry_refusing_the_portals_credential_is_not_the_persons_fault(world: World):
    head = world.resident()[0]
    fault = world.old.put("/admin/faults/global", headers=bearer(ADMIN), json={
        "match": {"method": "POST", "path_regex": "/moveout-notifications$"},
        "error": {"status": 403, "rate": 1.0}})
    assert fault.status_code in (200, 201), fault.text
    answer = world.portal.post("/v1/moveouts", headers=world.as_person(head), json=moveout())
    assert answer.status_code == 502
    assert answer.json()["type"].endswith(":registry-unavailable")
