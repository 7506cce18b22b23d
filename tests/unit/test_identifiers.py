"""Identifier rules: known published values, and what each check digit provably detects."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshcert_simulators.common.identifiers import (
    corporate_number_check_digit,
    find_my_numbers,
    generate_atena_number,
    generate_juminhyo_code,
    generate_my_number,
    generate_setai_number,
    integrated_atena_number,
    is_issuable_mod11_body,
    is_valid_corporate_number,
    is_valid_juminhyo_code,
    is_valid_local_government_code,
    is_valid_mod11,
    is_valid_my_number,
    local_government_code_check_digit,
    mod11_check_digit,
    my_number_check_digit,
)

seeds = st.integers(min_value=0, max_value=2**32 - 1)
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def substitute(number: str, position: int, digit: str) -> str:
    return number[:position] + digit + number[position + 1 :]


# --- My Number -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first11", "check"),
    [
        # From the right the weights are 2,3,4,5,6,7,2,3,4,5,6 (Q_n = n-5 for n >= 7):
        # 1*2+0*3+9*4+8*5+7*6+6*7+5*2+4*3+3*4+2*5+1*6 = 212; 212 mod 11 = 3; 11-3 = 8.
        ("12345678901", "8"),
        ("10000000000", "5"),  # leftmost digit weight 6: r = 6 -> 5 (weight 5 would give 6)
        ("00000000001", "9"),  # r = 2 -> 9
        ("00000000000", "0"),  # r = 0 -> 0
        ("00000000006", "0"),  # 6*2 = 12, r = 1 -> 0
    ],
)
def test_my_number_check_digit_known_values(first11: str, check: str) -> None:
    assert my_number_check_digit(first11) == check


def test_my_number_widely_cited_example() -> None:
    assert is_valid_my_number("123456789018")
    assert not is_valid_my_number("123456789010")


@pytest.mark.parametrize(
    "bad",
    [
        "1234567890",
        "123456789012",
        "１２３４５６７８９０１",
        "٠١٢٣٤٥٦٧٨٩٠",
        "1234567890a",
        " 2345678901",
        "",
    ],
)
def test_my_number_check_digit_rejects_wrong_shape(bad: str) -> None:
    with pytest.raises(ValueError, match="11 ASCII digits"):
        my_number_check_digit(bad)


@pytest.mark.parametrize(
    "bad",
    [
        "１２３４５６７８９０１８",
        "1234 5678 9018",
        "12345678901",
        "1234567890180",
        "",
        None,
        123456789018,
    ],
)
def test_my_number_validator_rejects_wrong_shape_without_raising(bad: object) -> None:
    assert is_valid_my_number(bad) is False  # type: ignore[arg-type]


@given(seeds)
def test_generated_my_numbers_are_valid(seed: int) -> None:
    number = generate_my_number(random.Random(seed))
    assert len(number) == 12 and number.isascii() and number.isdigit()
    assert is_valid_my_number(number)


@given(seeds)
def test_generate_my_number_is_reproducible(seed: int) -> None:
    assert generate_my_number(random.Random(seed)) == generate_my_number(random.Random(seed))


@given(seeds, st.integers(0, 11), st.integers(1, 9))
def test_my_number_single_digit_change(seed: int, position: int, shift: int) -> None:
    # Every weight is 1..7, prime to 11, so a change always moves r; but r = 0 and r = 1 share
    # the check digit 0. So: a change of the check digit is always caught, and a change of a
    # body digit can only go unnoticed when the check digit is 0.
    number = generate_my_number(random.Random(seed))
    changed = substitute(number, position, str((int(number[position]) + shift) % 10))
    if position == 11 or number[11] != "0":
        assert not is_valid_my_number(changed)


def test_my_number_blind_spot_is_the_documented_one() -> None:
    # r = 0 (all zeros) and r = 1 (last body digit 6) both give 0: one substitution, not seen.
    assert is_valid_my_number("000000000000")
    assert is_valid_my_number("000000000060")


# --- find_my_numbers -------------------------------------------------------------------------


def test_find_my_numbers_finds_exact_12_digit_runs_only() -> None:
    text = (
        '{"a": "123456789018", "b": "x123456789018y", "c": "1234567890180",'
        ' "d": "0123456789018", "e": "123456789010", "f": "１２３４５６７８９０１８",'
        ' "g": "1234-5678-9018", "h": 123456789018}'
    )
    assert find_my_numbers(text) == ["123456789018", "123456789018", "123456789018"]


def test_find_my_numbers_on_empty_or_clean_text() -> None:
    assert find_my_numbers("") == []
    assert find_my_numbers("宛名番号 0000000019, 法人番号 7000012050002") == []


@given(seeds, st.text(alphabet='abc -:{}"あ', max_size=5), st.text(alphabet='abc -:"', max_size=5))
def test_find_my_numbers_finds_any_embedded_number(seed: int, before: str, after: str) -> None:
    number = generate_my_number(random.Random(seed))
    assert find_my_numbers(before + number + after) == [number]


@given(seeds)
def test_find_my_numbers_ignores_longer_digit_runs(seed: int) -> None:
    number = generate_my_number(random.Random(seed))
    assert find_my_numbers("7" + number) == []
    assert find_my_numbers(number + "7") == []


# --- corporate number ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "7000012050002",  # 国税庁 (National Tax Agency)
        "3010001088782",
        "1180301018771",  # トヨタ自動車株式会社
    ],
)
def test_published_corporate_numbers_are_valid(number: str) -> None:
    assert is_valid_corporate_number(number)
    assert corporate_number_check_digit(number[1:]) == number[0]


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("000000000001", "8"),  # rightmost body digit has weight 1: 9 - 1
        ("000000000010", "7"),  # next has weight 2: 9 - 2
        ("000000000000", "9"),  # sum 0 -> 9: the check digit is never 0
        ("000000000009", "9"),  # 9 mod 9 = 0 -> 9
    ],
)
def test_corporate_check_digit_known_values(body: str, check: str) -> None:
    assert corporate_number_check_digit(body) == check


@pytest.mark.parametrize("bad", ["00001205000", "0000120500021", "０００００１２０５０００２"])
def test_corporate_check_digit_rejects_wrong_shape(bad: str) -> None:
    with pytest.raises(ValueError, match="12 ASCII digits"):
        corporate_number_check_digit(bad)


def test_corporate_number_check_digit_comes_first() -> None:
    assert not is_valid_corporate_number("0000120500027")  # check digit moved to the end
    assert not is_valid_corporate_number("700001205000")


@given(digits(12), st.integers(0, 11), st.integers(1, 9))
def test_corporate_single_digit_change(body: str, position: int, shift: int) -> None:
    # Weights 1 and 2 are prime to 9: a body change is missed exactly when it is 0 <-> 9.
    number = corporate_number_check_digit(body) + body
    index = position + 1
    old = int(number[index])
    new = (old + shift) % 10
    changed = substitute(number, index, str(new))
    assert is_valid_corporate_number(changed) == (abs(old - new) == 9)


@given(digits(12), st.integers(1, 9))
def test_corporate_check_digit_change_is_always_caught(body: str, shift: int) -> None:
    number = corporate_number_check_digit(body) + body
    assert not is_valid_corporate_number(str((int(number[0]) + shift) % 10) + body)


# --- modulus 11: 宛名番号 / 世帯番号 / 住民票コード ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("000000000", "0"),  # r = 0 -> 0
        ("000000001", "9"),  # weight 2: r = 2 -> 9
        ("000000010", "8"),  # weight 3: r = 3 -> 8
        ("000100000", "4"),  # 6th from the right, weight 7: r = 7 -> 4
        ("001000000", "9"),  # 7th from the right: weights restart at 2 -> 9
        # 9*2+8*3+7*4+6*5+5*6+4*7+3*2+2*3+1*4 = 174; 174 mod 11 = 9; 11 - 9 = 2
        ("123456789", "2"),
    ],
)
def test_mod11_check_digit_known_values(body: str, check: str) -> None:
    assert mod11_check_digit(body) == check
    assert is_valid_mod11(body + check)


@pytest.mark.parametrize("body", ["000000006", "6", "000000040"])  # 6*2 = 4*3 = 12: r = 1
def test_mod11_remainder_one_is_not_issued(body: str) -> None:
    assert not is_issuable_mod11_body(body)
    with pytest.raises(ValueError, match="not issued"):
        mod11_check_digit(body)
    assert not any(is_valid_mod11(body + d) for d in "0123456789")


@pytest.mark.parametrize("bad", ["", "12a", "１２３", "12 3"])
def test_mod11_check_digit_rejects_non_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="ASCII digits"):
        mod11_check_digit(bad)


@pytest.mark.parametrize("bad", ["", "0", "１２３４５６７８９２", "123456789-2", None])
def test_is_valid_mod11_rejects_wrong_shape(bad: object) -> None:
    assert is_valid_mod11(bad) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("generate", [generate_atena_number, generate_setai_number])
@given(seed=seeds)
def test_generated_atena_and_setai_numbers(generate, seed: int) -> None:  # type: ignore[no-untyped-def]
    number = generate(random.Random(seed))
    assert len(number) == 10 and number.isascii() and number.isdigit()
    assert is_valid_mod11(number)


@pytest.mark.parametrize("generate", [generate_atena_number, generate_setai_number])
def test_generate_from_sequence_number(generate) -> None:  # type: ignore[no-untyped-def]
    assert generate(random.Random(0), 1) == "0000000019"
    assert generate(random.Random(99), 123456789) == "1234567892"
    with pytest.raises(ValueError, match="not issued"):
        generate(random.Random(0), 6)  # remainder 1: a sequential issuer skips it
    for bad in (-1, 10**9, True):
        with pytest.raises(ValueError, match="sequence"):
            generate(random.Random(0), bad)


@given(seeds, st.integers(0, 9), st.integers(1, 9))
def test_mod11_catches_every_single_digit_change(seed: int, position: int, shift: int) -> None:
    # Weights 1..7 (the check digit counts with weight 1) are prime to 11 and remainder-1 bodies
    # are never issued, so every substitution is caught — including in the check digit.
    number = generate_atena_number(random.Random(seed))
    changed = substitute(number, position, str((int(number[position]) + shift) % 10))
    assert not is_valid_mod11(changed)


@given(seeds, st.integers(0, 8))
def test_mod11_catches_every_adjacent_transposition(seed: int, position: int) -> None:
    # Neighbouring weights (1,2,...,7,2,3,...) differ by 1 or 5, never by a multiple of 11.
    number = generate_atena_number(random.Random(seed))
    a, b = number[position], number[position + 1]
    swapped = number[:position] + b + a + number[position + 2 :]
    assert is_valid_mod11(swapped) == (a == b)


@given(seeds)
def test_generated_juminhyo_codes(seed: int) -> None:
    code = generate_juminhyo_code(random.Random(seed))
    assert len(code) == 11 and code.isascii() and code.isdigit()
    assert is_valid_juminhyo_code(code)
    assert not is_valid_juminhyo_code(code[:-1] + str((int(code[-1]) + 1) % 10))


def test_juminhyo_code_needs_eleven_digits() -> None:
    assert is_valid_mod11("0000000019") and not is_valid_juminhyo_code("0000000019")
    assert is_valid_juminhyo_code("00000000019")
    assert not is_valid_juminhyo_code("０００００００００１９")


# --- local government code -------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "131016",  # 千代田区
        "011002",  # 札幌市
        "271004",  # 大阪市
        "130001",  # 東京都
        "010006",  # 北海道
        "012025",  # 函館市
        "012131",  # 苫小牧市: r = 0 -> 1
        "012050",  # 室蘭市: r = 1 -> 0
        "012041",  # 旭川市: r = 10 -> 1
    ],
)
def test_real_local_government_codes_are_valid(code: str) -> None:
    assert local_government_code_check_digit(code[:5]) == code[5]
    assert is_valid_local_government_code(code)
    for wrong in "0123456789".replace(code[5], ""):
        assert not is_valid_local_government_code(code[:5] + wrong)


@pytest.mark.parametrize("bad", ["13101", "1310166", "１３１０１６", "13101a", "", None])
def test_local_government_code_rejects_wrong_shape(bad: object) -> None:
    assert is_valid_local_government_code(bad) is False  # type: ignore[arg-type]


@given(digits(5), st.integers(0, 4), st.integers(1, 9))
def test_local_government_code_single_digit_change(body: str, position: int, shift: int) -> None:
    # Weights 6..2 are prime to 11, so r always moves; r = 0 and r = 10 share the check digit 1.
    code = body + local_government_code_check_digit(body)
    changed = substitute(code, position, str((int(code[position]) + shift) % 10))
    if is_valid_local_government_code(changed):
        assert code[5] == "1"


# --- 団体内統合宛名番号 ------------------------------------------------------------------------


def test_integrated_atena_number_is_15_digits() -> None:
    assert integrated_atena_number(0) == "000000000000000"
    assert integrated_atena_number(42) == "000000000000042"
    assert integrated_atena_number(10**15 - 1) == "999999999999999"


@pytest.mark.parametrize("bad", [-1, 10**15, True, 1.0, "1"])
def test_integrated_atena_number_rejects_out_of_range(bad: object) -> None:
    with pytest.raises(ValueError, match="int in 0"):
        integrated_atena_number(bad)  # type: ignore[arg-type]


def test_full_width_digits_are_refused_everywhere() -> None:
    assert not is_valid_my_number("123456789018".translate(FULL_WIDTH))
    assert not is_valid_corporate_number("7000012050002".translate(FULL_WIDTH))
    assert not is_valid_local_government_code("131016".translate(FULL_WIDTH))
    assert not is_valid_mod11("1234567892".translate(FULL_WIDTH))
