"""The identifier detector (meshcert.checks): a My Number, a 住民票コード or another
institution's 符号 is found in every form and at every place it can cross; benign data is not."""

from __future__ import annotations

import random
import re
import string
import unicodedata
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from meshcert.checks import Leak, ensure_no_identifiers, exchange_parts, find_identifiers
from meshcert_simulators.common.identifiers import (
    generate_juminhyo_code,
    generate_my_number,
    integrated_atena_number,
    my_number_check_digit,
)

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
# Separators of the 4-4-4 form an unknown My Number is recognised in (uniform in one value).
GROUP_SEPARATORS = [" ", "-", "－", "‐", "‑", "–", "—", "−", "ー", "ｰ", ".", "．", "・", "/",
                    "_", ":", "\u3000", " - ", "  "]
# Anything may stand between the digits of a KNOWN value: these, commas, brackets, newlines.
ANY_SEPARATORS = [*GROUP_SEPARATORS, ",", ", ", "、", "(", ")", "\n", "\t", "|", "*", "#"]
INVISIBLE = ["\u200b", "\u00ad", "\ufeff", "\u2060"]
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def with_check_digit(body: int) -> str:
    first11 = f"{body:011d}"
    return first11 + my_number_check_digit(first11)


my_numbers = st.integers(0, 10**11 - 1).map(with_check_digit)
juminhyo_codes = st.integers(0, 2**32 - 1).map(
    lambda seed: generate_juminhyo_code(random.Random(seed)))
codes = st.text(alphabet=BASE32, min_size=32, max_size=32)


def no_digit(ch: str) -> bool:
    """True when ``ch`` has no digit in any form (also after NFKC: ① is 1)."""
    return not any(unicodedata.decimal(c, None) is not None
                   for c in unicodedata.normalize("NFKC", ch))


# Text around a value: letters, kana, kanji, punctuation, spaces, separators; never a digit.
surrounding = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)).filter(no_digit), max_size=12)
keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
header_text = st.text(alphabet=string.ascii_letters + ":;=/,", max_size=10)


@st.composite
def digit_widths(draw: Any, digits: str) -> str:
    """``digits`` with each digit ASCII or full-width, at random."""
    return "".join(d.translate(FULL_WIDTH) if draw(st.booleans()) else d for d in digits)


@st.composite
def grouped(draw: Any, number: str) -> str:
    """An unknown My Number as a vendor could write it: plain or 4-4-4 with one separator,
    digits of either width, invisible characters anywhere."""
    text = draw(digit_widths(number))
    if draw(st.booleans()):
        sep = draw(st.sampled_from(GROUP_SEPARATORS))
        text = sep.join((text[:4], text[4:8], text[8:]))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(INVISIBLE)) + text[at:]
    return text


@st.composite
def spaced(draw: Any, value: str) -> str:
    """A KNOWN value with any separators (mixed, or none) between any characters, digits of
    either width, letters in either case."""
    out = []
    for n, ch in enumerate(value):
        if n and draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(ANY_SEPARATORS + INVISIBLE)))
        ch = ch.translate(FULL_WIDTH) if draw(st.booleans()) else ch
        out.append(ch.lower() if draw(st.booleans()) else ch)
    return "".join(out)


# A benign document to hide a value in: nested objects and arrays of text without digits.
benign_trees = st.recursive(
    st.none() | st.booleans() | surrounding,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(keys, children, max_size=3),
    max_leaves=8)


