"""What the console's pages ask of the index: the run list, trends per requirement, flaky
requirements, latency over time, the comparison of two runs and the differential table."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshcert.console.exchanges import Key, Recorded, keyed, read_exchanges, shape_difference

FILTERS = ("target", "profile", "catalog", "verdict", "kind")
PASS, FAIL = "pass", "fail"


def list_runs(conn: sqlite3.Connection, filters: dict[str, str]) -> list[sqlite3.Row]:
    """Runs, newest first, filtered by equality on :data:`FILTERS` and by date (``since``,
    ``until``: ISO dates, inclusive)."""
    where, args = [], []
    for name in FILTERS:
        if filters.get(name):
            column = "system" if name == "target" else name
            where.append(f"{column} = ?")
            args.append(filters[name])
    if filters.get("since"):
        where.append("substr(started, 1, 10) >= ?")
        args.append(filters["since"])
    if filters.get("until"):
        where.append("substr(started, 1, 10) <= ?")
        args.append(filters["until"])
    sql = "SELECT * FROM runs" + (f" WHERE {' AND '.join(where)}" if where else "")
    return conn.execute(sql + " ORDER BY started DESC, run_id DESC", args).fetchall()


def facets(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The values each filter can take, for the filter form's choices."""
    found = {}
    for name in FILTERS:
        column = "system" if name == "target" else name
        found[name] = [r[0] for r in conn.execute(
            f"SELECT DISTINCT {column} FROM runs WHERE {column} IS NOT NULL ORDER BY 1")]
    return found


def run(conn: sqlite3.Connection, run_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()


def verdicts(conn: sqlite3.Connection, run_id: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM verdicts WHERE run = ? ORDER BY requirement",
                        (run_id,)).fetchall()


# -- trends ------------------------------------------------------------------------------------


@dataclass
class Trend:
    system: str
    runs: list[sqlite3.Row]                        # oldest first
    requirements: list[str]
    cells: dict[tuple[str, str], str]              # (requirement, run id) -> verdict
    first_failing: dict[str, str]                  # requirement -> run id where it first failed
    titles: dict[str, dict[str, str]] = field(default_factory=dict)


def trend(conn: sqlite3.Connection, system: str) -> Trend:
    """Every certification of one system (target file + defect), oldest first, with each
    requirement's verdict per run and the first run where it failed."""
    runs = conn.execute("SELECT * FROM runs WHERE system = ? AND kind = 'certification' "
                        "ORDER BY started, run_id", (system,)).fetchall()
    ids = [r["id"] for r in runs]
    cells: dict[tuple[str, str], str] = {}
    titles: dict[str, dict[str, str]] = {}
    if ids:
        marks = ", ".join("?" * len(ids))
        for v in conn.execute(f"SELECT * FROM verdicts WHERE run IN ({marks})", ids):
            cells[(v["requirement"], v["run"])] = v["verdict"]
            titles[v["requirement"]] = {"en": v["title_en"], "ja": v["title_ja"]}
    # A requirement no run tested (a partial run's others) would only be a row of blanks.
    tested = {req for (req, _), verdict in cells.items() if verdict != "not-tested"}
    requirements = sorted(tested or {req for req, _ in cells})
    first: dict[str, str] = {}
    for req in requirements:
        for run_id in ids:
            if cells.get((req, run_id)) == FAIL:
                first[req] = run_id
                break
    return Trend(system, list(runs), requirements, cells, first, titles)


def systems(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    """Systems with certifications, and how many runs each."""
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT system, count(*) FROM runs WHERE kind = 'certification' GROUP BY system "
        "ORDER BY count(*) DESC, system")]


def flaky(conn: sqlite3.Connection, system: str | None = None) -> list[dict[str, Any]]:
    """Requirements that both passed and failed for the same system, seed and catalog: the
    inputs were the same, so the verdict should have been."""
    sql = ("SELECT r.system, r.seed, r.catalog, v.requirement, "
           "group_concat(r.id || '=' || v.verdict) AS runs "
           "FROM verdicts v JOIN runs r ON r.id = v.run WHERE r.kind = 'certification' "
           + ("AND r.system = ? " if system else "") +
           "GROUP BY r.system, r.seed, r.catalog, v.requirement "
           "HAVING sum(v.verdict = 'pass') > 0 AND sum(v.verdict = 'fail') > 0 "
           "ORDER BY r.system, v.requirement")
    rows = conn.execute(sql, (system,) if system else ()).fetchall()
    return [{"system": r["system"], "seed": r["seed"], "catalog": r["catalog"],
             "requirement": r["requirement"],
             "runs": [tuple(item.rsplit("=", 1)) for item in r["runs"].split(",")]}
            for r in rows]


def latency_series(conn: sqlite3.Connection, system: str) -> list[dict[str, Any]]:
    """Per latency test of a system: its percentiles per run over time and the catalog target."""
    rows = conn.execute(
        "SELECT l.*, r.started, r.id AS run_id FROM latency l JOIN runs r ON r.id = l.run "
        "WHERE r.system = ? ORDER BY l.test, r.started", (system,)).fetchall()
    series: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = series.setdefault(row["test"], {
            "test": row["test"], "requirement": row["requirement"], "points": [],
            "percentile": row["target_percentile"], "threshold_ms": row["threshold_ms"]})
        entry["points"].append({k: row[k] for k in ("run_id", "started", "p50_ms", "p95_ms",
                                                   "p99_ms", "observed_ms")})
    return list(series.values())


