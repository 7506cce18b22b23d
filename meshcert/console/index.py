"""The console's index: every run folder found under the report roots, in one SQLite file.

A **certification** is a folder with certificate.json (its signature and file hashes checked
when indexed: meshcert/reports/certificate.py), a **selftest** one with selftest.json (its
variants are certifications in its subfolders, indexed too), a **load** run one with load.json.
A run is keyed by its folder's resolved path, so indexing again replaces its rows (nothing is
added twice); a folder that is gone is dropped.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshcert.reports.certificate import CERTIFICATE, UnreadableReport, verify_report

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    folder TEXT PRIMARY KEY,          -- resolved path of the run folder
    id TEXT NOT NULL UNIQUE,          -- short id used in URLs
    kind TEXT NOT NULL,               -- certification | selftest | load
    run_id TEXT NOT NULL,
    system TEXT NOT NULL,             -- target file, plus the defect a reference ran with
    target TEXT NOT NULL, target_name TEXT, profile TEXT, catalog TEXT,
    verdict TEXT NOT NULL,            -- certified | not-certified | could-not-judge | partial
                                      -- | ok | not-ok | met | not-met
    seed INTEGER, population_seed INTEGER, defect TEXT, reference INTEGER NOT NULL DEFAULT 0,
    started TEXT, duration_s REAL,
    signature TEXT NOT NULL,          -- valid | invalid | unsigned
    signature_problem TEXT, parent TEXT
);
CREATE TABLE IF NOT EXISTS verdicts (
    run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    requirement TEXT NOT NULL, level TEXT, title_en TEXT, title_ja TEXT, verdict TEXT NOT NULL,
    PRIMARY KEY (run, requirement)
);
CREATE TABLE IF NOT EXISTS latency (
    run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    test TEXT NOT NULL, requirement TEXT, count INTEGER,
    p50_ms REAL, p95_ms REAL, p99_ms REAL, max_ms REAL,
    target_percentile INTEGER, threshold_ms REAL, observed_ms REAL
);
CREATE INDEX IF NOT EXISTS runs_system ON runs(system, started);
"""
CERTIFICATION, SELFTEST, LOAD = "certification", "selftest", "load"


@dataclass(frozen=True)
class Indexed:
    added: int      # runs indexed this time (new or refreshed)
    total: int      # runs in the index afterwards


@contextmanager
def connect(db: Path) -> Iterator[sqlite3.Connection]:
    db.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.executescript(SCHEMA)
        with conn:
            yield conn


def short_id(folder: Path) -> str:
    """A stable id for URLs: the folder name and a digest of its full path."""
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:6]
    return f"{folder.name}-{digest}"


def started_from_name(name: str) -> str | None:
    """The start time a run folder's name carries (``load-20261126T101500Z-3fa2c1``), ISO."""
    found = re.search(r"(\d{8})T(\d{6})Z", name)
    if not found:
        return None
    day, time = found.groups()
    return f"{day[:4]}-{day[4:6]}-{day[6:]}T{time[:2]}:{time[2:4]}:{time[4:]}+00:00"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def system_of(target_file: str, defect: str | None) -> str:
    return f"{target_file} + {defect}" if defect else target_file


def _certification_row(folder: Path, cert: dict[str, Any], parent: str | None
                       ) -> dict[str, Any]:
    try:
        check = verify_report(folder)
        signature = "valid" if check.valid else "invalid"
        problems = [] if check.signature_valid else ["signature"]
        problems += [f"{what}: {name}" for what, names in
                     (("altered", check.altered), ("missing", check.missing),
                      ("added", check.added)) for name in names]
    except UnreadableReport as exc:
        signature, problems = "unsigned", [str(exc)]
    target = cert.get("target") or {}
    launch = target.get("launch") or {}
    defect = launch.get("defect")
    if cert.get("certified"):
        verdict = "certified"
    elif cert.get("exit_code") == 3:
        verdict = "could-not-judge"
    elif cert.get("exit_code") == 0:
        verdict = "partial"
    else:
        verdict = "not-certified"
    seeds = cert.get("seeds") or {}
    return {
        "folder": str(folder), "id": short_id(folder), "kind": CERTIFICATION,
        "run_id": str(cert.get("run_id", folder.name)),
        "system": system_of(str(target.get("file", "?")), defect),
        "target": str(target.get("file", "?")), "target_name": target.get("name"),
        "profile": (cert.get("profile") or {}).get("id"),
        "catalog": (cert.get("catalog") or {}).get("version"), "verdict": verdict,
        "seed": cert.get("seed"), "population_seed": seeds.get("population"),
        "defect": defect, "reference": int(bool(launch) and not defect),
        "started": cert.get("started"), "duration_s": cert.get("duration_s"),
        "signature": signature, "signature_problem": "; ".join(problems) or None,
        "parent": parent}


