"""The operation log: who, when, which record, whether the My Number was read; tamper-evident."""

from __future__ import annotations

import itertools
import sqlite3

from meshcert_suites.resident_registry.builders import LG, move_in, person
from tests.conftest import bearer


def admit(client, topology) -> dict:
    response = client.post(f"/municipalities/{LG}/movements", json=move_in(person()),
                           headers=bearer(topology, "demo-clerk"))
    return response.json()["affected"][0]


def export(client, topology, limit: int = 1000) -> list[dict]:
    return client.get(f"/municipalities/{LG}/audit-log", params={"limit": limit},
                      headers=bearer(topology, "demo-clerk")).json()["entries"]


def verify(client, topology) -> dict:
    return client.get(f"/municipalities/{LG}/audit-log/verification",
                      headers=bearer(topology, "demo-clerk")).json()


def test_every_read_is_logged_with_whether_the_my_number_was_seen(registry_client, topology):
    record = admit(registry_client, topology)
    path = f"/municipalities/{LG}/residents/{record['atena_number']}"
    registry_client.get(path, headers=bearer(topology, "demo-downstream"),)
    registry_client.get(path, headers=bearer(topology, "demo-tax-system"))
    reads = [e for e in export(registry_client, topology) if e["action"] == "resident.read"]
    assert [(e["operator"], e["target"], e["mynumber_accessed"]) for e in reads] == [
        ("demo-downstream", record["atena_number"], False),
        ("demo-tax-system", record["atena_number"], True)]


def test_writes_are_logged_with_operator_and_request_id(registry_client, topology):
    response = registry_client.post(
        f"/municipalities/{LG}/movements", json=move_in(person()),
        headers={**bearer(topology, "demo-clerk"), "X-Request-ID": "req-42"})
    atena = response.json()["affected"][0]["atena_number"]
    [entry] = [e for e in export(registry_client, topology) if e["action"] == "resident.move-in"]
    assert (entry["operator"], entry["target"], entry["request_id"]) == ("demo-clerk", atena,
                                                                        "req-42")


def test_the_chain_verifies_and_pages_in_order(registry_client, topology):
    for _ in range(3):
        admit(registry_client, topology)
    entries = export(registry_client, topology)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(entries))
    first = registry_client.get(f"/municipalities/{LG}/audit-log", params={"limit": 2},
                                headers=bearer(topology, "demo-clerk")).json()
    assert first["has_more"] and [e["seq"] for e in first["entries"]] == [1, 2]
    check = verify(registry_client, topology)
    assert check["valid"] and check["head_hash"] == entries[-1]["hash"]


def test_editing_a_stored_entry_is_detected(registry_client, topology, settings):
    for _ in range(3):
        admit(registry_client, topology)
    with sqlite3.connect(settings.data_dir / "municipal.sqlite3") as conn:
        conn.execute("UPDATE audit_log SET mynumber_accessed=0, operator='someone-else' "
                     "WHERE scope=? AND seq=2", (LG,))
    check = verify(registry_client, topology)
    assert check["valid"] is False and check["first_bad_seq"] == 2


def test_deleting_an_entry_is_detected(registry_client, topology, settings):
    for _ in range(3):
        admit(registry_client, topology)
    with sqlite3.connect(settings.data_dir / "municipal.sqlite3") as conn:
        conn.execute("DELETE FROM audit_log WHERE scope=? AND seq=2", (LG,))
    check = verify(registry_client, topology)
    assert check["valid"] is False and check["first_bad_seq"] == 2


def test_only_auditors_export_the_log(registry_client, topology):
    response = registry_client.get(f"/municipalities/{LG}/audit-log",
                                   headers=bearer(topology, "demo-downstream"))
    assert response.status_code == 403


def test_a_refused_read_is_logged_as_refused_without_my_number(registry_client, topology):
    missing = "9000000002"
    response = registry_client.get(f"/municipalities/{LG}/residents/{missing}",
                                   headers={**bearer(topology, "demo-tax-system"),
                                            "X-Request-ID": "req-missing"})
    assert response.status_code == 404
    [entry] = [e for e in export(registry_client, topology) if e["request_id"] == "req-missing"]
    assert (entry["action"], entry["target"], entry["mynumber_accessed"]) == (
        "resident.read.refused", missing, False)


def test_cutting_off_the_newest_entries_is_detected_by_a_checkpoint(registry_client, topology,
                                                                     settings):
    for _ in range(3):
        admit(registry_client, topology)
    page = registry_client.get(f"/municipalities/{LG}/audit-log",
                               headers=bearer(topology, "demo-clerk")).json()
    kept = page["checkpoint"]
    assert kept["seq"] == page["entries"][-1]["seq"]
    assert kept["head_hash"] == page["entries"][-1]["hash"]
    with sqlite3.connect(settings.data_dir / "municipal.sqlite3") as conn:
        conn.execute("DELETE FROM audit_log WHERE scope=? AND seq=?", (LG, kept["seq"]))
    check = verify(registry_client, topology)  # the chain alone still recomputes
    assert check["valid"] is False and check["first_bad_seq"] == kept["seq"]
    assert "cut off" in check["reason"] and check["checkpoint"] is None


def test_a_kept_checkpoint_detects_a_cut_even_when_the_stored_ones_are_gone(
        registry_client, topology, settings):
    for _ in range(2):
        admit(registry_client, topology)
    kept = registry_client.get(f"/municipalities/{LG}/audit-log",
                               headers=bearer(topology, "demo-clerk")).json()["checkpoint"]
    with sqlite3.connect(settings.data_dir / "municipal.sqlite3") as conn:
        conn.execute("DELETE FROM audit_log WHERE scope=? AND seq=?", (LG, kept["seq"]))
        conn.execute("DELETE FROM audit_checkpoints")
    url = f"/municipalities/{LG}/audit-log/verification"
    alone = registry_client.get(url, headers=bearer(topology, "demo-clerk")).json()
    assert alone["valid"] is True  # what a chain without anchors cannot see
    held = registry_client.get(url, params={"checkpoint": kept["jws"]},
                               headers=bearer(topology, "demo-clerk")).json()
    assert held["valid"] is False and held["first_bad_seq"] == kept["seq"]
    forged = kept["jws"][:-4] + ("AAAA" if not kept["jws"].endswith("AAAA") else "BBBB")
    refused = registry_client.get(url, params={"checkpoint": forged},
                                  headers=bearer(topology, "demo-clerk"))
    assert refused.status_code == 422 and "invalid-checkpoint" in refused.json()["type"]
