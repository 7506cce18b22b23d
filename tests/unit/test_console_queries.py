"""What the console's pages show, from recorded runs: filters, trends and the first failing
run, flaky requirements, latency over time, comparison and the differential table."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshcert.console import queries
from meshcert.console.exchanges import (
    Recorded,
    body_shape,
    canonical,
    keyed,
    read_exchanges,
    shape_difference,
)
from meshcert.console.index import connect, index_runs
from tests.unit.test_console_runs import RESIDENT, make_run

REFERENCE = "fixtures/vendors/reference-registry.yaml"
DEFECTIVE = f"{REFERENCE} + mynumber-to-everyone"


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    """Four runs of the reference (ERR-REQID-001 first fails in the third, seed 55;
    SEC-AUTH-002 both passes and fails with seed 1234), and one of the defective registry with
    seed 1234."""
    root = tmp_path_factory.mktemp("reports")
    make_run(root, "ref-1", run=0, latency_ms=20)
    make_run(root, "ref-2", run=1, latency_ms=30, failing=("SEC-AUTH-002",))
    make_run(root, "ref-3", run=2, latency_ms=25, seed=55, failing=("ERR-REQID-001",))
    make_run(root, "ref-4", run=3, latency_ms=22, seed=99, failing=("SEC-AUTH-002",))
    make_run(root, "defect", run=4, defect="mynumber-to-everyone",
             failing=("PRIV-MYNUM-001",))
    db = root / "index.sqlite"
    index_runs(db, [root])
    with connect(db) as connection:
        yield connection


def ids(rows: list[sqlite3.Row]) -> list[str]:
    return [Path(r["folder"]).name for r in rows]


def test_runs_are_listed_newest_first_and_filtered(conn: sqlite3.Connection) -> None:
    assert ids(queries.list_runs(conn, {})) == ["defect", "ref-4", "ref-3", "ref-2", "ref-1"]
    assert ids(queries.list_runs(conn, {"target": DEFECTIVE})) == ["defect"]
    assert ids(queries.list_runs(conn, {"since": "2026-11-02", "until": "2026-11-03"})) == \
        ["ref-3", "ref-2"]
    assert queries.list_runs(conn, {"profile": "mesh-inquirer"}) == []
    assert REFERENCE in queries.facets(conn)["target"]


def test_a_trend_shows_each_verdict_and_the_first_failing_run(
        conn: sqlite3.Connection) -> None:
    trend = queries.trend(conn, REFERENCE)
    runs = ids(trend.runs)
    assert runs == ["ref-1", "ref-2", "ref-3", "ref-4"]
    by_name = {Path(r["folder"]).name: r["id"] for r in trend.runs}
    assert [trend.cells[("ERR-REQID-001", by_name[n])] for n in runs] == \
        ["pass", "pass", "fail", "pass"]
    assert trend.first_failing == {"ERR-REQID-001": by_name["ref-3"],
                                   "SEC-AUTH-002": by_name["ref-2"]}


def test_flaky_means_both_verdicts_with_the_same_seed_and_catalog(
        conn: sqlite3.Connection) -> None:
    found = queries.flaky(conn)
    # SEC-AUTH-002 failed with seed 1234 (ref-2) and passed with it (ref-1); its failure with
    # seed 99 alone, and ERR-REQID-001's with seed 55 alone, are not flaky.
    assert [(f["requirement"], f["seed"]) for f in found] == [("SEC-AUTH-002", 1234)]
    assert sorted(v for _, v in found[0]["runs"]) == ["fail", "pass"]


def test_latency_percentiles_per_run_against_the_catalog_target(
        conn: sqlite3.Connection) -> None:
    (series,) = queries.latency_series(conn, REFERENCE)
    assert series["requirement"] == "PERF-READ-001"
    assert (series["percentile"], series["threshold_ms"]) == (95, 200.0)
    assert [round(p["p50_ms"]) for p in series["points"]] == [20, 30, 25, 22]


def test_compare_names_the_changed_requirement_and_exchange(conn: sqlite3.Connection) -> None:
    a, b = (queries.run(conn, r["id"]) for r in queries.list_runs(conn, {})
            if Path(r["folder"]).name in ("ref-1", "defect"))
    result = queries.compare(conn, b, a)   # list order: defect first
    assert ("PRIV-MYNUM-001", "pass", "fail") in result.requirements
    changed = {(x[0][2], tuple(x[3])) for x in result.exchanges}
    assert (RESIDENT, ("+/my_number",)) in changed
    # the writes carry per-run random ids: one per test in each run, never paired
    assert result.only_a == result.only_b == 4
    assert result.matched == 4


def test_the_differential_table_holds_the_answers_that_differ(
        conn: sqlite3.Connection) -> None:
    (group,) = queries.differential_candidates(conn)
    assert group["seed"] == 1234 and len(group["ids"]) == 3  # ref-3, ref-4: other seeds
    runs = [queries.run(conn, i) for i in group["ids"]]
    result = queries.differential(conn, runs)
    assert result is not None
    assert result.reference["system"] == REFERENCE
    assert [s["system"] for s in result.systems] == [DEFECTIVE]
    assert result.reference_runs == 2
    assert {row.key[2] for row in result.rows} == {RESIDENT}
    assert len(result.rows) == 4                            # one read per test
    (differences,) = {tuple(d) for row in result.rows for d in row.differences.values()}
    assert differences == ("+/my_number",)
    assert result.unmatched > 0                             # the writes with random ids


def test_one_system_alone_has_no_differential(conn: sqlite3.Connection) -> None:
    runs = queries.list_runs(conn, {"target": REFERENCE})
    assert queries.differential(conn, runs) is None


def test_request_keys_ignore_host_port_and_key_order() -> None:
    a = Recorded("t", "POST", "/x?y=1", '{"a": 1, "b": [2]}', 200, None, None)
    b = Recorded("t", "POST", "/x?y=1", '{"b":[2],"a":1}', 200, None, None)
    assert a.request_key == b.request_key
    assert canonical("not json") == "not json"
    assert canonical("[" * 100_000) == "[" * 100_000     # too deep for json: kept as text


def test_shapes_ignore_values_but_not_fields_nulls_or_problem_types() -> None:
    assert body_shape('{"at": "2026-01-01", "n": [{"a": 1}]}') == \
        body_shape('{"at": "2027-05-05", "n": [{"a": 2}, {"a": 3}]}')
    assert body_shape('{"a": null}') != body_shape('{"a": 1}')
    assert body_shape('{"type": "urn:x:a"}') != body_shape('{"type": "urn:x:b"}')


def test_an_empty_page_says_nothing_about_its_items_shape() -> None:
    def answer(body: str) -> Recorded:
        return Recorded("t", "GET", "/changes", None, 200, body, None)
    empty, full = answer('{"entries": []}'), answer('{"entries": [{"seq": 1}]}')
    assert shape_difference(empty, full) == shape_difference(full, empty) == []
    leaked = answer('{"entries": [{"seq": 1, "my_number": "1"}]}')
    assert shape_difference(full, leaked) == ["+/entries[]/my_number"]


def test_the_nth_repeat_of_a_request_pairs_with_the_nth(tmp_path: Path) -> None:
    folder = make_run(tmp_path, "run")
    found = keyed(read_exchanges(folder))
    assert all(key[-1] == 0 for key in found)
    doubled = list(read_exchanges(folder)) * 2
    assert {key[-1] for key in keyed(doubled)} == {0, 1}
