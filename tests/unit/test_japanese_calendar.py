"""Japanese-era conversion, 不詳日 and the wire form for dates (docs/domain.md §6 item 8)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from meshcert_simulators.common.japanese_calendar import (
    DEFAULT_ERAS_PATH,
    REASONS,
    EraTable,
    UncertainDate,
    date_from_wire,
    date_to_wire,
    from_wareki,
    fushou_examples,
    parse_birth_date,
    parse_wareki,
    to_wareki,
)

TABLE = EraTable.load()
FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")
in_scope_dates = st.dates(min_value=date(1873, 1, 1), max_value=date(2100, 12, 31))

BOUNDARIES = [
    (date(2019, 4, 30), "平成31年4月30日"),
    (date(2019, 5, 1), "令和元年5月1日"),
    (date(1989, 1, 7), "昭和64年1月7日"),
    (date(1989, 1, 8), "平成元年1月8日"),
    (date(1926, 12, 24), "大正15年12月24日"),
    (date(1926, 12, 25), "昭和元年12月25日"),
    (date(1912, 7, 29), "明治45年7月29日"),
    (date(1912, 7, 30), "大正元年7月30日"),
    (date(1873, 1, 1), "明治6年1月1日"),
]


# --- the table -------------------------------------------------------------------------------


def test_shipped_table_has_the_five_modern_eras() -> None:
    rows = [(e.kanji, e.romaji, e.letter, e.start, e.end) for e in TABLE.eras]
    assert rows == [
        ("明治", "Meiji", "M", date(1868, 1, 25), date(1912, 7, 29)),
        ("大正", "Taisho", "T", date(1912, 7, 30), date(1926, 12, 24)),
        ("昭和", "Showa", "S", date(1926, 12, 25), date(1989, 1, 7)),
        ("平成", "Heisei", "H", date(1989, 1, 8), date(2019, 4, 30)),
        ("令和", "Reiwa", "R", date(2019, 5, 1), None),
    ]
    assert TABLE.gregorian_from == date(1873, 1, 1)
    assert "慶応4年" in (TABLE.eras[0].basis or "")


def test_default_table_is_read_once() -> None:
    assert EraTable.load() is EraTable.load()
    assert EraTable.load(DEFAULT_ERAS_PATH) == EraTable.load()


def _write_table(tmp_path: Path, extra: list[dict[str, object]]) -> Path:
    data = yaml.safe_load(DEFAULT_ERAS_PATH.read_text(encoding="utf-8"))
    data["eras"].extend(extra)
    path = tmp_path / "eras.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_new_era_is_an_edit_of_the_yaml_only(tmp_path: Path) -> None:
    table = EraTable.load(
        _write_table(
            tmp_path, [{"kanji": "未来", "romaji": "Mirai", "letter": "X", "start": "2040-02-11"}]
        )
    )
    assert to_wareki(date(2040, 2, 10), table).text == "令和22年2月10日"
    assert to_wareki(date(2040, 2, 11), table).text == "未来元年2月11日"
    assert to_wareki(date(2041, 1, 1), table).abbrev == "X2.01.01"
    assert parse_wareki("X1.2.11", table) == date(2040, 2, 11)
    assert from_wareki("Mirai", 2, 1, 1, table) == date(2041, 1, 1)
    with pytest.raises(ValueError, match="ended"):
        from_wareki("令和", 23, 1, 1, table)
    boundary = parse_birth_date("令和22年2月11日", table)
    assert isinstance(boundary, UncertainDate) and boundary.reason == "era-boundary"
    # The shipped table is untouched: there 令和23年 is an ordinary year.
    assert from_wareki("令和", 23, 1, 1) == date(2041, 1, 1)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            [{"kanji": "未来", "romaji": "Mirai", "letter": "X", "start": "2019-04-01"}],
            "start after",
        ),
        ([{"kanji": "未来", "romaji": "Mirai", "letter": "R", "start": "2040-01-01"}], "duplicate"),
        ([{"kanji": "未来", "romaji": "reiwa", "letter": "X", "start": "2040-01-01"}], "duplicate"),
        ([{"kanji": "未来", "romaji": "Mirai", "letter": "XX", "start": "2040-01-01"}], "letter"),
        ([{"kanji": "未来", "romaji": "Mirai", "letter": "X"}], "start"),
        ([{"romaji": "Mirai", "letter": "X", "start": "2040-01-01"}], "kanji"),
    ],
)
def test_malformed_tables_are_refused(
    tmp_path: Path, extra: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        EraTable.load(_write_table(tmp_path, extra))


@pytest.mark.parametrize("name", ["平成", "Heisei", "heisei", "HEISEI", "H", "h"])
def test_era_found_by_kanji_romaji_or_letter(name: str) -> None:
    assert TABLE.find(name).kanji == "平成"


# --- full dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(("gregorian", "text"), BOUNDARIES)
def test_era_boundary_days(gregorian: date, text: str) -> None:
    assert to_wareki(gregorian).text == text
    assert parse_wareki(text) == gregorian


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("平成31年4月30日", date(2019, 4, 30)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和1年5月1日", date(2019, 5, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("R1.05.01", date(2019, 5, 1)),
        ("h31/04/30", date(2019, 4, 30)),
        ("令和元年５月１日", date(2019, 5, 1)),
        ("平成３１年４月３０日", date(2019, 4, 30)),
        ("Ｈ３１．４．３０", date(2019, 4, 30)),
        (" 昭和 64年 1月 7日 ", date(1989, 1, 7)),
        ("㍻31年4月30日", date(2019, 4, 30)),
    ],
)
def test_parse_wareki_accepted_forms(text: str, expected: date) -> None:
    assert parse_wareki(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "平成31年4月",
        "2019-04-30",
        "平成٣١年٤月٣٠日",
        "H31.4/30",
        "X31.4.30",
        "平成31年4月30",
        "",
    ],
)
def test_parse_wareki_refuses_other_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_wareki(text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("平成", 32, 1, 1), "no 平成32年"),
        (("令和", 1, 4, 30), "before 令和 began"),
        (("明治", 45, 7, 30), "after 明治 ended"),
        (("昭和", 64, 1, 8), "after 昭和 ended"),
        (("平成", 3, 2, 29), "no such day"),
        (("令和", 0, 5, 1), "start at 1"),
        (("明治", 5, 12, 31), "lunisolar"),
        (("未来", 1, 1, 1), "unknown era"),
    ],
)
def test_from_wareki_is_strict(args: tuple[str, int, int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_wareki(*args)


def test_before_the_gregorian_calendar_is_out_of_scope() -> None:
    with pytest.raises(ValueError, match="lunisolar"):
        to_wareki(date(1872, 12, 31))
    with pytest.raises(ValueError, match="lunisolar"):
        parse_birth_date("明治5年")
    with pytest.raises(ValueError, match="lunisolar"):
        date_to_wire(date(1872, 12, 31))


def test_to_wareki_wants_a_date() -> None:
    with pytest.raises(TypeError):
        to_wareki(datetime(2019, 5, 1, 9, 0))
    with pytest.raises(TypeError):
        to_wareki("2019-05-01")  # type: ignore[arg-type]


@given(in_scope_dates)
def test_wareki_round_trips(d: date) -> None:
    w = to_wareki(d)
    assert w.era.start <= d and (w.era.end is None or d <= w.era.end)
    assert (w.year == 1) == ("元年" in w.text)
    assert w.to_date() == d
    assert from_wareki(w.era.kanji, w.year, w.month, w.day) == d
    assert parse_wareki(w.text) == d
    assert parse_wareki(w.abbrev) == d
    assert parse_wareki(w.text.translate(FULL_WIDTH)) == d
    assert parse_birth_date(w.text) == d


def test_each_era_ends_the_day_before_the_next_one_starts() -> None:
    for era, nxt in zip(TABLE.eras, TABLE.eras[1:], strict=False):
        assert era.end is not None and era.last_year is not None
        assert (era.end - nxt.start).days == -1
        assert to_wareki(era.end).era == era and to_wareki(era.end).year == era.last_year
        assert to_wareki(nxt.start).era == nxt and to_wareki(nxt.start).year == 1


# --- 不詳日 ----------------------------------------------------------------------------------

U = UncertainDate


@pytest.mark.parametrize(
    ("text", "fields", "earliest", "latest"),
    [
        ("不詳", (None, None, None, None, None, "unknown"), None, None),
        ("年月日不詳", (None, None, None, None, None, "unknown"), None, None),
        (
            "令和3年",
            ("令和", 3, None, None, None, "year-only"),
            date(2021, 1, 1),
            date(2021, 12, 31),
        ),
        (
            "昭和20年月日不詳",
            ("昭和", 20, None, None, None, "year-only"),
            date(1945, 1, 1),
            date(1945, 12, 31),
        ),
        (
            "令和3年頃",
            ("令和", 3, None, None, "頃", "approximate"),
            date(2021, 1, 1),
            date(2021, 12, 31),
        ),
        (
            "令和元年",
            ("令和", 1, None, None, None, "year-only"),
            date(2019, 5, 1),
            date(2019, 12, 31),
        ),
        (
            "昭和50年3月",
            ("昭和", 50, 3, None, None, "month-only"),
            date(1975, 3, 1),
            date(1975, 3, 31),
        ),
        (
            "昭和50年3月日不詳",
            ("昭和", 50, 3, None, None, "month-only"),
            date(1975, 3, 1),
            date(1975, 3, 31),
        ),
        (
            "昭和50年3月頃",
            ("昭和", 50, 3, None, "頃", "approximate"),
            date(1975, 3, 1),
            date(1975, 3, 31),
        ),
        (
            "昭和50年3月31日頃",
            ("昭和", 50, 3, 31, "頃", "approximate"),
            date(1975, 3, 31),
            date(1975, 3, 31),
        ),
        (
            "昭和50年3月上旬",
            ("昭和", 50, 3, None, "上旬", "part-of-month"),
            date(1975, 3, 1),
            date(1975, 3, 10),
        ),
        (
            "昭和50年3月中旬",
            ("昭和", 50, 3, None, "中旬", "part-of-month"),
            date(1975, 3, 11),
            date(1975, 3, 20),
        ),
        (
            "昭和51年2月下旬",
            ("昭和", 51, 2, None, "下旬", "part-of-month"),
            date(1976, 2, 21),
            date(1976, 2, 29),
        ),
        (
            "平成3年2月29日",
            ("平成", 3, 2, 29, None, "nonexistent-day"),
            date(1991, 2, 1),
            date(1991, 2, 28),
        ),
        (
            "昭和40年4月31日",
            ("昭和", 40, 4, 31, None, "nonexistent-day"),
            date(1965, 4, 1),
            date(1965, 4, 30),
        ),
        (
            "明治45年7月30日",
            ("明治", 45, 7, 30, None, "era-boundary"),
            date(1912, 7, 30),
            date(1912, 7, 30),
        ),
        (
            "大正15年12月25日",
            ("大正", 15, 12, 25, None, "era-boundary"),
            date(1926, 12, 25),
            date(1926, 12, 25),
        ),
        (
            "明治45年",
            ("明治", 45, None, None, None, "year-only"),
            date(1912, 1, 1),
            date(1912, 7, 30),
        ),
        (
            "平成元年1月",
            ("平成", 1, 1, None, None, "month-only"),
            date(1989, 1, 8),
            date(1989, 1, 31),
        ),
        (
            "昭和５０年３月上旬",
            ("昭和", 50, 3, None, "上旬", "part-of-month"),
            date(1975, 3, 1),
            date(1975, 3, 10),
        ),
    ],
)
def test_parse_birth_date_uncertain(
    text: str, fields: tuple[object, ...], earliest: date | None, latest: date | None
) -> None:
    value = parse_birth_date(text)
    assert isinstance(value, UncertainDate)
    assert value.text == text  # kept exactly as written, full-width digits included
    assert (value.era, value.year, value.month, value.day, value.qualifier, value.reason) == fields
    assert (value.earliest(), value.latest()) == (earliest, latest)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "平成32年",
        "平成32年1月1日",
        "令和元年4月",
        "令和元年4月30日",
        "明治45年7月31日",
        "昭和50年13月",
        "昭和50年3月32日",
        "昭和50年上旬",
        "昭和50年3月1日上旬",
        "昭和年月日不詳",
        "H3.2.29",
        "S50年3月",
        "Showa50年3月",
        "2019-02-29",
        "1872-12-31",
        "未来3年",
    ],
)
def test_parse_birth_date_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_birth_date(text)


def test_garbage_error_lists_the_accepted_forms() -> None:
    with pytest.raises(ValueError, match=r"accepted forms: .*令和元年5月1日.*昭和50年3月上旬"):
        parse_birth_date("sometime")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("平成31年4月30日", date(2019, 4, 30)),
        ("R1.05.01", date(2019, 5, 1)),
        ("1989-01-08", date(1989, 1, 8)),
        ("２０１９-０５-０１", date(2019, 5, 1)),
    ],
)
def test_parse_birth_date_full_dates_are_dates(text: str, expected: date) -> None:
    value = parse_birth_date(text)
    assert type(value) is date and value == expected


def test_uncertain_date_fields_must_agree_with_text() -> None:
    ok = U("昭和50年3月", "昭和", 50, 3, None, None, "month-only")
    assert parse_birth_date("昭和50年3月") == ok
    with pytest.raises(ValueError, match="disagree"):
        U("昭和50年3月", "昭和", 51, 3, None, None, "month-only")
    with pytest.raises(ValueError, match="disagree"):
        U("昭和50年3月", "昭和", 50, 3, None, None, "year-only")
    with pytest.raises(ValueError, match="disagree"):
        U("不詳", "昭和", None, None, None, None, "unknown")
    with pytest.raises(ValueError, match="not a 不詳日"):
        U("someday", None, None, None, None, None, "unknown")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ok.year = 51  # type: ignore[misc]


def test_fushou_examples_cover_every_reason() -> None:
    values = [parse_birth_date(t) for t in fushou_examples()]
    assert all(isinstance(v, UncertainDate) for v in values)
    assert {v.reason for v in values if isinstance(v, UncertainDate)} == set(REASONS)


def _full_width(text: str, flag: bool) -> str:
    return text.translate(FULL_WIDTH) if flag else text


@st.composite
def uncertain_texts(draw: st.DrawFn) -> str:
    form = draw(
        st.sampled_from(["unknown", "year", "month", "part", "approx", "nonexistent", "boundary"])
    )
    if form == "unknown":
        return draw(st.sampled_from(["不詳", "不明", "年月日不詳", "生年月日不詳"]))
    era = draw(st.sampled_from(TABLE.eras[:-1] if form == "boundary" else TABLE.eras))
    if form == "boundary":
        nxt = TABLE.next_era(era)
        assert nxt is not None and era.last_year is not None
        return f"{era.kanji}{era.last_year}年{nxt.start.month}月{nxt.start.day}日"
    first_year = max(1, TABLE.gregorian_from.year - era.start.year + 1)
    year = draw(st.integers(first_year, era.last_year or 80))
    head = f"{era.kanji}{'元' if year == 1 and draw(st.booleans()) else year}年"
    month = draw(st.integers(1, 12))
    if form == "year":
        text = head + draw(st.sampled_from(["", "月日不詳", "不詳"]))
    elif form == "month":
        text = f"{head}{month}月" + draw(st.sampled_from(["", "日不詳", "不詳"]))
    elif form == "part":
        text = f"{head}{month}月" + draw(st.sampled_from(["上旬", "中旬", "下旬"]))
    elif form == "approx":
        text = head + draw(st.sampled_from(["", f"{month}月", f"{month}月1日"])) + "頃"
    else:
        month = draw(st.sampled_from([2, 4, 6, 9, 11]))
        text = f"{head}{month}月{draw(st.integers(31 if month != 2 else 30, 31))}日"
    return _full_width(text, draw(st.booleans()))


def _parses(text: str) -> bool:
    try:
        return isinstance(parse_birth_date(text), UncertainDate)
    except ValueError:
        return False  # e.g. 令和元年3月: a period wholly outside its era


uncertain_dates = uncertain_texts().filter(_parses).map(parse_birth_date)


@given(uncertain_dates)
def test_uncertain_dates_have_an_ordered_range_inside_their_era(u: UncertainDate) -> None:
    assert u.reason in REASONS
    if u.reason == "unknown":
        assert u.earliest() is None and u.latest() is None
        return
    lo, hi = u.earliest(), u.latest()
    assert lo is not None and hi is not None and lo <= hi
    era = TABLE.find(u.era or "")
    nxt = TABLE.next_era(era)
    assert era.start <= lo and (nxt is None or hi <= nxt.start)
    if u.reason == "era-boundary":
        assert lo == hi == nxt.start  # type: ignore[union-attr]
    if u.reason == "nonexistent-day":
        assert lo.month == hi.month == u.month and lo.day == 1


# --- the wire form ---------------------------------------------------------------------------


def test_wire_form_of_a_known_date() -> None:
    assert date_to_wire(date(1989, 1, 8)) == {
        "iso": "1989-01-08",
        "uncertain": False,
        "text": "平成元年1月8日",
        "earliest": "1989-01-08",
        "latest": "1989-01-08",
    }


def test_wire_form_of_an_uncertain_date() -> None:
    assert date_to_wire(parse_birth_date("昭和50年3月上旬")) == {
        "iso": None,
        "uncertain": True,
        "text": "昭和50年3月上旬",
        "earliest": "1975-03-01",
        "latest": "1975-03-10",
    }
    assert date_to_wire(parse_birth_date("不詳")) == {
        "iso": None,
        "uncertain": True,
        "text": "不詳",
        "earliest": None,
        "latest": None,
    }


@given(in_scope_dates)
def test_wire_round_trip_of_dates(d: date) -> None:
    wire = date_to_wire(d)
    assert wire["iso"] == d.isoformat() and wire["uncertain"] is False
    back = date_from_wire(wire)
    assert type(back) is date and back == d


@given(uncertain_dates)
def test_wire_round_trip_of_uncertain_dates(u: UncertainDate) -> None:
    wire = date_to_wire(u)
    assert wire["iso"] is None and wire["uncertain"] is True and wire["text"] == u.text
    assert date_from_wire(wire) == u


@pytest.mark.parametrize(
    "wire",
    [
        {"iso": "2019-05-01", "uncertain": True, "text": "令和元年5月1日"},
        {"iso": None, "uncertain": True, "text": "令和元年5月1日"},
        {"iso": "2019-05-01", "uncertain": False, "text": "平成31年5月1日"},
        {"iso": "2019-05-01", "uncertain": False, "latest": "2019-05-02"},
        {"iso": None, "uncertain": True, "text": "昭和50年3月", "earliest": "1975-03-02"},
        {"iso": "20190501", "uncertain": False},
        {"iso": "2019-05-01"},
        {"iso": None, "uncertain": False, "text": "令和元年5月1日"},
    ],
)
def test_inconsistent_wire_dates_are_refused(wire: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        date_from_wire(wire)
