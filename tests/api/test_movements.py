"""Movement events (異動): each kind changes the register as the law describes and feeds out."""

from __future__ import annotations

from datetime import date

from meshcert_simulators.common.identifiers import is_valid_my_number
from meshcert_suites.resident_registry.builders import ADDRESS, LG, move_in, movement, person
from tests.conftest import bearer


def post(client, topology, body, who="demo-clerk"):
    return client.post(f"/municipalities/{LG}/movements", json=body, headers=bearer(topology, who))


def family(client, topology) -> dict[str, dict]:
    body = move_in(person("鈴木", "一郎", "02", kana=("スズキ", "イチロウ")),
                   person("鈴木", "花子", "12", kana=("スズキ", "ハナコ"), sex="2"),
                   person("鈴木", "健太", "20", kana=("スズキ", "ケンタ"),
                          birth={"iso": "2000-01-01"}))
    affected = post(client, topology, body).json()["affected"]
    return {r["name"]["given_name"]: r for r in affected}


def feed(client, topology) -> list[dict]:
    return client.get(f"/municipalities/{LG}/changes", params={"limit": 1000},
                      headers=bearer(topology, "demo-clerk")).json()["entries"]


def read(client, topology, atena):
    return client.get(f"/municipalities/{LG}/residents/{atena}",
                      headers=bearer(topology, "demo-clerk")).json()


def test_every_change_yields_one_feed_entry_of_its_kind(registry_client, topology):
    people = family(registry_client, topology)
    before = len(feed(registry_client, topology))
    setai = people["一郎"]["setai_number"]
    post(registry_client, topology, movement("move-within", setai_number=setai,
                                             address={**ADDRESS, "banchi": "3-1"}))
    entries = feed(registry_client, topology)[before:]
    assert [e["change_type"] for e in entries] == ["move-within"] * 3
    assert {e["record"]["address"]["banchi"] for e in entries} == {"3-1"}
    assert all(e["record"]["dates"]["address_fixed"] == "2026-11-20" for e in entries)


def test_birth_joins_the_household_with_a_new_my_number(registry_client, topology):
    people = family(registry_client, topology)
    born = date(2026, 11, 1)
    response = post(registry_client, topology, movement(
        "birth", on=born, setai_number=people["一郎"]["setai_number"],
        person=person("鈴木", "陽菜", "20", kana=("スズキ", "ヒナ"), sex="2",
                      birth={"iso": born.isoformat()})))
    assert response.status_code == 201, response.text
    [baby] = response.json()["affected"]
    assert baby["setai_number"] == people["一郎"]["setai_number"]
    assert is_valid_my_number(baby["my_number"])
    assert baby["address"] == people["一郎"]["address"]


def test_birth_date_must_match_the_event(registry_client, topology):
    people = family(registry_client, topology)
    response = post(registry_client, topology, movement(
        "birth", on=date(2026, 11, 1), setai_number=people["一郎"]["setai_number"],
        person=person("鈴木", "陽菜", "20", kana=("スズキ", "ヒナ"),
                      birth={"iso": "2026-10-01"})))
    assert response.status_code == 422


def test_move_out_and_death_end_residence(registry_client, topology):
    people = family(registry_client, topology)
    out = post(registry_client, topology, movement(
        "move-out", atena_numbers=[people["健太"]["atena_number"]], destination="大阪市北区",
        destination_lg_code="271004"))
    assert out.status_code == 201, out.text
    died = post(registry_client, topology, movement(
        "death", atena_number=people["一郎"]["atena_number"]))
    assert died.status_code == 201, died.text
    assert read(registry_client, topology, people["健太"]["atena_number"])["status"] == "moved-out"
    assert read(registry_client, topology, people["一郎"]["atena_number"])["status"] == "deceased"
    again = post(registry_client, topology, movement(
        "death", atena_number=people["一郎"]["atena_number"]))
    assert again.status_code == 409


