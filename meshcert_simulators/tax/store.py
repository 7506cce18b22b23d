"""SQLite storage of the resident-tax system: figures per 符号 (its own code from the mesh;
neither the My Number nor the 住民票コード is kept) and its art. 23 provision records."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

from meshcert_simulators.common.provision_records import ProvisionRecords
from meshcert_simulators.common.storage import Database

# This system's art. 23 records: one per inquiry answered or refused.
RECORDS = ProvisionRecords(
    columns=(("inquirer_client", "TEXT NOT NULL"), ("procedure_code", "TEXT NOT NULL"),
             ("item_code", "TEXT NOT NULL"), ("requested_at", "TEXT NOT NULL"),
             ("provided_at", "TEXT NOT NULL"), ("outcome", "TEXT NOT NULL"),
             ("item_status", "TEXT"), ("data_version", "INTEGER")))

SCHEMA = """
CREATE TABLE IF NOT EXISTS tax_figures (
    code TEXT PRIMARY KEY,
    tax_year INTEGER NOT NULL,
    taxable_income INTEGER NOT NULL,
    income_levy INTEGER NOT NULL,
    per_capita_levy INTEGER NOT NULL,
    dependants INTEGER NOT NULL,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
""" + RECORDS.schema + """CREATE TABLE IF NOT EXISTS answers (
    record_id TEXT PRIMARY KEY,
    request_sha256 TEXT NOT NULL,
    response TEXT NOT NULL
);
"""

FIGURE_FIELDS = ("tax_year", "taxable_income", "income_levy", "per_capita_levy", "dependants")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def synthetic_figures(seed: int, juminhyo_code: str, tax_year: int = 2025) -> dict[str, int]:
    """Deterministic synthetic figures: the same (seed, person) always gives the same ones.
    所得割 is 10 % of taxable income (rounded down to 100 yen); 均等割 is 5,000 yen
    (municipal 3,000 + prefectural 1,000 + forest environment tax 1,000)."""
    rng = random.Random(f"{seed}:{juminhyo_code}")
    income = rng.randrange(0, 9_000_000, 1000)
    return {"tax_year": tax_year, "taxable_income": income,
            "income_levy": income // 10 // 100 * 100,
            "per_capita_levy": 5000 if income > 0 else 0,
            "dependants": rng.randrange(0, 4)}


class TaxStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.clock = lambda: datetime.now(UTC)

    def data_version(self) -> int:
        row = self.db.query_one("SELECT value FROM meta WHERE key = 'data_version'")
        return int(row["value"]) if row else 0

    def store(self, rows: list[tuple[str, dict[str, int]]]) -> int:
        """Write figures per 符号 as one new data version; return that version."""
        now = _iso(self.clock())
        with self.db.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
            version = (int(row[0]) if row else 0) + 1
            conn.execute("INSERT INTO meta VALUES ('data_version', ?) ON CONFLICT(key) DO "
                         "UPDATE SET value = excluded.value", (version,))
            for code, figures in rows:
                conn.execute(
                    "INSERT INTO tax_figures VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(code) DO "
                    "UPDATE SET tax_year = excluded.tax_year, "
                    "taxable_income = excluded.taxable_income, "
                    "income_levy = excluded.income_levy, "
                    "per_capita_levy = excluded.per_capita_levy, "
                    "dependants = excluded.dependants, version = excluded.version, "
                    "updated_at = excluded.updated_at",
                    (code, *(figures[f] for f in FIGURE_FIELDS), version, now))
        return version

    def figures(self, code: str) -> tuple[dict[str, int], int] | None:
        row = self.db.query_one("SELECT * FROM tax_figures WHERE code = ?", (code,))
        if row is None:
            return None
        return {f: int(row[f]) for f in FIGURE_FIELDS}, int(row["version"])

    def all_figures(self) -> list[tuple[str, dict[str, int], int]]:
        return [(r["code"], {f: int(r[f]) for f in FIGURE_FIELDS}, int(r["version"]))
                for r in self.db.query("SELECT * FROM tax_figures ORDER BY code")]

    def answer_of(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        """(request digest, answer) of a record id already answered, else None."""
        rows = self.db.query("SELECT * FROM answers WHERE record_id = ?", (record_id,))
        return (rows[0]["request_sha256"], json.loads(rows[0]["response"])) if rows else None

    def record(self, *, record_id: str, inquirer_client: str, procedure_code: str,
               item_code: str, requested_at: datetime, outcome: str, item_status: str | None,
               data_version: int | None, request_sha256: str = "",
               response: dict[str, Any] | None = None) -> bool:
        """Write the art. 23 record and keep the answer for its record id, in one transaction;
        False (nothing written) when the record id was answered meanwhile."""
        with self.db.transaction() as conn:
            if response is not None:
                kept = conn.execute("INSERT OR IGNORE INTO answers VALUES (?,?,?)",
                                    (record_id, request_sha256,
                                     json.dumps(response, ensure_ascii=False)))
                if kept.rowcount == 0:
                    return False
            RECORDS.insert(conn, record_id=record_id, inquirer_client=inquirer_client,
                           procedure_code=procedure_code, item_code=item_code,
                           requested_at=_iso(requested_at), provided_at=_iso(self.clock()),
                           outcome=outcome, item_status=item_status, data_version=data_version)
        return True

    def records(self, after: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        return RECORDS.page(self.db, after, limit)