def _insert(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    conn.execute("DELETE FROM runs WHERE folder = ? OR id = ?", (row["folder"], row["id"]))
    names = ", ".join(row)
    conn.execute(f"INSERT INTO runs ({names}) VALUES ({', '.join('?' * len(row))})",
                 tuple(row.values()))


def _index_certification(conn: sqlite3.Connection, folder: Path, parent: str | None) -> bool:
    cert = _read_json(folder / CERTIFICATE)
    if cert is None:
        return False
    row = _certification_row(folder, cert, parent)
    _insert(conn, row)
    for r in cert.get("requirements") or []:
        title = r.get("title") or {}
        conn.execute("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?)",
                     (row["id"], r.get("id"), r.get("level"), title.get("en"), title.get("ja"),
                      r.get("verdict")))
    for s in cert.get("latency") or []:
        target = s.get("target") or {}
        requirements = s.get("requirements") or [None]
        conn.execute("INSERT INTO latency VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (row["id"], s.get("test"), target.get("requirement") or requirements[0],
                      s.get("count"), s.get("p50_ms"), s.get("p95_ms"), s.get("p99_ms"),
                      s.get("max_ms"), target.get("percentile"), target.get("threshold_ms"),
                      target.get("observed_ms")))
    return True


def _index_selftest(conn: sqlite3.Connection, folder: Path) -> bool:
    data = _read_json(folder / "selftest.json")
    if data is None:
        return False
    ref = (data.get("reference") or {}).get("report_dir")
    started = _read_json(Path(ref) / CERTIFICATE) if ref else None
    _insert(conn, {
        "folder": str(folder), "id": short_id(folder), "kind": SELFTEST, "run_id": folder.name,
        "system": f"selftest {data.get('profile')}", "target": f"selftest {data.get('profile')}",
        "target_name": None, "profile": data.get("profile"), "catalog": data.get("catalog"),
        "verdict": "ok" if data.get("ok") else "not-ok", "seed": data.get("seed"),
        "started": (started or {}).get("started") or started_from_name(folder.name),
        "signature": "unsigned",
        "signature_problem": f"detection (MUST): {data.get('detection_rate_must', 0):.0%}"})
    return True


def _index_load(conn: sqlite3.Connection, folder: Path) -> bool:
    data = _read_json(folder / "load.json")
    if data is None:
        return False
    target = data.get("target") or {}
    scenario = (data.get("scenario") or {}).get("name")
    _insert(conn, {
        "folder": str(folder), "id": short_id(folder), "kind": LOAD,
        "run_id": str(data.get("run", folder.name)),
        "system": str(target.get("file", "?")), "target": str(target.get("file", "?")),
        "target_name": f"{target.get('name')} — {scenario}", "profile": target.get("kind"),
        "catalog": None, "verdict": "met" if data.get("passed") else "not-met",
        "started": started_from_name(folder.name), "signature": "unsigned"})
    return True


def _folders(roots: Iterable[Path]) -> Iterator[tuple[str, Path]]:
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for name, kind in ((CERTIFICATE, CERTIFICATION), ("selftest.json", SELFTEST),
                           ("load.json", LOAD)):
            for found in sorted(root.rglob(name)):
                yield kind, found.parent.resolve()


def index_runs(db: Path, roots: Iterable[Path]) -> Indexed:
    """Index every run folder under ``roots`` (again: rows replaced, never doubled); runs whose
    folder is gone are dropped."""
    added = 0
    with connect(db) as conn:
        for row in conn.execute("SELECT folder FROM runs").fetchall():
            if not Path(row["folder"]).is_dir():
                conn.execute("DELETE FROM runs WHERE folder = ?", (row["folder"],))
        selftests = {}
        for kind, folder in _folders(roots):
            if kind == SELFTEST:
                selftests[folder] = short_id(folder)
        for kind, folder in _folders(roots):
            if kind == CERTIFICATION:
                parent = next((sid for sf, sid in selftests.items() if sf in folder.parents),
                              None)
                added += _index_certification(conn, folder, parent)
            elif kind == SELFTEST:
                added += _index_selftest(conn, folder)
            else:
                added += _index_load(conn, folder)
        total = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    return Indexed(added, total)
