"""The My Number reaches only callers allowed to read it: not in a resident record, a household,
the difference feed or a movement result for anyone else (番号法 第19条; DOMAIN.md §6.1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from simulators.common.identifiers import find_my_numbers
from suites.resident_registry.builders import arrival, fresh_id, movement, my_number, person

READ = "registry:read"
MYNUMBER = "registry:read-mynumber"


def leaks(text: str, known: set[str]) -> list[str]:
    """The My Numbers of ``known`` that appear in ``text`` (as 12-digit runs)."""
    return sorted(set(find_my_numbers(text)) & known)


def no_my_number(records: list[dict[str, Any]], text: str, known: set[str], where: str) -> None:
    carrying = [r["atena_number"] for r in records if "my_number" in r]
    assert not carrying, (
        f"{where} carries the field my_number for 宛名番号 {carrying[:10]} to a caller without "
        f"the scope {MYNUMBER}")
    found = leaks(text, known)
    assert not found, (
        f"{where} carries the My Number(s) {found[:5]} to a caller without the scope {MYNUMBER}")


def refused(what: str, response: Any) -> str:
    return (f"{what} with the scope {READ} only was answered {response.status_code}: "
            f"{response.text[:400]}")


@pytest.fixture
def reader(client_with):
    """A downstream system that may read residents but not their My Numbers."""
    return client_with(READ)


@pytest.fixture
def known(population) -> set[str]:
    return {r["my_number"] for r in population}


# -- PRIV-MYNUM-001 ---------------------------------------------------------------------------


@pytest.mark.requirement("PRIV-MYNUM-001")
def test_a_resident_record_has_no_my_number_for_a_caller_without_the_scope(clerk, reader,
                                                                           population, known):
    for seeded in population[:3]:
        response = reader.get(f"{clerk.base}/residents/{seeded['atena_number']}")
        assert response.status_code == 200, refused("reading a resident", response)
        no_my_number([response.json()], response.text, known,
                     f"the resident record {seeded['atena_number']}")
        found = reader.get(f"{clerk.base}/residents",
                           params={"juminhyo_code": seeded["juminhyo_code"]})
        assert found.status_code == 200, refused("searching by 住民票コード", found)
        no_my_number([found.json()], found.text, known,
                     f"the search by 住民票コード {seeded['juminhyo_code']}")


@pytest.mark.requirement("PRIV-MYNUM-001")
def test_a_caller_with_the_scope_reads_the_residents_my_number(clerk, client_with, population):
    tax = client_with(READ, MYNUMBER)
    seeded = population[0]
    record = clerk.read(seeded["atena_number"], client=tax)
    assert record.get("my_number") == seeded["my_number"], (
        f"a caller with {MYNUMBER} read the resident {seeded['atena_number']} with My Number "
        f"{record.get('my_number')!r}, not the seeded {seeded['my_number']}")


# -- PRIV-MYNUM-002 ---------------------------------------------------------------------------


@pytest.mark.requirement("PRIV-MYNUM-002")
def test_a_household_has_no_my_number_for_a_caller_without_the_scope(clerk, reader, population,
                                                                     known):
    for setai in sorted({r["setai_number"] for r in population})[:3]:
        response = reader.get(f"{clerk.base}/households/{setai}")
        assert response.status_code == 200, refused("reading a household", response)
        no_my_number(response.json()["members"], response.text, known,
                     f"the household {setai}")


@pytest.mark.requirement("PRIV-MYNUM-002")
def test_the_feed_has_no_my_number_for_a_caller_without_the_scope(clerk, reader, known):
    start = clerk.end()
    numbers = {my_number(), my_number()}
    first, second = sorted(numbers)
    clerk.admit(person("木村", "拓", "02", kana=("キムラ", "タク"), my_number=first),
                person("木村", "静", "12", kana=("キムラ", "シズカ"), sex="2", my_number=second))
    for after, limit in ((0, 250), (start, 100)):  # the seeded records, and the new ones
        response = reader.get(f"{clerk.base}/changes", params={"after": after, "limit": limit})
        assert response.status_code == 200, refused("reading the feed", response)
        no_my_number([e["record"] for e in response.json()["entries"]], response.text,
                     known | numbers, f"the difference feed after {after}")


@pytest.mark.requirement("PRIV-MYNUM-002")
def test_a_movement_result_has_no_my_number_for_a_caller_without_the_scope(clerk, client_with):
    writer = client_with(READ, "registry:write")
    numbers = {my_number(), my_number()}
    first, second = sorted(numbers)
    today = clerk.today()
    body = arrival(clerk.lg, person("林", "修", "02", kana=("ハヤシ", "オサム"), my_number=first),
                   person("林", "恵", "12", kana=("ハヤシ", "メグミ"), sex="2", my_number=second),
                   on=today - timedelta(days=9))
    response = writer.post(f"{clerk.base}/movements", json=body)
    assert response.status_code in (200, 201), refused("a move-in", response)
    arrived = response.json()["affected"]
    no_my_number(arrived, response.text, numbers, "the move-in result")
    born = today - timedelta(days=3)
    birth = writer.post(f"{clerk.base}/movements", json=movement(
        "birth", on=born, event_id=fresh_id("birth"), setai_number=arrived[0]["setai_number"],
        person=person("林", "歩", "20", kana=("ハヤシ", "アユム"),
                      birth={"iso": born.isoformat()})))
    assert birth.status_code in (200, 201), refused("a birth", birth)
    [baby] = birth.json()["affected"]
    issued = clerk.read(baby["atena_number"]).get("my_number")  # as the clerk may see it
    no_my_number([baby], birth.text, {issued} if issued else set(), "the birth result")
