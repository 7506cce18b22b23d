"""SQLite storage of a defined service: its figures per (符号, item) as JSON, plus everything
the tax provider's store keeps — the data version, the answer kept per record id and the
art. 23 records — by inheriting that store (one implementation of those rules)."""

from __future__ import annotations

import json
from typing import Any

from meshcert_simulators.service.definition import Service
from meshcert_simulators.tax.store import SCHEMA as TAX_SCHEMA
from meshcert_simulators.tax.store import TaxStore, _iso

# The tax store's tables (its figure table stays empty here) and the service's own.
SCHEMA = TAX_SCHEMA + """CREATE TABLE IF NOT EXISTS service_figures (
    code TEXT NOT NULL,
    item_code TEXT NOT NULL,
    figures TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (code, item_code)
);
"""


class ServiceStore(TaxStore):
    def __init__(self, db: Any, service: Service) -> None:
        super().__init__(db)
        self.service = service

    def store(self, rows: list[tuple[str, dict[str, Any]]]) -> int:  # type: ignore[override]
        """Write the figures per 符号 as one new data version (each item whose fields are all
        given replaces what was held for it); return that version."""
        now = _iso(self.clock())
        items = self.service.definition.items
        with self.db.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
            version = (int(row[0]) if row else 0) + 1
            conn.execute("INSERT INTO meta VALUES ('data_version', ?) ON CONFLICT(key) DO "
                         "UPDATE SET value = excluded.value", (version,))
            for code, figures in rows:
                for item in items:
                    if any(figures.get(name) is None for name in item.fields):
                        continue
                    held = {name: figures[name] for name in item.fields}
                    conn.execute(
                        "INSERT INTO service_figures VALUES (?,?,?,?,?) ON CONFLICT(code, "
                        "item_code) DO UPDATE SET figures = excluded.figures, "
                        "version = excluded.version, updated_at = excluded.updated_at",
                        (code, item.code, json.dumps(held, ensure_ascii=False), version, now))
        return version

    def item_figures(self, code: str, item_code: str) -> tuple[dict[str, Any], int] | None:
        row = self.db.query_one("SELECT figures, version FROM service_figures WHERE code = ? "
                                "AND item_code = ?", (code, item_code))
        return None if row is None else (json.loads(row["figures"]), int(row["version"]))

    def all_item_figures(self) -> list[tuple[str, str, dict[str, Any], int]]:
        return [(r["code"], r["item_code"], json.loads(r["figures"]), int(r["version"]))
                for r in self.db.query("SELECT * FROM service_figures ORDER BY code, "
                                       "item_code")]
