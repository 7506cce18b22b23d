"""The one art. 23 record table (meshcert_simulators/common/provision_records.py): its DDL, insert,
page by sequence number and seven-year retention, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from meshcert_simulators.common.provision_records import ProvisionRecords, retention_cutoff
from meshcert_simulators.common.storage import Database

RECORDS = ProvisionRecords(columns=(("requested_at", "TEXT NOT NULL"), ("outcome", "TEXT")),
                           unique=True, indexes=(("provision_records_age", "requested_at"),))


def _db(tmp_path) -> Database:  # type: ignore[no-untyped-def]
    return Database(tmp_path / "records.sqlite3", RECORDS.schema)


def test_records_page_in_order_and_say_whether_more_follow(tmp_path):
    db = _db(tmp_path)
    with db.transaction() as conn:
        for n in range(5):
            RECORDS.insert(conn, record_id=f"r-{n}", requested_at=f"2026-01-0{n + 1}",
                           outcome="provided")
    first, more = RECORDS.page(db, 0, 3)
    assert [r["record_id"] for r in first] == ["r-0", "r-1", "r-2"] and more
    rest, more = RECORDS.page(db, first[-1]["seq"], 3)
    assert [r["record_id"] for r in rest] == ["r-3", "r-4"] and not more
    db.close()


def test_a_unique_table_keeps_one_record_per_record_id(tmp_path):
    db = _db(tmp_path)
    with db.transaction() as conn:
        RECORDS.insert(conn, record_id="r-1", requested_at="2026-01-01", outcome=None)
        assert RECORDS.has(conn, "r-1") and not RECORDS.has(conn, "r-2")
    with pytest.raises(sqlite3.IntegrityError), db.transaction() as conn:
        RECORDS.insert(conn, record_id="r-1", requested_at="2026-01-02", outcome=None)
    db.close()


def test_an_insert_missing_a_column_names_it(tmp_path):
    db = _db(tmp_path)
    with pytest.raises(TypeError, match="outcome"), db.transaction() as conn:
        RECORDS.insert(conn, record_id="r-1", requested_at="2026-01-01")
    db.close()


def test_records_older_than_seven_years_are_purged(tmp_path):
    db = _db(tmp_path)
    with db.transaction() as conn:
        RECORDS.insert(conn, record_id="old", requested_at="2019-02-28T11:59:00.000+00:00",
                       outcome="provided")
        RECORDS.insert(conn, record_id="kept", requested_at="2019-02-28T12:01:00.000+00:00",
                       outcome="provided")
    assert RECORDS.purge_expired(db, datetime(2026, 2, 28, 12, 0, tzinfo=UTC)) == 1
    assert [r["record_id"] for r in RECORDS.page(db, 0, 10)[0]] == ["kept"]
    db.close()


def test_the_cutoff_of_29_february_falls_on_28_february():
    assert retention_cutoff(datetime(2028, 2, 29, 9, tzinfo=UTC)) == \
        "2021-02-28T09:00:00.000+00:00"