def test_household_split_makes_a_new_household_headed_by_the_first(registry_client, topology):
    people = family(registry_client, topology)
    response = post(registry_client, topology, movement(
        "household-split", atena_numbers=[people["健太"]["atena_number"]]))
    assert response.status_code == 201, response.text
    [kenta] = response.json()["affected"]
    assert kenta["setai_number"] != people["一郎"]["setai_number"]
    assert kenta["relationship"]["code"] == "02"


def test_the_head_cannot_split_off(registry_client, topology):
    people = family(registry_client, topology)
    response = post(registry_client, topology, movement(
        "household-split", atena_numbers=[people["一郎"]["atena_number"]]))
    assert response.status_code == 409
    assert read(registry_client, topology, people["一郎"]["atena_number"])["version"] == 1


def test_head_change_and_merge(registry_client, topology):
    people = family(registry_client, topology)
    setai = people["一郎"]["setai_number"]
    changed = post(registry_client, topology, movement(
        "head-change", setai_number=setai, new_head=people["花子"]["atena_number"],
        relationships={people["一郎"]["atena_number"]: "11"}))
    assert changed.status_code == 201, changed.text
    codes = {r["name"]["given_name"]: r["relationship"]["code"]
             for r in changed.json()["affected"]}
    assert codes == {"一郎": "11", "花子": "02", "健太": "20"}
    [single] = post(registry_client, topology, move_in(
        person("田中", "祖母", "02", kana=("タナカ", "ソボ"), sex="2",
               birth={"iso": "1940-02-02"}))).json()["affected"]
    merged = post(registry_client, topology, movement(
        "household-merge", setai_number=single["setai_number"], into_setai_number=setai,
        relationships={single["atena_number"]: "32"}))
    assert merged.status_code == 201, merged.text
    household = registry_client.get(f"/municipalities/{LG}/households/{setai}",
                                    headers=bearer(topology, "demo-clerk")).json()
    assert len(household["members"]) == 4
    assert [m["relationship"]["code"] for m in household["members"]].count("02") == 1


def test_resending_an_event_id_returns_the_first_result(registry_client, topology):
    body = move_in(person(), event_id="evt-001")
    first = post(registry_client, topology, body)
    second = post(registry_client, topology, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert len(feed(registry_client, topology)) == 1


def test_reusing_an_event_id_for_another_event_is_409(registry_client, topology):
    post(registry_client, topology, move_in(person(), event_id="evt-002"))
    other = post(registry_client, topology, move_in(person("別人", kana=("ベツジン", "タロウ")),
                                                    event_id="evt-002"))
    assert other.status_code == 409
    assert other.json()["type"].endswith("idempotency-key-reused")


def test_notified_before_the_event_is_refused(registry_client, topology):
    body = move_in(person())
    body["movement"]["notified_date"] = "2026-11-01"
    assert post(registry_client, topology, body).status_code == 422


def test_a_new_household_needs_exactly_one_head(registry_client, topology):
    body = move_in(person(relationship="20"))
    assert post(registry_client, topology, body).status_code == 422


def test_failed_movement_changes_nothing(registry_client, topology):
    people = family(registry_client, topology)
    before = feed(registry_client, topology)
    response = post(registry_client, topology, movement(
        "move-out", atena_numbers=[people["健太"]["atena_number"], "9999999999"],
        destination="どこか"))
    assert response.status_code in (404, 422)
    assert feed(registry_client, topology) == before


def test_joining_a_household_as_a_second_head_is_refused(registry_client, topology):
    people = family(registry_client, topology)
    setai = people["一郎"]["setai_number"]
    response = post(registry_client, topology, move_in(
        person("鈴木", "二郎", "02", kana=("スズキ", "ジロウ")), setai_number=setai))
    assert response.status_code == 422, response.text
    household = registry_client.get(f"/municipalities/{LG}/households/{setai}",
                                    headers=bearer(topology, "demo-clerk")).json()
    assert [m["relationship"]["code"] for m in household["members"]].count("02") == 1
