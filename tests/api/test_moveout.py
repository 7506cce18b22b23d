"""Online move-out notifications (転出届): the filing window, domestic only, idempotent intake,
and the status a person sees (受付 → 処理中 → 完了)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from meshcert_suites.resident_registry.builders import LG, move_in, person
from tests.conftest import bearer

TODAY = date(2026, 3, 16)  # the clock is pinned so the window edges are exact


@pytest.fixture
def client(registry_client):
    registry_client.app.state.registry.clock = lambda: datetime(2026, 3, 16, 1, 0, tzinfo=UTC)
    return registry_client


@pytest.fixture
def household(client, topology) -> list[dict]:
    body = move_in(person("森", "一郎", "02", kana=("モリ", "イチロウ"),
                          juminhyo_code="10000000001", birth={"iso": "1970-07-07"}),
                   person("森", "花子", "12", kana=("モリ", "ハナコ"), sex="2",
                          juminhyo_code="10000000002"),
                   on=date(2020, 1, 1))
    response = client.post(f"/municipalities/{LG}/movements", json=body,
                           headers=bearer(topology, "demo-clerk"))
    assert response.status_code == 201, response.text
    return response.json()["affected"]


def notice(application_id: str = "APP-1", moving: date = TODAY + timedelta(days=5),
           **overrides) -> dict:
    body = {"application_id": application_id,
            "applicant": {"juminhyo_code": "10000000001", "surname": "森", "given_name": "一郎",
                          "birth_date": "1970-07-07"},
            "moving_date": moving.isoformat(),
            "destination": {"lg_code": "271004", "address": "大阪府大阪市北区中之島1-3-20"},
            "companions": ["10000000002"]}
    body.update(overrides)
    return body


def file(client, topology, body):
    return client.post(f"/municipalities/{LG}/moveout-notifications", json=body,
                       headers=bearer(topology, "demo-front-service"))


@pytest.mark.parametrize(("offset", "accepted"), [
    (30, True), (31, False),     # filed up to 30 days before the move
    (-10, True), (-11, False),   # and up to 10 days after it
])
def test_filing_window_edges(client, topology, household, offset, accepted):
    response = file(client, topology, notice(moving=TODAY + timedelta(days=offset)))
    assert (response.status_code == 202) is accepted, response.text
    if not accepted:
        assert response.json()["type"].endswith("outside-filing-window")


def test_a_move_abroad_is_not_accepted_online(client, topology, household):
    body = notice(destination={"lg_code": "271004", "address": "Paris", "country": "FR"})
    response = file(client, topology, body)
    assert response.status_code == 422
    assert response.json()["type"].endswith("domestic-only")


def test_destination_must_be_another_valid_municipality(client, topology, household):
    for code in (LG, "271005"):  # itself; a wrong check digit
        body = notice(destination={"lg_code": code, "address": "どこか"})
        assert file(client, topology, body).status_code == 422


def test_applicant_must_match_a_resident(client, topology, household):
    body = notice(applicant={"juminhyo_code": "10000000001", "surname": "森",
                             "given_name": "次郎", "birth_date": "1970-07-07"})
    response = file(client, topology, body)
    assert response.status_code == 422
    assert response.json()["type"].endswith("applicant-mismatch")


def test_intake_is_idempotent_by_application_id(client, topology, household):
    first = file(client, topology, notice())
    again = file(client, topology, notice())
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json() == again.json()
    changed = file(client, topology, notice(moving=TODAY + timedelta(days=6)))
    assert changed.status_code == 409


def test_status_goes_received_processing_done_and_removes_records(client, topology, household):
    assert file(client, topology, notice()).json()["status"] == "受付"
    url = f"/municipalities/{LG}/moveout-notifications/APP-1"
    clerk = bearer(topology, "demo-clerk")
    skipped = client.post(f"{url}/transitions", json={"status": "完了"}, headers=clerk)
    assert skipped.status_code == 409
    assert client.post(f"{url}/transitions", json={"status": "処理中"},
                       headers=clerk).json()["status"] == "処理中"
    done = client.post(f"{url}/transitions", json={"status": "完了"}, headers=clerk).json()
    assert done["status"] == "完了"
    seen = client.get(url, headers=bearer(topology, "demo-front-service")).json()
    assert seen["status"] == "完了"
    for member in household:
        record = client.get(f"/municipalities/{LG}/residents/{member['atena_number']}",
                            headers=clerk).json()
        assert record["status"] == "moved-out"
        assert record["departure"]["destination_lg_code"] == "271004"


def test_the_front_service_cannot_process(client, topology, household):
    file(client, topology, notice())
    response = client.post(f"/municipalities/{LG}/moveout-notifications/APP-1/transitions",
                           json={"status": "処理中"},
                           headers=bearer(topology, "demo-front-service"))
    assert response.status_code == 403


def test_unknown_application_is_404(client, topology):
    response = client.get(f"/municipalities/{LG}/moveout-notifications/NOPE",
                          headers=bearer(topology, "demo-front-service"))
    assert response.status_code == 404
