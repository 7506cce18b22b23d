"""The one cursor pager (meshcert_simulators/common/paging.py), on a real SQLite file."""

from __future__ import annotations

from meshcert_simulators.common.paging import next_after, seq_page, split_page
from meshcert_simulators.common.storage import Database

SCHEMA = "CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL);"


def test_pages_follow_the_cursor_and_filter(tmp_path):
    db = Database(tmp_path / "t.sqlite3", SCHEMA)
    with db.transaction() as conn:
        for kind in "abababa":
            conn.execute("INSERT INTO t (kind) VALUES (?)", (kind,))
    page, more = seq_page(db, "SELECT seq FROM t", "kind=?", ("a",), 0, 2)
    assert [r["seq"] for r in page] == [1, 3] and more
    page, more = seq_page(db, "SELECT seq FROM t", "kind=?", ("a",), 3, 2)
    assert [r["seq"] for r in page] == [5, 7] and not more
    everything, more = seq_page(db, "SELECT seq FROM t", "", (), 0, 7)
    assert len(everything) == 7 and not more
    db.close()


def test_the_next_cursor_is_the_last_seq_or_the_same_after_an_empty_page():
    assert next_after([{"seq": 4}, {"seq": 9}], 0) == 9
    assert next_after([], 9) == 9
    assert split_page([1, 2, 3], 2) == ([1, 2], True)
    assert split_page([1, 2], 2) == ([1, 2], False)
