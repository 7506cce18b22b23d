"""DOWN-TEXT-001: names, kana and addresses byte for byte — characters outside the BMP,
ideographic variation sequences, compatibility ideographs (which NFC/NFKC rewrite), long foreign
names — and 不詳日 exactly as given (text, flag, bounds). The names come from the harness's
hard-character corpus (fixtures/population/hard_characters.yaml), one household per group."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from meshcert import fixture_path
from meshcert_suites.downstream_system.conftest import Town
from meshcert_suites.downstream_system.registry_side import Registry, address
from meshcert_suites.downstream_system.system_side import READ, System, json_of

FUSHOU = ("昭和50年頃", "昭和50年3月上旬", "平成3年2月29日", "明治45年7月30日", "不詳", "令和3年",
          "昭和20年月日不詳")
PLAIN_GIVEN = ("一郎", "イチロウ", "1")
BUILDINGS = ("髙﨑ハイツ\uFA10館101", "𠮷田コーポ葛\U000E0100西202")
MAX_MOVE_IN = 20


def hard_households() -> list[list[dict[str, Any]]]:
    """One household per group of the corpus: its surnames, each with one of its given
    names (read as the file has them: never normalised)."""
    corpus = yaml.safe_load(fixture_path("population", "hard_characters.yaml")
                            .read_text(encoding="utf-8"))
    households = []
    dates = iter(FUSHOU * 20)
    for group in corpus["groups"].values():
        persons = []
        given_names = group.get("given_names") or []
        for i, surname in enumerate(group["surnames"][:MAX_MOVE_IN]):
            given = given_names[i % len(given_names)] if given_names else None
            given_name, given_kana, sex = ((given["name"], given["kana"], given.get("sex", "1"))
                                           if given else PLAIN_GIVEN)
            persons.append({"name": {"surname": surname["name"], "given_name": given_name,
                                     "surname_kana": surname["kana"],
                                     "given_name_kana": given_kana},
                            "sex": sex, "birth_date": {"text": next(dates)},
                            "relationship": "02" if i == 0 else "60"})
        households.append(persons)
    return households


def utf8(value: Any) -> Any:
    """Every text of a JSON value as its UTF-8 bytes (a difference in one code point shows)."""
    if isinstance(value, dict):
        return {k: utf8(v) for k, v in value.items() if v is not None}
    if isinstance(value, str):
        return value.encode("utf-8")
    return value


@pytest.fixture(scope="module")
def hard_persons(registry: Registry, town: Town) -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []
    for n, persons in enumerate(hard_households()):
        place = {**address(town.next(), registry.lg_code), "building": BUILDINGS[n % 2]}
        records = registry.move({"kind": "move-in", "persons": persons, "address": place})
        town.note(records)
        made += records
    return made


@pytest.mark.requirement("DOWN-TEXT-001")
def test_hard_names_kana_and_addresses_are_kept_byte_for_byte(
        system: System, registry: Registry, hard_persons: list[dict[str, Any]]):
    system.catch_up(registry.read_feed())
    for record in hard_persons:
        atena = record["atena_number"]
        view = json_of(system.view(atena, READ), f"the view of {atena}")
        held_name = {k: record["name"][k] for k in ("surname", "given_name", "surname_kana",
                                                     "given_name_kana")}
        assert utf8(view.get("name")) == utf8(held_name), (
            f"{atena}: the system shows the name {view.get('name')!r}, the registry holds "
            f"{held_name!r} (compared as UTF-8 bytes)")
        assert utf8(view.get("address")) == utf8(record["address"]), (
            f"{atena}: the system shows the address {view.get('address')!r}, the registry "
            f"holds {record['address']!r} (compared as UTF-8 bytes)")


@pytest.mark.requirement("DOWN-TEXT-001")
def test_fushou_birth_dates_are_kept_as_given(system: System, registry: Registry,
                                             hard_persons: list[dict[str, Any]]):
    system.catch_up(registry.read_feed())
    for record in hard_persons:
        atena = record["atena_number"]
        held = {k: v for k, v in record["birth_date"].items() if v is not None}
        view = json_of(system.view(atena, READ), f"the view of {atena}")
        shown = {k: v for k, v in (view.get("birth_date") or {}).items() if v is not None}
        assert shown == held, (f"{atena}: the system shows the birth date {shown!r}, the "
                               f"registry holds {held!r} (a 不詳日 keeps its text, flag and "
                               "bounds)")