@st.composite
def placed(draw: Any, text: str, number: int | None = None) -> tuple[Any, str]:
    """(document, where): ``text`` (or the JSON number ``number``) put at a random depth of a
    benign document, as a value or, for text, as a key; ``where`` as the detector names it."""
    value: Any = number if number is not None else text
    as_key = number is None and draw(st.booleans())
    path: list[str | int] = []
    depth = draw(st.integers(0, 3))
    for _ in range(depth):
        path.append(draw(keys) if draw(st.booleans()) else draw(st.integers(0, 2)))
    leaf_key = draw(keys)
    holder: dict[str, Any] = {text: draw(benign_trees)} if as_key else {leaf_key: value}
    doc: Any = holder
    for step in reversed(path):
        if isinstance(step, int):
            siblings = draw(st.lists(benign_trees, min_size=step, max_size=step))
            doc = [*siblings, doc]
        else:
            others = draw(st.dictionaries(keys, benign_trees, max_size=2))
            others.pop(step, None)
            doc = {**others, step: doc}
    where = "$"
    for step in path:  # a placed value follows ``step`` siblings in an array
        where += f"[{step}]" if isinstance(step, int) else f".{step}"
    where += f".{text} (key)" if as_key else f".{leaf_key}"
    return doc, where


def looks_like_hex_id(text: str) -> bool:
    """Whether ``text`` holds a run of 16 or more hexadecimal characters once normalised."""
    return re.search(r"[0-9a-fA-F]{16,}", unicodedata.normalize("NFKC", text)) is not None


def found(leaks: list[Leak], kind: str, value: str) -> list[Leak]:
    return [leak for leak in leaks if leak.kind == kind and leak.value == value]


# -- any My Number, known or not ---------------------------------------------------------------


@given(data=st.data(), number=my_numbers, before=surrounding, after=surrounding)
def test_an_unknown_my_number_is_found_in_any_form_at_any_place(data, number, before, after):
    text = before + data.draw(grouped(number)) + after
    assume(not looks_like_hex_id(text))  # the one documented exception, tested below
    doc, where = data.draw(placed(text))
    leaks = find_identifiers(doc)
    assert any(leak.where == where for leak in found(leaks, "my-number", number)), (
        f"{text!r} at {where} not found in {doc!r}: {leaks}")


@given(data=st.data(), number=st.integers(10**10, 10**11 - 1).map(with_check_digit))
def test_a_my_number_as_a_json_number_is_found(data, number):
    # (A leading zero cannot be written in a JSON number: such a value is 11 digits or fewer.)
    doc, where = data.draw(placed("", number=int(number)))
    assert [leak.where for leak in found(find_identifiers(doc), "my-number", number)] == [where]


@given(number=my_numbers, name=st.sampled_from(["x-note", "x-request-id", "link"]),
       before=header_text, after=header_text, sep=st.sampled_from(["", " ", "-", ".", "_"]))
def test_a_my_number_in_any_header_of_a_response_is_found(number, name, before, after, sep):
    value = before + sep.join((number[:4], number[4:8], number[8:])) + after
    assume(not looks_like_hex_id(value))
    response = httpx.Response(200, headers={name: value}, json={"ok": True})
    leaks = find_identifiers(response)
    assert [leak.where for leak in found(leaks, "my-number", number)] == [f"header:{name}"]


@given(number=my_numbers, field=keys, status=st.sampled_from([400, 404, 409, 422, 500]))
def test_a_my_number_in_the_problem_details_is_found(number, field, status):
    response = httpx.Response(status, headers={"content-type": "application/problem+json"},
                              json={"type": "about:blank", "title": "refused", "status": status,
                                    field: f"番号 {number} は登録されていません"})
    assert [leak.where for leak in found(find_identifiers(response), "my-number", number)] == [
        f"body.{field}"]


@given(number=my_numbers, before=surrounding, after=surrounding)
def test_a_my_number_in_a_text_body_is_found(number, before, after):
    assume(not looks_like_hex_id(f"{before}{number}{after}"))
    response = httpx.Response(500, text=f"{before}{number}{after}")
    assert [leak.where for leak in found(find_identifiers(response), "my-number", number)] == [
        "body"]


def test_a_my_number_in_a_request_url_or_header_is_found():
    number = with_check_digit(12345678901)
    request = httpx.Request("POST", f"https://x/v1/persons/{number[:6]}%2D{number[6:]}?q=1",
                            headers={"x-applicant": f"{number[:4]} {number[4:8]} {number[8:]}"},
                            json={"code": "A" * 32})
    # Only the percent-decoded URL and the header carry it; "%2D" splits 6-6 (not 4-4-4),
    # which counts for a known value only.
    leaks = find_identifiers(request, my_numbers=[number])
    assert {leak.where for leak in leaks} == {"url", "header:x-applicant"}


