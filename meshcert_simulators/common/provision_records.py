"""Art. 23 provision records (番号法 art. 23, 情報提供等の記録): the one table every simulator
that inquires or provides keeps — the mesh, J-LIS and the providers — with its insert, its
page by sequence number and its retention purge. Each simulator names the columns it records
after ``seq`` and ``record_id`` (what a mesh records differs from what a provider does)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from meshcert_simulators.common.paging import seq_page
from meshcert_simulators.common.storage import Database

TABLE = "provision_records"
# 番号法施行令 art. 29: the records of provisions (情報提供等の記録) are kept for seven years.
RETENTION_YEARS = 7


def retention_cutoff(now: datetime, years: int = RETENTION_YEARS) -> str:
    """The request time (a UTC ISO string to the millisecond, as stored) before which a record
    is past its retention of ``years``."""
    try:
        cutoff = now.replace(year=now.year - years)
    except ValueError:  # 29 February: the day before in a common year
        cutoff = now.replace(year=now.year - years, day=28)
    return cutoff.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class ProvisionRecords:
    """The art. 23 record table of one simulator: ``seq`` (the export's cursor), ``record_id``
    (``unique``: at most one record per record id), then ``columns`` as (name, SQL type)."""

    columns: tuple[tuple[str, str], ...]
    unique: bool = False
    indexes: tuple[tuple[str, str], ...] = ()  # (index name, its columns)

    @cached_property
    def names(self) -> tuple[str, ...]:
        return ("record_id", *(name for name, _ in self.columns))

    @property
    def schema(self) -> str:
        """The DDL: put it in the simulator's schema."""
        lines = ["seq INTEGER PRIMARY KEY AUTOINCREMENT",
                 "record_id TEXT NOT NULL" + (" UNIQUE" if self.unique else ""),
                 *(f"{name} {kind}" for name, kind in self.columns)]
        body = ",\n    ".join(lines)
        ddl = f"CREATE TABLE IF NOT EXISTS {TABLE} (\n    {body}\n);\n"
        return ddl + "".join(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({on});\n"
                             for name, on in self.indexes)

    @cached_property
    def _insert_sql(self) -> str:  # built once: the mesh inserts on every inquiry
        return (f"INSERT INTO {TABLE} ({', '.join(self.names)}) "
                f"VALUES ({', '.join(':' + n for n in self.names)})")

    def insert(self, conn: sqlite3.Connection, **fields: Any) -> None:
        """Write one record in the caller's transaction; every column must be given."""
        missing = set(self.names) - fields.keys()
        if missing:
            raise TypeError(f"an art. 23 record needs {sorted(missing)}")
        conn.execute(self._insert_sql, fields)

    def has(self, conn: sqlite3.Connection, record_id: str) -> bool:
        return conn.execute(f"SELECT 1 FROM {TABLE} WHERE record_id=?",
                            (record_id,)).fetchone() is not None

    def page(self, db: Database, after: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """The records after ``seq`` ``after`` (at most ``limit``), and whether more follow."""
        rows, more = seq_page(db, f"SELECT * FROM {TABLE}", "", (), after, limit)
        return [dict(r) for r in rows], more

    def purge_expired(self, db: Database, now: datetime,
                      years: int = RETENTION_YEARS) -> int:
        """Delete the records past their retention; returns how many went. Times are stored
        as UTC ISO strings, so they order as text."""
        with db.transaction() as conn:
            return conn.execute(f"DELETE FROM {TABLE} WHERE requested_at < ?",
                                (retention_cutoff(now, years),)).rowcount