# -- compare and differential ----------------------------------------------------------------


def _certificate(folder: str) -> dict[str, Any]:
    try:
        return json.loads((Path(folder) / "certificate.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@dataclass
class Comparison:
    a: sqlite3.Row
    b: sqlite3.Row
    requirements: list[tuple[str, str | None, str | None]]   # id, verdict in a, in b (changed)
    exchanges: list[tuple[Key, Recorded, Recorded, list[str]]]
    only_a: int
    only_b: int
    matched: int
    timings: list[tuple[str, float, float]]                  # requirement, seconds a, b


def compare(conn: sqlite3.Connection, a: sqlite3.Row, b: sqlite3.Row,
            slower: float = 1.5) -> Comparison:
    """What changed from run a to run b: requirements whose verdict changed, matched exchanges
    whose answer changed shape, and requirements whose tests took ``slower`` times as long
    (either way) and at least 0.5 s more or less."""
    va = {v["requirement"]: v["verdict"] for v in verdicts(conn, a["id"])}
    vb = {v["requirement"]: v["verdict"] for v in verdicts(conn, b["id"])}
    changed = [(req, va.get(req), vb.get(req)) for req in sorted(va.keys() | vb.keys())
               if va.get(req) != vb.get(req)]
    xa, xb = keyed(read_exchanges(Path(a["folder"]))), keyed(read_exchanges(Path(b["folder"])))
    common = sorted(xa.keys() & xb.keys())
    differing = [(k, xa[k], xb[k], diff) for k in common
                 if (diff := shape_difference(xa[k], xb[k]))]
    ta = {r["id"]: r.get("duration_s") or 0.0 for r in _certificate(a["folder"]).get(
        "requirements", [])}
    tb = {r["id"]: r.get("duration_s") or 0.0 for r in _certificate(b["folder"]).get(
        "requirements", [])}
    timings = [(req, ta[req], tb[req]) for req in sorted(ta.keys() & tb.keys())
               if abs(tb[req] - ta[req]) >= 0.5
               and max(ta[req], tb[req]) >= slower * max(min(ta[req], tb[req]), 1e-3)]
    return Comparison(a, b, changed, differing, len(xa.keys() - xb.keys()),
                      len(xb.keys() - xa.keys()), len(common), timings)


def differential_candidates(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Groups of certifications of one profile with the same seed, population and catalog, run
    of at least two systems: what the differential page can compare."""
    rows = conn.execute(
        "SELECT profile, seed, population_seed, catalog, group_concat(id) AS ids, "
        "count(DISTINCT system) AS systems FROM runs WHERE kind = 'certification' "
        "GROUP BY profile, seed, population_seed, catalog HAVING count(DISTINCT system) > 1 "
        "ORDER BY max(started) DESC").fetchall()
    return [dict(r) | {"ids": r["ids"].split(",")} for r in rows]


@dataclass
class Disagreement:
    key: Key
    reference: Recorded
    others: dict[str, Recorded]                  # run id -> its exchange (when it has one)
    differences: dict[str, list[str]]            # run id -> what differs from the reference


@dataclass
class Differential:
    reference: sqlite3.Row
    systems: list[sqlite3.Row]                   # one run per other system
    rows: list[Disagreement]
    compared: int                                # reference requests another system sent too
    unmatched: int                               # requests with no partner in the other run
    unstable: int                                # left out: the reference runs disagree
    reference_runs: int


def differential(conn: sqlite3.Connection, runs: list[sqlite3.Row]) -> Differential | None:
    """The requests of the reference that another chosen system answered in a different shape
    (a system without a partner for a request is left blank in its row). The reference is the
    bundled reference without a defect (else the first run); a second run of the reference
    system, when chosen, marks which answers vary by themselves (unstable, left out)."""
    if len(runs) < 2:
        return None
    reference = next((r for r in runs if r["reference"]), runs[0])
    same = [r for r in runs if r["system"] == reference["system"]]
    others: dict[str, sqlite3.Row] = {}
    for r in runs:
        if r["system"] != reference["system"]:
            others.setdefault(r["system"], r)
    if not others:
        return None
    ref_x = keyed(read_exchanges(Path(reference["folder"])))
    unstable: set[Key] = set()
    for again in same[1:]:
        other = keyed(read_exchanges(Path(again["folder"])))
        unstable |= {k for k in ref_x.keys() & other.keys()
                     if shape_difference(ref_x[k], other[k])}
    system_x = {r["id"]: keyed(read_exchanges(Path(r["folder"]))) for r in others.values()}
    found = []
    compared = 0
    for key in sorted(set(ref_x) - unstable):
        answers = {rid: x[key] for rid, x in system_x.items() if key in x}
        if not answers:
            continue
        compared += 1
        differences = {rid: shape_difference(ref_x[key], ex) for rid, ex in answers.items()}
        if any(differences.values()):
            found.append(Disagreement(key, ref_x[key], answers, differences))
    partnered: set[Key] = set().union(*system_x.values())
    unmatched = len(set(ref_x) - partnered) + len(partnered - set(ref_x))
    return Differential(reference, list(others.values()), found, compared, unmatched,
                        len(set(ref_x) & unstable), len(same))