# -- known values: any separators, embedded anywhere, split across fields ---------------------


@pytest.mark.parametrize("kind", ["my-number", "juminhyo-code", "code"])
@given(data=st.data(), before=st.text(max_size=8), after=st.text(max_size=8))
def test_a_known_value_is_found_with_any_separators_embedded_anywhere(kind, data, before,
                                                                     after):
    value = data.draw({"my-number": my_numbers, "juminhyo-code": juminhyo_codes,
                       "code": codes}[kind])
    text = before + data.draw(spaced(value)) + after
    doc, where = data.draw(placed(text))
    leaks = find_identifiers(doc, **{kind.replace("-", "_") + "s": [value]})
    assert any(where in leak.where for leak in found(leaks, kind, value)), (
        f"{kind} {value} written {text!r} at {where}: {leaks}")


@given(data=st.data(), value=my_numbers | juminhyo_codes)
def test_a_known_value_split_over_neighbouring_fields_is_found(data, value):
    cuts = sorted(data.draw(st.sets(st.integers(1, len(value) - 1), min_size=1, max_size=4)))
    pieces = [value[a:b] for a, b in zip([0, *cuts], [*cuts, len(value)], strict=True)]
    names = data.draw(st.lists(keys.filter(lambda k: k not in ("before", "after")),
                               min_size=len(pieces), max_size=len(pieces), unique=True))
    doc = {"before": "申請", **{name: data.draw(spaced(piece)) if len(piece) > 1 else piece
                               for name, piece in zip(names, pieces, strict=True)},
           "after": "以上"}
    leaks = find_identifiers({"applicant": doc}, my_numbers=[value], juminhyo_codes=[value])
    expected = " + ".join(f"$.applicant.{name}" for name in names)
    assert expected in {leak.where for leak in leaks}, f"{doc}: {leaks}"


@given(data=st.data(), value=my_numbers)
def test_a_known_value_split_in_any_order_within_one_object_is_found(data, value):
    cut = data.draw(st.sampled_from([(4, 8), (6,), (4,), (5,), (8,)]))
    pieces = [value[a:b] for a, b in zip([0, *cut], [*cut, 12], strict=True)]
    if len(set(pieces)) < len(pieces):
        return  # one place per distinct piece (see _tile)
    shuffled = data.draw(st.permutations(pieces))
    doc = {"note": "x", **{f"p{n}": piece for n, piece in enumerate(shuffled)}}
    assert found(find_identifiers({"body": doc}, my_numbers=[value]), "my-number", value)


@given(value=my_numbers | codes, cut=st.integers(4, 8))
def test_a_known_value_split_across_headers_is_found(value, cut):
    response = httpx.Response(200, headers=[("x-a", value[:cut]), ("x-b", value[cut:])],
                              json={})
    leaks = find_identifiers(response, my_numbers=[value], codes=[value])
    assert {leak.where for leak in leaks} >= {"header:x-a + header:x-b"}


def test_a_known_value_inside_a_longer_run_of_digits_is_found():
    number = with_check_digit(98765432109)
    assert find_identifiers({"id": f"000{number}"}) == []  # unknown: a 15-digit run
    [leak] = find_identifiers({"id": f"000{number}"}, my_numbers=[number])
    assert (leak.kind, leak.where, leak.form) == ("my-number", "$.id", number)


def test_a_known_value_is_reported_with_its_kind():
    jumin = generate_juminhyo_code(random.Random(7))
    code = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    leaks = find_identifiers({"a": f"住民票コード {jumin}", "b": code.lower()},
                             juminhyo_codes=[jumin], codes=[code])
    assert [(leak.kind, leak.value, leak.where) for leak in leaks] == [
        ("juminhyo-code", jumin, "$.a"), ("code", code, "$.b")]


