"""The PULL difference feed: stable order, no entry skipped or repeated while writes go on."""

from __future__ import annotations

import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshcert_suites.resident_registry.builders import LG, move_in, person
from tests.conftest import TestClient, bearer


def page(client, topology, after: int, limit: int) -> dict:
    response = client.get(f"/municipalities/{LG}/changes", params={"after": after, "limit": limit},
                          headers=bearer(topology, "demo-downstream"))
    assert response.status_code == 200, response.text
    return response.json()


def drain(client, topology, after: int, limit: int) -> tuple[list[dict], int]:
    entries: list[dict] = []
    while True:
        body = page(client, topology, after, limit)
        entries += body["entries"]
        after = body["next_after"]
        if not body["has_more"]:
            return entries, after


def test_pages_cover_every_change_once_while_writes_happen(registry_client, topology):
    writer = TestClient(registry_client.app)  # a second connection writing concurrently
    total = 60
    done = threading.Event()

    def write() -> None:
        for i in range(total):
            writer.post(f"/municipalities/{LG}/movements",
                        json=move_in(person(given=f"T{i}", kana=("ヤマダ", "タロウ")),
                                     event_id=f"w{i}"),
                        headers=bearer(topology, "demo-clerk"))
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    seen: list[dict] = []
    after = 0
    while not done.is_set():
        got, after = drain(registry_client, topology, after, 7)
        seen += got
    thread.join()
    got, after = drain(registry_client, topology, after, 7)
    seen += got
    seqs = [e["seq"] for e in seen]
    assert seqs == sorted(set(seqs)), "entries repeated or out of order"
    assert len(seen) == total
    assert {e["record"]["name"]["given_name"] for e in seen} == {f"T{i}" for i in range(total)}


def test_an_exhausted_cursor_stays_put(registry_client, topology):
    registry_client.post(f"/municipalities/{LG}/movements", json=move_in(),
                         headers=bearer(topology, "demo-clerk"))
    first = page(registry_client, topology, 0, 10)
    again = page(registry_client, topology, first["next_after"], 10)
    assert again == {"entries": [], "next_after": first["next_after"], "has_more": False}


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=st.integers(1, 12), limit=st.integers(1, 5))
def test_any_page_size_reads_the_same_sequence(registry_client, topology, writes, limit):
    start = page(registry_client, topology, 0, 1000)["entries"]
    for i in range(writes):
        registry_client.post(f"/municipalities/{LG}/movements",
                             json=move_in(person(given=f"P{i}", kana=("ヤマダ", "タロウ"))),
                             headers=bearer(topology, "demo-clerk"))
    whole = page(registry_client, topology, 0, 1000)["entries"]
    paged, _ = drain(registry_client, topology, 0, limit)
    assert paged == whole
    assert len(whole) == len(start) + writes
