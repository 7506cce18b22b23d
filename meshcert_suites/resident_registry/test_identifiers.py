"""Identifiers the register issues and keeps: 宛名番号/世帯番号 (modulus 11), the My Number of a
newborn, local government codes, and the 住民票コード carried across a move (docs/domain.md §3,
§6.9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from meshcert import municipalities_only
from meshcert.checks.public_rules import (
    is_valid_local_government_code,
    is_valid_mod11,
    is_valid_my_number,
    local_government_code_check_digit,
    mod11_check_digit,
    my_number_check_digit,
)
from meshcert_suites.resident_registry.builders import (
    examples,
    fresh_id,
    juminhyo_code,
    movement,
    moveout_notice,
    my_number,
    person,
)

MEMBERS = [("02", "一郎", "イチロウ"), ("12", "花子", "ハナコ"), ("20", "健太", "ケンタ"),
           ("20", "陽菜", "ヒナ")]


def family(size: int, surname: str = "鈴木", kana: str = "スズキ") -> list[dict]:
    return [person(surname, given, code, kana=(kana, given_kana), sex="1" if i % 2 == 0 else "2")
            for i, (code, given, given_kana) in enumerate(MEMBERS[:size])]


def check_mod11(number: str, what: str, whose: str) -> None:
    if is_valid_mod11(number):
        return
    body = number[:-1]
    try:
        hint = f"its last digit should be {mod11_check_digit(body)}"
    except ValueError:
        hint = "its first 9 digits are a sequence number that is never issued (remainder 1)"
    raise AssertionError(f"the {what} {number} issued to {whose} fails the modulus-11 check "
                         f"(weights 2–7): {hint}")


# -- ID-ATENA-001 -----------------------------------------------------------------------------


@pytest.mark.requirement("ID-ATENA-001")
@examples(5)
@given(size=st.integers(1, 4))
@example(size=4)
def test_every_issued_atena_and_setai_number_passes_modulus_11(clerk, size):
    people = clerk.admit(*family(size))
    for record in people:
        whose = f"{record['name']['surname']} {record['name']['given_name']}"
        check_mod11(record["atena_number"], "宛名番号", whose)
        check_mod11(record["setai_number"], "世帯番号", whose)


@pytest.mark.requirement("ID-ATENA-001")
def test_a_household_split_and_a_birth_get_numbers_that_pass_modulus_11(clerk):
    people = clerk.admit(*family(3))
    today = clerk.today()
    split = clerk.apply(movement("household-split", on=today - timedelta(days=2),
                                 atena_numbers=[people[2]["atena_number"]],
                                 event_id=fresh_id("split")))
    check_mod11(split["affected"][0]["setai_number"], "世帯番号", "the household split off")
    born = today - timedelta(days=3)
    baby = clerk.apply(movement("birth", on=born, setai_number=people[0]["setai_number"],
                                event_id=fresh_id("birth"),
                                person=person("鈴木", "蓮", "20", kana=("スズキ", "レン"),
                                              birth={"iso": born.isoformat()})))["affected"][0]
    check_mod11(baby["atena_number"], "宛名番号", "a newborn")


# -- ID-MYNUM-001 -----------------------------------------------------------------------------


@pytest.mark.requirement("ID-MYNUM-001")
def test_a_newborn_gets_a_valid_my_number_held_by_no_other_resident(clerk, population):
    parents = clerk.admit(
        person("佐藤", "健", "02", kana=("サトウ", "ケン"), my_number=my_number()),
        person("佐藤", "舞", "12", kana=("サトウ", "マイ"), sex="2", my_number=my_number()))
    born = clerk.today() - timedelta(days=2)
    babies = []
    for name, kana in (("翔", "ショウ"), ("葵", "アオイ")):  # twins: two births, two numbers
        result = clerk.apply(movement(
            "birth", on=born, setai_number=parents[0]["setai_number"], event_id=fresh_id("birth"),
            person=person("佐藤", name, "20", kana=("サトウ", kana),
                          birth={"iso": born.isoformat()})))
        babies.append(result["affected"][0])
    for baby in babies:
        number = baby.get("my_number")
        assert number is not None, (
            f"the birth result for {baby['name']['given_name']} carries no My Number although "
            "the caller may read it")
        assert is_valid_my_number(number), (
            f"the newborn {baby['name']['given_name']} was given the My Number {number}, which "
            f"fails the check digit of the ordinance (its last digit should be "
            f"{my_number_check_digit(number[:11]) if number[:11].isdigit() else '?'})")
    numbers = [b["my_number"] for b in babies]
    assert len(set(numbers)) == 2, f"both twins were given the My Number {numbers[0]}"
    # The seeded residents, and every record written since (the feed carries each).
    holders: dict[str, set[str]] = {}
    for seeded in population:
        holders.setdefault(seeded["my_number"], set()).add(seeded["atena_number"])
    for entry in clerk.changes_after(0):
        record = entry["record"]
        if record.get("my_number"):
            holders.setdefault(record["my_number"], set()).add(record["atena_number"])
    for baby in babies:
        others = holders.get(baby["my_number"], set()) - {baby["atena_number"]}
        assert not others, (f"the newborn's My Number {baby['my_number']} is also held by the "
                            f"resident(s) with 宛名番号 {sorted(others)}")


# -- ID-LGCODE-001 ----------------------------------------------------------------------------

REAL_CODES = [m.code for m in municipalities_only()]


@st.composite
def wrong_check_digit_codes(draw: st.DrawFn) -> str:
    code = draw(st.sampled_from(REAL_CODES))
    shift = draw(st.integers(1, 9))
    return code[:5] + str((int(code[5]) + shift) % 10)


@pytest.mark.requirement("ID-LGCODE-001")
@examples(8)
@given(code=wrong_check_digit_codes())
@example(code="271005")  # 大阪市 is 271004
@example(code="131017")  # 千代田区 is 131016
def test_a_move_out_to_a_code_with_a_wrong_check_digit_is_refused(clerk, applicant, code):
    assert not is_valid_local_government_code(code)
    notice = moveout_notice(applicant, clerk.today(), destination=code)
    response = clerk.file_moveout(notice)
    assert response.status_code == 422, (
        f"a move-out to the local government code {code} (its check digit should be "
        f"{local_government_code_check_digit(code[:5])}) was answered {response.status_code}, "
        f"not refused with 422: {response.text[:400]}")


@pytest.mark.requirement("ID-LGCODE-001")
def test_a_move_out_to_a_valid_code_is_accepted(clerk, applicant):
    notice = moveout_notice(applicant, clerk.today(), destination=clerk.destination())
    response = clerk.file_moveout(notice)
    assert response.status_code in (200, 201, 202), (
        f"a move-out to the valid local government code {clerk.destination()} was refused with "
        f"{response.status_code}: {response.text[:400]}")


# -- ID-JUMIN-001 -----------------------------------------------------------------------------


def code_starting_with(prefix: str) -> str:
    """A fresh 住民票コード (never used by an earlier run) beginning with ``prefix``."""
    while True:
        body = prefix + juminhyo_code()[len(prefix):10]
        try:
            return body + mod11_check_digit(body)
        except ValueError:
            continue  # a body with remainder 1 is never issued


def check_found(clerk, code: str, atena: str) -> None:
    response = clerk.find(code)
    assert response.status_code == 200, (
        f"searching for 住民票コード {code} gave {response.status_code}: {response.text[:400]}")
    found = response.json()
    assert (found["atena_number"], found["juminhyo_code"]) == (atena, code), (
        f"searching for 住民票コード {code} found 宛名番号 {found['atena_number']} with "
        f"住民票コード {found['juminhyo_code']}, not the resident {atena} who moved in with it")


@pytest.mark.requirement("ID-JUMIN-001")
@pytest.mark.parametrize("prefix", ["", "0", "00000", "9"])
def test_a_person_moving_in_keeps_their_juminhyo_code(clerk, prefix):
    code = code_starting_with(prefix)
    [record] = clerk.admit(person("伊藤", "光", "02", kana=("イトウ", "ヒカリ"),
                                  juminhyo_code=code))
    assert record["juminhyo_code"] == code, (
        f"a person moving in with 住民票コード {code} was recorded with {record['juminhyo_code']}")
    check_found(clerk, code, record["atena_number"])


@pytest.mark.requirement("ID-JUMIN-001")
def test_a_person_moving_out_and_back_in_keeps_their_juminhyo_code(clerk):
    code = juminhyo_code()
    today = clerk.today()
    [first] = clerk.admit(person("伊藤", "渚", "02", kana=("イトウ", "ナギサ"), juminhyo_code=code),
                          on=today - timedelta(days=40))
    clerk.apply(movement("move-out", on=today - timedelta(days=30), event_id=fresh_id("out"),
                         atena_numbers=[first["atena_number"]], destination="大阪府大阪市北区",
                         destination_lg_code=clerk.destination()))
    [back] = clerk.admit(person("伊藤", "渚", "02", kana=("イトウ", "ナギサ"), juminhyo_code=code),
                         on=today - timedelta(days=5))
    assert back["juminhyo_code"] == code, (
        f"a person moving back in with 住民票コード {code} was recorded with "
        f"{back['juminhyo_code']}")
    check_found(clerk, code, back["atena_number"])