def test_known_values_must_be_long_enough_and_a_collection():
    with pytest.raises(ValueError, match="at least 8"):
        find_identifiers({}, codes=["ABC"])
    with pytest.raises(TypeError, match="collection"):
        find_identifiers({}, my_numbers="123456789018")


# -- benign data is not a leak -----------------------------------------------------------------


@st.composite
def benign_values(draw: Any) -> Any:
    """What a record, an answer or a header holds beside identifiers: dates, times, phones,
    amounts, other numbers and codes of other shapes."""
    d = draw(st.dates(date(1900, 1, 1), date(2100, 12, 31)))
    h, m, s = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    n = draw(st.integers(0, 9999))
    choices = [
        d.isoformat(), f"{d.isoformat()} {h:02d}:{m:02d}", f"{d:%Y/%m/%d} {h:02d}:{m:02d}",
        f"{d.isoformat()}T{h:02d}:{m:02d}:{s:02d}+09:00", f"{d:%Y%m%d}", f"{d:%Y.%m.%d}",
        f"令和{n % 30 + 1}年{d.month}月{d.day}日",
        f"0{n % 10}-{n:04d}-{(n * 7) % 10000:04d}", f"090-{n:04d}-{(n * 3) % 10000:04d}",
        f"+81 90-{n:04d}-{(n * 3) % 10000:04d}", f"+81-90-{n:04d}-{(n * 3) % 10000:04d}",
        f"{n:04d}-{(n * 3) % 10000:04d}-{(n * 7) % 10000:04d}-{(n * 9) % 10000:04d}",
        f"{draw(st.integers(0, 10**15 - 1)):,}", f"￥{draw(st.integers(0, 10**15 - 1)):,}",
        draw(st.integers(0, 9_999_999_999)),  # amounts up to the contract's 10 digits
        f"INQ-{d:%Y%m%d}-{n:04d}", f"{d:%Y%m%d}{h:02d}{m:02d}{s:02d}",
        f"{n % 256}.{(n * 3) % 256}.{(n * 7) % 256}.{(n * 11) % 256}",
        integrated_atena_number(draw(st.integers(0, 10**15 - 1))),
        f"{draw(st.integers(10**12, 10**13 - 1))}",   # 13 digits: a corporate number
        f"{draw(st.integers(10**13, 10**16 - 1))}",   # longer runs
        f"{n:05d}{d:%Y%m%d}{h:02d}",                  # 15 digits
        "TM00000000000002", "JT01010000000214", "131016", "0010002", "100-8926", "霞が関2-1-6",
    ]
    return draw(st.sampled_from(choices))


benign_documents = st.recursive(
    benign_values() | surrounding,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children,
                                                                       max_size=4),
    max_leaves=12)


@given(doc=benign_documents, seed=st.integers(0, 2**32 - 1))
def test_benign_data_is_not_a_leak(doc, seed):
    rng = random.Random(seed)
    known = [generate_my_number(rng) for _ in range(20)]
    jumin = [generate_juminhyo_code(rng) for _ in range(20)]
    assert find_identifiers(doc, my_numbers=known, juminhyo_codes=jumin) == []


@given(value=benign_values().filter(lambda v: str(v).isascii()),
       name=st.sampled_from(["date", "x-request-id", "x-phone"]))
def test_benign_headers_are_not_a_leak(value, name):
    response = httpx.Response(200, headers={name: str(value)}, json={"value": value})
    assert find_identifiers(response) == []


@given(number=my_numbers, wrong=st.integers(1, 9))
def test_a_12_digit_run_with_a_wrong_check_digit_is_not_a_my_number(number, wrong):
    other = number[:11] + str((int(number[11]) + wrong) % 10)
    assert find_identifiers({"n": other, "m": int(other), "g": f"{other[:4]}-{other[4:8]}-"
                                                               f"{other[8:]}"}) == []


@given(number=my_numbers, digit=st.sampled_from("0123456789"), before=st.booleans())
def test_a_my_number_inside_a_longer_run_of_digits_is_not_reported_unknown(number, digit,
                                                                          before):
    text = digit + number if before else number + digit
    assert find_identifiers({"n": text, "w": text.translate(FULL_WIDTH)}) == []


