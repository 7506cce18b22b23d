"""The portal's notice intake (POST /v1/notices): an institution holding ``portal:notify`` — by a
static token of the topology or an access token of its issuer with that scope — pushes a notice
to a person (a benefit's payment), once per sender and key; the person sees it among their
notices. Anyone else is refused; bad input is a problem, never a 500."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from meshcert_simulators.fixtures import fixture_path
from tests.api import portal_support
from tests.api.portal_support import World, bearer, open_world
from tests.tokens import access_token

AGENCY = "meshcert-benefit-agency-test-0001"        # holds portal:notify
OTHER = "meshcert-other-institution-test-0001"      # an institution without it
ISSUER = "http://authz.test"
PORTAL_AUDIENCE = "urn:meshcert:portal"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    raw = copy.deepcopy(portal_support.RAW)
    raw["issuer"] = {"url": ISSUER, "jwks": str(fixture_path("keys", "authz.jwks.json"))}
    raw["simulators"]["portal"]["auth"] = ["token", "jwt"]
    raw["clients"] += [{"id": "benefit-agency", "token": AGENCY, "roles": ["portal:notify"]},
                       {"id": "other-institution", "token": OTHER, "roles": ["registry:read"]}]
    monkeypatch.setattr(portal_support, "RAW", raw)
    with open_world(tmp_path) as opened:
        yield opened


def benefit(person: dict[str, Any], key: str = "payout-2026-001", **change: Any
            ) -> dict[str, Any]:
    return {"juminhyo_code": person["juminhyo_code"], "kind": "benefit",
            "procedure": "benefit-payout", "title": "給付金をお支払いしました",
            "body": "ご登録の公金受取口座へ給付金を振り込みました。\n支給機関: 給付金支給機関",
            "idempotency_key": key, **change}


def agency_jwt(world: World, scopes: list[str]) -> str:
    topology = world.apps["portal"].state.settings.topology
    return access_token(topology, scopes, issuer=ISSUER, audience=PORTAL_AUDIENCE,
                        subject="benefit-agency")


def test_an_agency_pushes_a_notice_the_person_then_sees_unread(world: World):
    payee = world.resident()[0]
    pushed = world.portal.post("/v1/notices", headers=bearer(AGENCY), json=benefit(payee))
    assert pushed.status_code == 201, pushed.text
    receipt = pushed.json()
    assert receipt["sender"] == "benefit-agency"
    assert receipt["juminhyo_code"] == payee["juminhyo_code"]
    seen = world.portal.get("/v1/me/notices", headers=world.as_person(payee)).json()
    (notice,) = [n for n in seen["notices"] if n["id"] == receipt["id"]]
    assert notice["title"] == "給付金をお支払いしました" and notice["read_at"] is None
    assert notice["body"].endswith("支給機関: 給付金支給機関") and seen["unread"] >= 1
    someone_else = world.resident("鈴木", "次郎")[0]
    theirs = world.portal.get("/v1/me/notices", headers=world.as_person(someone_else)).json()
    assert receipt["id"] not in {n["id"] for n in theirs["notices"]}


def test_the_same_key_again_is_the_same_notice_and_another_notice_under_it_is_a_409(
        world: World):
    payee = world.resident()[0]
    first = world.portal.post("/v1/notices", headers=bearer(AGENCY), json=benefit(payee))
    again = world.portal.post("/v1/notices", headers=bearer(AGENCY), json=benefit(payee))
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == first.json()
    notices = world.portal.get("/v1/me/notices", headers=world.as_person(payee)).json()
    assert len(notices["notices"]) == 1
    changed = world.portal.post("/v1/notices", headers=bearer(AGENCY),
                                json=benefit(payee, title="別のお知らせ"))
    assert changed.status_code == 409, changed.text
    assert changed.json()["type"].endswith("idempotency-key-reused")
    assert changed.json()["notice_id"] == first.json()["id"]
    other = world.resident("佐藤", "花子")[0]
    elsewhere = world.portal.post("/v1/notices", headers=bearer(AGENCY), json=benefit(other))
    assert elsewhere.status_code == 409, elsewhere.text   # one key, one notice, one person
    by_header = world.portal.post("/v1/notices", json=benefit(other) | {
        "idempotency_key": None}, headers={**bearer(AGENCY), "Idempotency-Key": "payout-2"})
    assert by_header.status_code == 201, by_header.text


def test_an_access_token_of_the_issuer_with_the_scope_is_accepted_without_it_refused(
        world: World):
    payee = world.resident()[0]
    allowed = world.portal.post("/v1/notices", json=benefit(payee),
                                headers=bearer(agency_jwt(world, ["portal:notify"])))
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["sender"] == "benefit-agency"
    lacking = world.portal.post("/v1/notices", json=benefit(payee, key="k2"),
                                headers=bearer(agency_jwt(world, ["registry:read"])))
    assert lacking.status_code == 403, lacking.text
    assert lacking.json()["type"].endswith("insufficient-scope")
    assert 'error="insufficient_scope"' in lacking.headers["www-authenticate"]


@pytest.mark.parametrize("who", ["other institution", "a person", "nobody"])
def test_only_an_institution_with_portal_notify_may_push(world: World, who: str):
    payee = world.resident()[0]
    headers = {"other institution": bearer(OTHER), "a person": world.as_person(payee),
               "nobody": {}}[who]
    answer = world.portal.post("/v1/notices", headers=headers, json=benefit(payee))
    assert answer.status_code in (401, 403), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    notices = world.portal.get("/v1/me/notices", headers=world.as_person(payee)).json()
    assert notices["notices"] == []


@pytest.mark.parametrize("change", [
    {"juminhyo_code": "123"},                                            # not 11 digits
    {"title": "a\u0007b"},                                               # a control character
    {"body": "x" * 2001},                                                # too long
    {"kind": "Benefit Payout"},                                          # not a kind's name
    {"sender": "someone-else"},                                          # an unknown field
    {"idempotency_key": None},                                           # no key at all
    {"juminhyo_code": 12345678901},                                      # a number, not text
])
def test_bad_input_is_a_422_problem_never_a_500(world: World, change: dict[str, Any]):
    payee = world.resident()[0]
    answer = world.portal.post("/v1/notices", headers=bearer(AGENCY),
                               json=benefit(payee) | change)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_missing_or_malformed_body_is_a_problem(world: World):
    for content in (b"", b"{not json", b'{"kind": "benefit"}'):
        answer = world.portal.post("/v1/notices", content=content, headers={
            **bearer(AGENCY), "content-type": "application/json"})
        assert answer.status_code in (400, 422), (content, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
