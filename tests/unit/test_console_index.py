"""The console's index of run folders: idempotent, signatures checked, every kind of run."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from meshcert.console.index import connect, index_runs
from meshcert.console.queries import list_runs
from tests.unit.test_console_runs import make_run

REFERENCE = "fixtures/vendors/reference-registry.yaml"


def rows(db: Path, sql: str) -> list[sqlite3.Row]:
    with connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_indexing_again_adds_nothing_twice(tmp_path: Path) -> None:
    make_run(tmp_path / "reports", "run-a")
    make_run(tmp_path / "reports", "run-b", run=1, failing=("SEC-AUTH-002",))
    db = tmp_path / "index.sqlite"
    first = index_runs(db, [tmp_path / "reports"])
    again = index_runs(db, [tmp_path / "reports", tmp_path / "reports"])
    assert (first.total, again.total) == (2, 2)
    assert rows(db, "SELECT count(*) FROM verdicts")[0][0] == \
        2 * len(rows(db, "SELECT DISTINCT requirement FROM verdicts"))
    assert rows(db, "SELECT count(*) FROM latency")[0][0] == 2


def test_a_tampered_report_is_indexed_as_not_verifying(tmp_path: Path) -> None:
    make_run(tmp_path, "good")
    make_run(tmp_path, "tampered", run=1, failing=("SEC-AUTH-002",), tamper=True)
    db = tmp_path / "index.sqlite"
    index_runs(db, [tmp_path])
    found = {Path(r["folder"]).name: r for r in rows(db, "SELECT * FROM runs")}
    assert found["good"]["signature"] == "valid"
    assert found["tampered"]["signature"] == "invalid"
    assert "signature" in found["tampered"]["signature_problem"]


def test_an_altered_evidence_file_is_named(tmp_path: Path) -> None:
    folder = make_run(tmp_path, "run-a")
    evidence = next((folder / "evidence").glob("*.json"))
    evidence.write_text(evidence.read_text(encoding="utf-8") + " ", encoding="utf-8")
    index_runs(tmp_path / "i.sqlite", [tmp_path])
    run = rows(tmp_path / "i.sqlite", "SELECT * FROM runs")[0]
    assert run["signature"] == "invalid"
    assert f"altered: evidence/{evidence.name}" in run["signature_problem"]


def test_a_run_removed_from_disk_leaves_the_index(tmp_path: Path) -> None:
    import shutil
    make_run(tmp_path, "run-a")
    gone = make_run(tmp_path, "run-b", run=1)
    db = tmp_path / "index.sqlite"
    index_runs(db, [tmp_path])
    shutil.rmtree(gone)
    assert index_runs(db, [tmp_path]).total == 1
    assert rows(db, "SELECT count(DISTINCT run) FROM verdicts")[0][0] == 1


def test_system_defect_seed_and_catalog_are_recorded(tmp_path: Path) -> None:
    make_run(tmp_path, "defective", defect="mynumber-to-everyone", seed=7,
             failing=("PRIV-MYNUM-001",))
    index_runs(tmp_path / "i.sqlite", [tmp_path])
    run = rows(tmp_path / "i.sqlite", "SELECT * FROM runs")[0]
    assert run["system"] == f"{REFERENCE} + mynumber-to-everyone"
    assert (run["seed"], run["defect"], run["reference"]) == (7, "mynumber-to-everyone", 0)
    assert run["profile"] == "resident-registry" and run["catalog"]
    assert run["verdict"] == "not-certified"


def test_selftest_and_load_folders_are_indexed(tmp_path: Path) -> None:
    selftest = tmp_path / "selftest-20261101T000000Z-aaaaaa"
    make_run(selftest, "reference")
    (selftest / "selftest.json").write_text(json.dumps({
        "profile": "resident-registry", "catalog": "2026.2", "seed": 20261126, "ok": True,
        "detection_rate_must": 1.0,
        "reference": {"report_dir": str(selftest / "reference")}, "variants": []}))
    load = tmp_path / "load-20261101T000000Z-bbbbbb"
    load.mkdir()
    (load / "load.json").write_text(json.dumps({
        "format": "meshcert-load/1", "run": load.name, "scenario": {"name": "april-peak"},
        "target": {"file": REFERENCE, "kind": "registry", "name": "reference"},
        "passed": False}))
    index_runs(tmp_path / "i.sqlite", [tmp_path])
    with connect(tmp_path / "i.sqlite") as conn:
        kinds = {r["kind"]: r for r in list_runs(conn, {})}
        assert kinds["selftest"]["verdict"] == "ok"
        assert kinds["load"]["verdict"] == "not-met"
        assert kinds["load"]["started"] == "2026-11-01T00:00:00+00:00"   # from its name
        assert kinds["certification"]["parent"] == kinds["selftest"]["id"]
        assert [r["kind"] for r in list_runs(conn, {"kind": "load"})] == ["load"]


def test_a_folder_that_is_not_a_report_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "certificate.json").write_text("not json")
    (tmp_path / "junk" / "load.json").write_text("[1, 2]")
    assert index_runs(tmp_path / "i.sqlite", [tmp_path, tmp_path / "missing"]).total == 0