@given(number=my_numbers, extra=st.integers(0, 9999), sep=st.sampled_from(GROUP_SEPARATORS),
       before=st.booleans())
def test_a_4_4_4_chain_longer_than_three_groups_is_not_a_my_number(number, extra, sep,
                                                                   before):
    groups = [number[:4], number[4:8], number[8:]]
    groups = [f"{extra:04d}", *groups] if before else [*groups, f"{extra:04d}"]
    assert find_identifiers(sep.join(groups)) == []


@pytest.mark.parametrize("text", [
    "2026-11-20 12:30", "2026/11/20 12:30", "INQ-20261120-0001", "192.168.100.200",
    "+81 90-1234-5678", "123,456,789,018", "[2024, 2025, 2026]", "1234-56789018",
    "000000000000019", "7000012050002", "1111-2222-3333-4444",
])
def test_shapes_that_only_look_like_numbers_are_not_my_numbers(text):
    assert find_identifiers(text) == [] and find_identifiers({"v": text}) == []


# -- exchanges and the assertion ---------------------------------------------------------------


def test_exchange_parts_of_a_mesh_capture_entry_are_what_the_caller_sent():
    number = with_check_digit(11122233344)
    entry = {"seq": 3, "path": f"/v1/codes/{number}", "query": f"n={number[:4]}+{number[4:8]}"
             f"+{number[8:]}", "request_headers": {"X-Note": f"{number[:6]} {number[6:]}"},
             "request_body": '{"note": "x"}', "response_body": f'{{"echo": "{number}"}}'}
    assert [leak.where for leak in find_identifiers(exchange_parts(entry))] == ["url"]
    # 6-6 is not a form of an unknown My Number; the known one is found in every form.
    assert [leak.where for leak in find_identifiers(exchange_parts(entry),
                                                    my_numbers=[number])] == [
        "url", "header:x-note"]
    assert [leak.where for leak in find_identifiers(exchange_parts(entry, side="response"))] == [
        "body.echo"]
    with pytest.raises(TypeError, match="exchange_parts takes"):
        exchange_parts({"body": 1})


def test_ensure_no_identifiers_names_what_kind_where_and_form():
    number = with_check_digit(55566677788)
    ensure_no_identifiers({"ok": "2026-11-20"}, what="the answer", my_numbers=[number])
    with pytest.raises(AssertionError) as failure:
        ensure_no_identifiers({"a": {"b": f"No. {number[:4]}－{number[4:8]}－{number[8:]}"}},
                              what="the resident record 0000000019")
    message = str(failure.value)
    assert message.startswith("the resident record 0000000019 carries 1 identifier(s)")
    assert f"my-number {number} at $.a.b as '{number[:4]}－{number[4:8]}－{number[8:]}'" in message


# -- machine-made hexadecimal ids ---------------------------------------------------------------


@settings(max_examples=300)
@given(st.randoms(use_true_random=False))
def test_random_request_ids_are_not_my_numbers(rnd):
    """UUIDs and token_hex ids (a system's X-Request-ID) hold a check-digit-valid 12-digit run
    about once in 700: they must not fail a correct system by chance."""
    ids = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
           "".join(rnd.choice("0123456789abcdef") for _ in range(32))]
    for request_id in ids:
        assert [leak for leak in find_identifiers(request_id) if leak.kind == "my-number"] == []


@given(number=my_numbers, head=st.text(alphabet="0123456789abcdef", min_size=4, max_size=10))
def test_a_my_number_inside_a_hex_id_is_found_when_known_only(number, head):
    request_id = f"{head}a{number}f"  # 16+ hex characters with a letter: a machine-made id
    assert found(find_identifiers(request_id), "my-number", number) == []
    assert found(find_identifiers(request_id, my_numbers=[number]), "my-number", number)


@given(number=my_numbers)
def test_a_my_number_next_to_other_letters_is_still_found(number):
    for text in (f"MN{number}", f"note: mynumber={number}", f"{number}番", f"ab-{number}"):
        assert found(find_identifiers(text), "my-number", number), text
