"""The public-fund account registry: the person registers, changes and removes their one account
in their own name with the provider's access token; agencies' queries reach it through the mesh
(single and bulk), each answered once and recorded for the portal, across a restart."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.accounts_support import (
    AGENCY,
    FUND,
    ITEM,
    PROCEDURE,
    World,
    account,
    accounts_app,
    bearer,
    client_token,
    make_world,
    topology,
)


@pytest.fixture
def world(tmp_path) -> World:  # type: ignore[no-untyped-def]
    return make_world(tmp_path)


def inquire(world: World, code: str, record_id: str) -> dict:  # type: ignore[type-arg]
    answer = world.mesh_client.post("/v1/inquiries", headers=client_token("mesh-benefit-agency"),
                                    json={"record_id": record_id, "procedure_code": PROCEDURE,
                                          "item_code": ITEM, "provider": FUND, "code": code})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_person_registers_changes_and_removes_their_one_account(world: World):
    person = world.resident()
    me = bearer(world.token(person))
    assert world.client.get("/v1/me/account", headers=me).status_code == 404

    first = world.client.put("/v1/me/account", headers=me, json=account())
    assert first.status_code == 201, first.text
    assert first.json()["created"] is True and first.json()["account_number"] == "1234567"

    changed = world.client.put("/v1/me/account", headers=me,
                               json=account(account_number="7654321", bank_code="0005"))
    assert changed.status_code == 200 and changed.json()["created"] is False
    shown = world.client.get("/v1/me/account", headers=me).json()
    assert (shown["bank_code"], shown["account_number"]) == ("0005", "7654321")
    assert shown["registered_at"] == first.json()["registered_at"]
    assert world.accounts.state.store.holders() == 1  # one account per person, never two

    assert world.client.delete("/v1/me/account", headers=me).status_code == 204
    assert world.client.get("/v1/me/account", headers=me).status_code == 404
    assert world.client.delete("/v1/me/account", headers=me).status_code == 404


def test_the_same_person_through_another_client_sees_the_same_account(world: World):
    person = world.resident()
    world.client.put("/v1/me/account", headers=bearer(world.token(person)), json=account())
    # A front service's token has another pairwise sub, but names the same person.
    other = world.client.get("/v1/me/account", headers=bearer(world.token(person, "front-app")))
    assert other.status_code == 200 and other.json()["holder_kana"] == "ヤマダ　タロウ"
    stranger = world.client.get("/v1/me/account",
                                headers=bearer(world.token(world.resident())))
    assert stranger.status_code == 404


@pytest.mark.parametrize(("holder", "status"), [
    ("ヤマダ　タロウ", 201),       # as registered
    ("ヤマダ タロウ", 201),        # half-width separator
    ("ヤマダ　ハナコ", 422),       # someone else's given name
    ("ヤマダタロウ", 422),         # no separator
    ("やまだ　たろう", 422),       # hiragana
    ("ﾔﾏﾀﾞ ﾀﾛｳ", 422),            # half-width kana
])
def test_the_holder_name_must_be_the_registered_kana_name(world: World, holder: str,
                                                          status: int):
    me = bearer(world.token(world.resident()))
    answer = world.client.put("/v1/me/account", headers=me, json=account(holder))
    assert answer.status_code == status, answer.text
    if status == 422:
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_small_kana_may_be_written_large_as_banks_do(world: World):
    me = bearer(world.token(world.resident(("キャッスル", "ジョー"))))
    answer = world.client.put("/v1/me/account", headers=me, json=account("キヤツスル　ジヨー"))
    assert answer.status_code == 201, answer.text
    long_vowel_dropped = world.client.put("/v1/me/account", headers=me,
                                          json=account("キヤツスル　ジヨ"))
    assert long_vowel_dropped.json()["type"].endswith("holder-name-mismatch")


@pytest.mark.parametrize("changes", [{"phone": "03-1234-5678"}, {"email": "not-an-email"},
                                     {"account_type": "貯蓄"}, {"account_number": "123456"},
                                     {"bank_code": 1}])
def test_malformed_accounts_are_problems_not_stored(world: World, changes: dict):  # type: ignore[type-arg]
    me = bearer(world.token(world.resident()))
    answer = world.client.put("/v1/me/account", headers=me, json=account(**changes))
    assert answer.status_code == 422
    assert answer.json()["type"] == "urn:meshcert:problem:validation-error"
    assert world.accounts.state.store.holders() == 0


def test_a_private_services_token_for_the_person_is_refused(world: World):
    person = world.resident()
    world.client.put("/v1/me/account", headers=bearer(world.token(person)), json=account())
    private = world.client.get("/v1/me/account",
                               headers=bearer(world.token(person, "bank-account-opening")))
    assert private.status_code == 403
    assert private.json()["type"] == "urn:meshcert:problem:client-not-trusted"
    assert "account_number" not in private.text


def test_person_endpoints_take_only_the_providers_live_tokens(world: World):
    person = world.resident()
    assert world.client.get("/v1/me/account").status_code == 401
    # A static token of the topology is a client, not a person.
    assert world.client.get("/v1/me/account", headers=client_token("portal")).status_code == 401
    token = world.token(person)
    grant = world.idp.state.provider.grant_of(
        world.idp.state.provider.access_claims_of(token)["jti"])
    grant.revoked = True
    revoked = world.client.get("/v1/me/account", headers=bearer(token))
    assert revoked.status_code == 401 and revoked.json()["reason"] == "revoked"


def test_agency_queries_through_the_mesh_are_answered_and_recorded(world: World):
    person = world.resident()
    world.client.put("/v1/me/account", headers=bearer(world.token(person)), json=account())
    code = world.agency_code(person)

    answer = inquire(world, code, "payout-0001")
    [item] = answer["items"]
    assert (answer["route"], item["status"]) == ("copy", "01")
    assert item["payload"]["account_number"] == "1234567"
    assert "phone" not in item["payload"] and "email" not in item["payload"]

    nobody = inquire(world, world.agency_code(world.resident()), "payout-0002")
    assert nobody["items"][0]["status"] == "02"

    portal = client_token("portal")
    mine = world.client.get("/v1/records", params={"person": person}, headers=portal).json()
    assert [(r["record_id"], r["outcome"], r["inquirer_client"]) for r in mine["records"]] == [
        ("payout-0001", "provided", "mesh")]
    everyone = world.client.get("/v1/records", headers=portal).json()["records"]
    assert [r["outcome"] for r in everyone] == ["provided", "no-data"]
    assert world.client.get("/v1/records").status_code == 401
    assert world.client.get("/v1/records", headers=client_token("idp")).status_code == 403


def test_a_record_id_is_answered_once(world: World):
    person = world.resident()
    world.client.put("/v1/me/account", headers=bearer(world.token(person)), json=account())
    mesh = client_token("mesh")
    code = world.accounts.state.store.account(person)["code"]
    row = {"record_id": "r-1", "procedure_code": PROCEDURE, "item_code": ITEM, "code": code}
    first = world.client.post("/v1/provisions", headers=mesh, json=row)
    again = world.client.post("/v1/provisions", headers=mesh, json=row)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    other = world.client.post("/v1/provisions", headers=mesh,
                              json={**row, "procedure_code": "JT01030000000999"})
    assert other.status_code == 409 and other.json()["type"].endswith("duplicate-record-id")
    outcomes = [r["outcome"] for r in world.client.get(
        "/v1/records", headers=client_token("portal")).json()["records"]]
    assert outcomes == ["provided", "refused"]


def test_a_client_without_the_provide_role_is_refused_and_recorded(world: World):
    person = world.resident()
    world.client.put("/v1/me/account", headers=bearer(world.token(person)), json=account())
    code = world.accounts.state.store.account(person)["code"]
    refused = world.client.post("/v1/provisions", headers=client_token("portal"), json={
        "record_id": "nosy-1", "procedure_code": PROCEDURE, "item_code": ITEM, "code": code})
    assert refused.status_code == 403
    [record] = world.client.get("/v1/records", params={"person": person},
                                headers=client_token("portal")).json()["records"]
    assert (record["outcome"], record["inquirer_client"]) == ("refused", "portal")


def test_a_bulk_file_through_the_mesh_is_answered_row_by_row(world: World):
    persons = [world.resident() for _ in range(3)]
    for p in persons[:2]:
        world.client.put("/v1/me/account", headers=bearer(world.token(p)), json=account())
    rows = [{"record_id": f"bulk-{n}", "procedure_code": PROCEDURE, "item_code": ITEM,
             "provider": FUND, "code": world.agency_code(p)} for n, p in enumerate(persons)]
    agency = client_token("mesh-benefit-agency")
    submitted = world.mesh_client.post("/v1/bulk-inquiries", json={"rows": rows}, headers=agency)
    assert submitted.status_code == 202, submitted.text
    deadline = time.monotonic() + 10
    while True:
        job = world.mesh_client.get(submitted.json()["status_url"], headers=agency).json()
        if job["state"] == "done" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert job["state"] == "done", job
    statuses = [r["result"]["items"][0]["status"] for r in job["rows"]]
    assert statuses == ["01", "01", "02"]
    records = world.client.get("/v1/records", headers=client_token("portal")).json()["records"]
    assert sorted(r["record_id"] for r in records) == ["bulk-0", "bulk-1", "bulk-2"]


def test_accounts_and_records_survive_a_restart(world: World, tmp_path):
    person = world.resident()
    world.client.put("/v1/me/account", headers=bearer(world.token(person)), json=account())
    inquire(world, world.agency_code(person), "before-restart")
    world.client.close()
    world.accounts.state.store.db.close()

    again = accounts_app(tmp_path, topology(), municipal=world.municipal, idp=world.idp,
                         mesh=world.mesh)
    from fastapi.testclient import TestClient

    client = TestClient(again)
    assert client.get("/v1/me/account",
                      headers=bearer(world.token(person))).json()["account_number"] == "1234567"
    records = client.get("/v1/records", params={"person": person},
                         headers=client_token("portal")).json()["records"]
    assert [r["record_id"] for r in records] == ["before-restart"]
    assert AGENCY  # the inquirer of the legal-basis row these queries use


def test_exchanges_and_faults_are_served(world: World):
    admin = {"Authorization": f"Bearer {topology().admin_token}"}
    me = bearer(world.token(world.resident()))
    world.client.get("/v1/me/account", headers=me)  # the provider's keys are fetched
    plan = world.client.put("/admin/faults/global", headers=admin, json={
        "match": {"client_id": "portal", "path_prefix": "/v1/me/account"},
        "error": {"status": 503, "rate": 1.0}})
    assert plan.status_code in (200, 201), plan.text
    assert world.client.get("/v1/me/account", headers=me).status_code == 503
    other_client = bearer(world.token(world.resident(), "front-app"))
    assert world.client.get("/v1/me/account", headers=other_client).status_code == 404
    world.client.delete("/admin/faults/global", headers=admin)
    assert world.client.get("/v1/me/account", headers=me).status_code == 404
    seen = world.client.get("/admin/exchanges", headers=admin,
                            params={"client_id": "portal", "path_prefix": "/v1/me"}).json()
    assert seen["exchanges"] and all(e["path"].startswith("/v1/me") for e in seen["exchanges"])


@given(bank=st.from_regex(r"\A[0-9]{4}\Z"), branch=st.from_regex(r"\A[0-9]{3}\Z"),
       number=st.from_regex(r"\A[0-9]{7}\Z"), kind=st.sampled_from(["普通", "当座"]),
       phone=st.from_regex(r"\A0[789]0-?[0-9]{4}-?[0-9]{4}\Z"))
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_what_the_person_registers_is_what_they_and_agencies_read(
        world: World, bank: str, branch: str, number: str, kind: str, phone: str):
    person = world.resident()
    me = bearer(world.token(person))
    sent = account(bank_code=bank, branch_code=branch, account_number=number,
                   account_type=kind, phone=phone)
    assert world.client.put("/v1/me/account", headers=me, json=sent).status_code == 201
    shown = world.client.get("/v1/me/account", headers=me).json()
    assert {k: shown[k] for k in sent} == sent
    [item] = inquire(world, world.agency_code(person), f"prop-{person}")["items"]
    assert {k: item["payload"][k] for k in ("bank_code", "branch_code", "account_number",
                                            "account_type")} == \
        {"bank_code": bank, "branch_code": branch, "account_number": number,
         "account_type": kind}
