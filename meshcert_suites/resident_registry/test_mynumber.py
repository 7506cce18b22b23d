"""The My Number reaches only callers allowed to read it: not in a resident record, a household,
the difference feed or a movement result for anyone else (番号法 第19条;
docs/domain.md#invariant-1).

Each answer such a caller gets is scanned whole — every header, every string and number of the
body at any depth, the problem details of a refusal — by the shared detector
(meshcert/checks/identifiers.py): any 12-digit number passing the check digit in any usual
form, and the My Numbers the harness seeded in every form, split across fields included."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from meshcert.checks import ensure_no_identifiers
from meshcert_suites.resident_registry.builders import (
    arrival,
    fresh_id,
    movement,
    my_number,
    person,
)

READ = "registry:read"
MYNUMBER = "registry:read-mynumber"


def no_my_number_field(records: list[dict[str, Any]], where: str) -> None:
    """The records carry no field my_number (even an empty one)."""
    carrying = [r["atena_number"] for r in records if "my_number" in r]
    assert not carrying, (
        f"{where} carries the field my_number for 宛名番号 {carrying[:10]} to a caller without "
        f"the scope {MYNUMBER}")


def scanned(response: Any, known: set[str], where: str) -> None:
    """No My Number — any, or one of ``known`` in any form — in ``response``'s headers or
    body (a refusal's problem details included). Checked before the status, so that a
    refusal naming a My Number is reported as the leak it is."""
    ensure_no_identifiers(response, my_numbers=sorted(known),
                          what=f"{where} (answered {response.status_code} to a caller "
                               f"without the scope {MYNUMBER})")


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
        scanned(response, known, f"the resident record {seeded['atena_number']}")
        assert response.status_code == 200, refused("reading a resident", response)
        no_my_number_field([response.json()], f"the resident record {seeded['atena_number']}")
        found = reader.get(f"{clerk.base}/residents",
                           params={"juminhyo_code": seeded["juminhyo_code"]})
        scanned(found, known, f"the search by 住民票コード {seeded['juminhyo_code']}")
        assert found.status_code == 200, refused("searching by 住民票コード", found)
        no_my_number_field([found.json()], f"the search by 住民票コード {seeded['juminhyo_code']}")
    # Refusals too: whatever a not-found answer's problem details say, no My Number.
    for path, params in (("residents/0000000000", None),
                         ("residents", {"juminhyo_code": "00000000000"})):
        scanned(reader.get(f"{clerk.base}/{path}", params=params), known,
                f"the answer to GET {path} {params or ''} (nobody by that number)")


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
        scanned(response, known, f"the household {setai}")
        assert response.status_code == 200, refused("reading a household", response)
        no_my_number_field(response.json()["members"], f"the household {setai}")


@pytest.mark.requirement("PRIV-MYNUM-002")
def test_the_feed_has_no_my_number_for_a_caller_without_the_scope(clerk, reader, known):
    start = clerk.end()
    numbers = {my_number(), my_number()}
    first, second = sorted(numbers)
    clerk.admit(person("木村", "拓", "02", kana=("キムラ", "タク"), my_number=first),
                person("木村", "静", "12", kana=("キムラ", "シズカ"), sex="2", my_number=second))
    for after, limit in ((0, 250), (start, 100)):  # the seeded records, and the new ones
        response = reader.get(f"{clerk.base}/changes", params={"after": after, "limit": limit})
        scanned(response, known | numbers, f"the difference feed after {after}")
        assert response.status_code == 200, refused("reading the feed", response)
        no_my_number_field([e["record"] for e in response.json()["entries"]],
                           f"the difference feed after {after}")


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
    scanned(response, numbers, "the move-in result")
    assert response.status_code in (200, 201), refused("a move-in", response)
    arrived = response.json()["affected"]
    no_my_number_field(arrived, "the move-in result")
    born = today - timedelta(days=3)
    birth = writer.post(f"{clerk.base}/movements", json=movement(
        "birth", on=born, event_id=fresh_id("birth"), setai_number=arrived[0]["setai_number"],
        person=person("林", "歩", "20", kana=("ハヤシ", "アユム"),
                      birth={"iso": born.isoformat()})))
    assert birth.status_code in (200, 201), refused("a birth", birth)
    [baby] = birth.json()["affected"]
    no_my_number_field([baby], "the birth result")
    issued = clerk.read(baby["atena_number"]).get("my_number")  # as the clerk may see it
    scanned(birth, numbers | ({issued} if issued else set()), "the birth result")
