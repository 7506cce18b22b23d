"""Reading residents and households; the My Number only for permitted roles; text kept exactly."""

from __future__ import annotations

import unicodedata

from meshcert_simulators.common.identifiers import is_valid_juminhyo_code, is_valid_mod11
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.registry import create_app
from meshcert_suites.resident_registry.builders import LG, move_in, person
from tests.conftest import TestClient, bearer

MY_NUMBER = "123456789018"


def admit(client, topology, *persons, **kwargs) -> list[dict]:
    response = client.post(f"/municipalities/{LG}/movements", json=move_in(*persons, **kwargs),
                           headers=bearer(topology, "demo-clerk"))
    assert response.status_code == 201, response.text
    return response.json()["affected"]


def test_a_moved_in_person_is_read_back_by_atena_number(registry_client, topology):
    [record] = admit(registry_client, topology, person(my_number=MY_NUMBER))
    assert is_valid_mod11(record["atena_number"]) and is_valid_mod11(record["setai_number"])
    assert is_valid_juminhyo_code(record["juminhyo_code"])
    read = registry_client.get(f"/municipalities/{LG}/residents/{record['atena_number']}",
                               headers=bearer(topology, "demo-tax-system")).json()
    assert read["name"]["surname"] == "山田"
    assert read["birth_date"]["text"] == "昭和55年5月1日"
    assert read["relationship"] == {"code": "02", "label": "世帯主"}


def test_my_number_is_served_only_to_roles_allowed_to_read_it(registry_client, topology):
    [record] = admit(registry_client, topology, person(my_number=MY_NUMBER))
    path = f"/municipalities/{LG}/residents/{record['atena_number']}"
    privileged = registry_client.get(path, headers=bearer(topology, "demo-tax-system"))
    ordinary = registry_client.get(path, headers=bearer(topology, "demo-downstream"))
    assert privileged.json()["my_number"] == MY_NUMBER
    assert "my_number" not in ordinary.json()
    assert MY_NUMBER not in ordinary.text
    household = registry_client.get(f"/municipalities/{LG}/households/{record['setai_number']}",
                                    headers=bearer(topology, "demo-downstream"))
    feed = registry_client.get(f"/municipalities/{LG}/changes",
                               headers=bearer(topology, "demo-downstream"))
    assert MY_NUMBER not in household.text and MY_NUMBER not in feed.text


def test_household_lists_members_with_relationship_head_first(registry_client, topology):
    members = admit(registry_client, topology,
                    person("佐藤", "花子", "12", kana=("サトウ", "ハナコ"), sex="2"),
                    person("佐藤", "一郎", "02", kana=("サトウ", "イチロウ")),
                    person("佐藤", "次郎", "20", kana=("サトウ", "ジロウ"),
                           birth={"iso": "2015-04-02"}))
    setai = members[0]["setai_number"]
    household = registry_client.get(f"/municipalities/{LG}/households/{setai}",
                                    headers=bearer(topology, "demo-downstream")).json()
    codes = [m["relationship"]["code"] for m in household["members"]]
    assert codes[0] == "02" and sorted(codes) == ["02", "12", "20"]
    assert household["head_atena_number"] == household["members"][0]["atena_number"]


def test_find_by_juminhyo_code(registry_client, topology):
    [record] = admit(registry_client, topology, person(juminhyo_code="12345678901"))
    found = registry_client.get(f"/municipalities/{LG}/residents",
                                params={"juminhyo_code": "12345678901"},
                                headers=bearer(topology, "demo-downstream"))
    assert found.json()["atena_number"] == record["atena_number"]


HARD_NAMES = [
    ("𠮷田", "ヨシダ"),          # outside the BMP
    ("髙橋", "タカハシ"),        # variant form of 高
    ("山﨑", "ヤマザキ"),        # variant form of 崎
    ("葛\U000E0100城", "カツラギ"),  # ideographic variation sequence
    ("\uFA19田", "カミタ"),       # CJK compatibility ideograph that NFC would rewrite
]


def test_hard_characters_are_kept_exactly(registry_client, topology):
    for surname, kana in HARD_NAMES:
        [record] = admit(registry_client, topology,
                         person(surname, "太郎", kana=(kana, "タロウ")))
        read = registry_client.get(f"/municipalities/{LG}/residents/{record['atena_number']}",
                                   headers=bearer(topology, "demo-downstream")).json()
        assert read["name"]["surname"] == surname
        assert read["name"]["surname"].encode("utf-8") == surname.encode("utf-8")
    assert unicodedata.normalize("NFC", "\uFA19") != "\uFA19"  # the case above is a real trap


def test_uncertain_birth_date_is_accepted_and_flagged(registry_client, topology):
    [record] = admit(registry_client, topology,
                     person(birth={"text": "昭和20年頃", "uncertain": True}))
    assert record["birth_date"]["uncertain"] is True
    assert record["birth_date"]["iso"] is None
    assert record["birth_date"]["text"] == "昭和20年頃"


def test_half_width_kana_is_refused(registry_client, topology):
    response = registry_client.post(f"/municipalities/{LG}/movements",
                                    json=move_in(person(kana=("ﾔﾏﾀﾞ", "ﾀﾛｳ"))),
                                    headers=bearer(topology, "demo-clerk"))
    assert response.status_code == 422


def test_records_survive_a_restart(settings: Settings, topology):
    with TestClient(create_app(settings)) as first:
        [record] = admit(first, topology, person("𠮷田", kana=("ヨシダ", "タロウ")))
    with TestClient(create_app(settings)) as second:
        read = second.get(f"/municipalities/{LG}/residents/{record['atena_number']}",
                          headers=bearer(topology, "demo-clerk"))
    assert read.status_code == 200
    assert read.json()["name"]["surname"] == "𠮷田"
    assert read.json()["version"] == record["version"]
