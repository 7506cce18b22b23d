"""Single inquiries: the fixed errors in order, legal-basis dates, record ids, routing, art. 23
records (durable, person-scoped, honouring non-disclosure), and no My Number in any answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from meshcert_simulators.common.identifiers import find_my_numbers
from tests.api.mesh_support import (
    BENEFIT,
    CHILD,
    CHILD_PROC,
    FUND,
    FUND_ITEM,
    FUND_PROC,
    RESIDENT_ITEM,
    TAX,
    TAX_ITEM,
    FakeProvider,
    auth,
    client_for,
    mesh_app,
    mesh_topology,
    person,
    topology_with_provider_url,
)

P = "urn:meshcert:problem:"
TOPO = mesh_topology()


def code_of(client, inst: str, seed: int = 1) -> str:
    r = client.post("/v1/codes", json={"juminhyo_code": person(seed)}, headers=auth(TOPO, inst))
    assert r.status_code in (200, 201), r.text
    return r.json()["code"]


def inquiry(code: str, record_id: str = "r-1", **overrides) -> dict:
    body = {"record_id": record_id, "procedure_code": CHILD_PROC, "item_code": TAX_ITEM,
            "provider": TAX, "code": code}
    body.update(overrides)
    return body


def records(client, inst: str, seed: int = 1) -> list[dict]:
    r = client.get("/v1/provision-records", params={"code": code_of(client, inst, seed)},
                   headers=auth(TOPO, inst))
    assert r.status_code == 200, r.text
    return r.json()["records"]


def test_a_permitted_inquiry_reaches_the_provider_with_its_own_code(tmp_path):
    provider = FakeProvider()
    with client_for(mesh_app(tmp_path, provider=provider)) as client:
        mine = code_of(client, CHILD)
        r = client.post("/v1/inquiries", json=inquiry(mine), headers=auth(TOPO, CHILD))
        providers_code = code_of(client, TAX)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "09" and body["route"] == "realtime"
    assert body["items"] == [{"item_code": TAX_ITEM, "status": "01", "message": None,
                              "payload": {"taxable_income": 3200000, "fiscal_year": 2025}}]
    [call] = provider.calls
    assert call["body"] == {"record_id": "r-1", "procedure_code": CHILD_PROC,
                            "item_code": TAX_ITEM, "code": providers_code}
    assert providers_code != mine
    assert call["authorization"] == "Bearer meshcert-mesh-local-only-0001"


def test_the_copy_route_goes_to_the_intermediate_server(tmp_path):
    provider = FakeProvider()
    with client_for(mesh_app(tmp_path, provider=provider)) as client:
        r = client.post("/v1/inquiries", headers=auth(TOPO, BENEFIT), json=inquiry(
            code_of(client, BENEFIT), procedure_code=FUND_PROC, item_code=FUND_ITEM,
            provider=FUND))
    assert r.status_code == 200 and r.json()["route"] == "copy"
    assert len(provider.calls) == 1


def test_the_fixed_errors_come_in_order(tmp_path):
    provider = FakeProvider()
    with client_for(mesh_app(tmp_path, provider=provider)) as client:
        mine = code_of(client, CHILD)
        theirs = code_of(client, BENEFIT)
        stranger = client.post("/v1/inquiries", json=inquiry(mine),
                               headers=auth(TOPO, "mesh-stranger"))
        not_inquirer = client.post("/v1/inquiries", json=inquiry(mine), headers=auth(TOPO, TAX))
        # another institution's code is not this inquirer's: 符号が未取得
        not_issued = client.post("/v1/inquiries", json=inquiry(theirs, "r-2"),
                                 headers=auth(TOPO, CHILD))
        # a legal basis exists for the child-allowance office, not for the benefit agency
        not_permitted = client.post("/v1/inquiries", json=inquiry(theirs, "r-3"),
                                    headers=auth(TOPO, BENEFIT))
        unknown_provider = client.post("/v1/inquiries", json=inquiry(mine, "r-4",
                                                                     provider="nowhere"),
                                       headers=auth(TOPO, CHILD))
    assert (stranger.status_code, stranger.json()["type"]) == (
        403, P + "institution-not-registered")
    assert (not_inquirer.status_code, not_inquirer.json()["type"]) == (403, P + "not-an-inquirer")
    assert (not_issued.status_code, not_issued.json()["type"]) == (404, P + "code-not-issued")
    assert not_issued.json()["message"] == "符号が未取得"
    assert (not_permitted.status_code, not_permitted.json()["type"]) == (403, P + "not-permitted")
    assert not_permitted.json()["message"] == "照会は許可されていません"
    assert unknown_provider.json()["type"] == P + "not-permitted"
    assert provider.calls == []


@pytest.mark.parametrize(("today", "item", "permitted"), [
    (datetime(2025, 3, 31, 14, 59, tzinfo=UTC), RESIDENT_ITEM, True),   # 23:59 JST, last day
    (datetime(2025, 3, 31, 15, 0, tzinfo=UTC), RESIDENT_ITEM, False),   # 00:00 JST, expired
    (datetime(2021, 3, 31, 12, 0, tzinfo=UTC), RESIDENT_ITEM, False),   # not yet valid
    (datetime(2024, 3, 31, 12, 0, tzinfo=UTC), TAX_ITEM, False),
    (datetime(2024, 4, 1, 0, 0, tzinfo=UTC), TAX_ITEM, True),
    (datetime(2040, 1, 1, tzinfo=UTC), TAX_ITEM, True),                 # open-ended
])
def test_the_legal_basis_holds_only_within_its_dates(tmp_path, today, item, permitted):
    provider = FakeProvider()
    app = mesh_app(tmp_path, provider=provider)
    app.state.clock = lambda: today
    with client_for(app) as client:
        r = client.post("/v1/inquiries", json=inquiry(code_of(client, CHILD), item_code=item),
                        headers=auth(TOPO, CHILD))
        recs = records(client, CHILD)
    assert (r.status_code == 200) is permitted, r.text
    assert len(provider.calls) == (1 if permitted else 0)
    assert [x["outcome"] for x in recs] == ["provided" if permitted else "refused-not-permitted"]


def test_a_record_id_is_never_processed_twice(tmp_path):
    provider = FakeProvider()
    with client_for(mesh_app(tmp_path, provider=provider)) as client:
        mine = code_of(client, CHILD)
        first = client.post("/v1/inquiries", json=inquiry(mine), headers=auth(TOPO, CHILD))
        resend = client.post("/v1/inquiries", json=inquiry(mine), headers=auth(TOPO, CHILD))
        changed = client.post("/v1/inquiries", json=inquiry(mine, non_disclosure=True),
                              headers=auth(TOPO, CHILD))
        # another inquirer may use the same record id: ids are unique per inquirer
        other = client.post("/v1/inquiries", headers=auth(TOPO, BENEFIT), json=inquiry(
            code_of(client, BENEFIT), procedure_code=FUND_PROC, item_code=FUND_ITEM,
            provider=FUND))
        recs = records(client, CHILD)
    assert first.status_code == 200 and resend.status_code == 200
    assert resend.json() == first.json()
    assert (changed.status_code, changed.json()["type"]) == (409, P + "duplicate-record-id")
    assert other.status_code == 200
    assert len(provider.calls) == 2
    # one record per processed inquiry of this person (the same person at both inquirers)
    assert [(r["inquirer"], r["record_id"]) for r in recs] == [(CHILD, "r-1"), (BENEFIT, "r-1")]


def test_a_resend_after_a_provider_timeout_is_processed_again_then_replayed(tmp_path):
    provider = FakeProvider(mode="slow")
    app = mesh_app(tmp_path, provider=provider)
    app.state.provider_timeout = 0.5
    with client_for(app) as client:
        body = inquiry(code_of(client, CHILD))
        timed_out = client.post("/v1/inquiries", json=body, headers=auth(TOPO, CHILD))
        provider.mode = "ok"
        retried = client.post("/v1/inquiries", json=body, headers=auth(TOPO, CHILD))
        replayed = client.post("/v1/inquiries", json=body, headers=auth(TOPO, CHILD))
        changed = client.post("/v1/inquiries", json={**body, "non_disclosure": True},
                              headers=auth(TOPO, CHILD))
        recs = records(client, "ppc-audit")
    assert timed_out.json()["type"] == P + "provider-timeout"
    assert retried.status_code == 200 and replayed.json() == retried.json()
    assert changed.json()["type"] == P + "duplicate-record-id"
    assert len(provider.calls) == 2  # the timed-out attempt and the retry; never the replay
    assert [r["outcome"] for r in recs] == ["provider-timeout", "provided"]


def test_a_refused_record_id_replays_its_refusal(tmp_path):
    provider = FakeProvider()
    app = mesh_app(tmp_path, provider=provider)
    with client_for(app) as client:
        body = inquiry(code_of(client, CHILD), item_code=RESIDENT_ITEM)
        first = client.post("/v1/inquiries", json=body, headers=auth(TOPO, CHILD))
        again = client.post("/v1/inquiries", json=body, headers=auth(TOPO, CHILD))
        recs = records(client, CHILD)
    assert first.json()["type"] == again.json()["type"] == P + "not-permitted"
    assert len(recs) == 1 and provider.calls == []


@pytest.mark.parametrize(("mode", "status", "slug"), [
    ("slow", 504, "provider-timeout"),
    ("error", 502, "provider-bad-answer"),
    ("mynumber", 502, "provider-bad-answer"),
])
def test_provider_failures_are_fixed_problems_and_recorded(tmp_path, mode, status, slug):
    provider = FakeProvider(mode=mode)
    app = mesh_app(tmp_path, provider=provider)
    app.state.provider_timeout = 0.3
    with client_for(app) as client:
        r = client.post("/v1/inquiries", json=inquiry(code_of(client, CHILD)),
                        headers=auth(TOPO, CHILD))
        recs = records(client, CHILD)
    assert (r.status_code, r.json()["type"]) == (status, P + slug)
    assert not find_my_numbers(r.text)
    assert [x["outcome"] for x in recs] == [slug]


def test_an_unreachable_provider_is_a_502_and_recorded(tmp_path):
    topo = topology_with_provider_url(TAX, "http://127.0.0.1:1")
    with client_for(mesh_app(tmp_path, topology=topo)) as client:
        r = client.post("/v1/inquiries", json=inquiry(code_of(client, CHILD)),
                        headers=auth(TOPO, CHILD))
        recs = records(client, CHILD)
    assert (r.status_code, r.json()["type"]) == (502, P + "provider-unreachable")
    assert [x["outcome"] for x in recs] == ["provider-unreachable"]


def test_records_survive_a_restart_and_honour_non_disclosure(tmp_path):
    provider = FakeProvider()
    with client_for(mesh_app(tmp_path, provider=provider)) as client:
        mine = code_of(client, CHILD)
        client.post("/v1/inquiries", json=inquiry(mine, "open"), headers=auth(TOPO, CHILD))
        client.post("/v1/inquiries", json=inquiry(mine, "secret", non_disclosure=True),
                    headers=auth(TOPO, CHILD))
        client.post("/v1/inquiries", json=inquiry(mine, "refused", item_code=RESIDENT_ITEM),
                    headers=auth(TOPO, CHILD))
        # someone else's records are not this person's
        client.post("/v1/inquiries", json=inquiry(code_of(client, CHILD, seed=2), "other"),
                    headers=auth(TOPO, CHILD))
    with client_for(mesh_app(tmp_path, provider=provider)) as client:
        portal = records(client, "mynaportal")
        audit = records(client, "ppc-audit")
        again = client.post("/v1/inquiries", json=inquiry(mine, "open"),
                            headers=auth(TOPO, CHILD))
        unknown = client.get("/v1/provision-records", params={"code": "A" * 32},
                             headers=auth(TOPO, "mynaportal"))
    assert [r["record_id"] for r in portal] == ["open", "refused"]
    assert [r["record_id"] for r in audit] == ["open", "secret", "refused"]
    secret = audit[1]
    assert secret["non_disclosure"] is True and secret["inquirer"] == CHILD
    assert secret["provider"] == TAX and secret["item_codes"] == [TAX_ITEM]
    assert secret["requested_at"] and secret["provided_at"]
    assert audit[2]["outcome"] == "refused-not-permitted" and audit[2]["provided_at"] is None
    assert again.status_code == 200 and len(provider.calls) == 3  # replayed after the restart
    assert unknown.json()["type"] == P + "code-not-issued"


def test_records_are_kept_seven_years_then_purged(tmp_path):
    provider = FakeProvider()
    app = mesh_app(tmp_path, provider=provider)
    asked = datetime(2019, 2, 28, 12, 0, tzinfo=UTC)
    with client_for(app) as client:
        mine = code_of(client, CHILD)
        app.state.clock = lambda: asked
        client.post("/v1/inquiries", json=inquiry(mine, "2019"), headers=auth(TOPO, CHILD))
        app.state.clock = lambda: datetime(2024, 6, 1, tzinfo=UTC)
        client.post("/v1/inquiries", json=inquiry(mine, "2024"), headers=auth(TOPO, CHILD))
        app.state.clock = lambda: datetime(2026, 2, 28, 11, 59, tzinfo=UTC)
        assert [r["record_id"] for r in records(client, "ppc-audit")] == ["2019", "2024"]
        app.state.clock = lambda: datetime(2026, 2, 28, 12, 1, tzinfo=UTC)  # 7 years on
        assert [r["record_id"] for r in records(client, "ppc-audit")] == ["2024"]


def test_no_mesh_answer_carries_a_my_number(tmp_path):
    provider = FakeProvider()
    texts = []
    with client_for(mesh_app(tmp_path, provider=provider)) as client:
        for seed in range(30):
            mine = client.post("/v1/codes", json={"juminhyo_code": person(seed)},
                               headers=auth(TOPO, CHILD))
            r = client.post("/v1/inquiries", json=inquiry(mine.json()["code"], f"r{seed}"),
                            headers=auth(TOPO, CHILD))
            texts += [mine.text, r.text]
        texts.append(client.get("/v1/provision-records", params={"code": mine.json()["code"]},
                                headers=auth(TOPO, "mesh-auditor")).text)
    assert all(not find_my_numbers(t) for t in texts)
    assert len(provider.calls) == 30
