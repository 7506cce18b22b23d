"""The copy path (PRV-COPY-001, DOMAIN.md §4 副本 and §6.6): on its publish trigger a provider
registers its copies at the J-LIS intermediate server with the publication window it was asked
for, and J-LIS serves none of them outside that window.

The rule: ``POST {publish_path}`` with ``{"delay_s": D}`` registers, for every person the
provider holds and each item it provides, a copy whose publication starts D seconds after the
trigger (within the clock tolerance) and has no end or one after its start; its payload is the
item's payload (the figures held). The harness reads what arrived at its J-LIS (J-LIS's exchange
capture: each registration and J-LIS's answer), then asks J-LIS itself as the mesh does on the
copy path: now, before the start, it answers "no data" (02); with J-LIS's own clock moved past
the start (a clock-skew fault plan, for the harness's asks only) it serves each copy (01), and
past a stated end, none again. D is an hour, so no test waits for a window to open.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from meshcert.harness import Harness

DELAY_S = 3600
CHECKED = 3  # seeded persons asked at J-LIS before, inside and after the window
CLOCK_TOLERANCE = timedelta(seconds=2)  # between the provider's clock and the harness's
INSIDE_S = 60  # how far past the start J-LIS's clock is moved to ask inside the window


def _registrations(jlis, cursor: int) -> dict[tuple[str, str], tuple[int | None, dict]]:
    """(符号, item) → (J-LIS's status, the registration body) of the copies that arrived."""
    found = {}
    for exchange in jlis.exchanges(cursor)["exchanges"]:
        if exchange["method"] != "PUT":
            continue
        code, item = exchange["path"].rstrip("/").split("/")[-2:]
        try:
            body = json.loads(exchange["request_body"] or "{}")
        except ValueError:
            body = {}
        found[(code, item)] = (exchange["status"], body if isinstance(body, dict) else {})
    return found


def _window(body: dict) -> tuple[datetime, datetime | None]:
    start = datetime.fromisoformat(body["publication_start"])
    end = body.get("publication_end")
    return start, datetime.fromisoformat(end) if end else None


@pytest.mark.requirement("PRV-COPY-001")
def test_copies_are_registered_with_the_asked_window_and_served_only_inside_it(
        harness: Harness, jlis, provider, persons, item, request):
    if provider.publish_path is None:
        pytest.skip("the target states no copy path (provider.publish_path is null)")
    cursor = jlis.exchanges(0, path_prefix="/nothing")["last_seq"]
    triggered = datetime.now(UTC)
    with harness.client(harness.token(["admin"]),
                        recorder=harness.recorder_for(request.node)) as admin:
        published = admin.post(provider.publish_path, json={"delay_s": DELAY_S})
    answered = datetime.now(UTC)
    assert published.status_code == 200, (
        f"the publish trigger {provider.publish_path} was answered {published.status_code}: "
        f"{published.text[:300]}")
    earliest = triggered + timedelta(seconds=DELAY_S) - CLOCK_TOLERANCE
    latest = answered + timedelta(seconds=DELAY_S) + CLOCK_TOLERANCE

    registered = _registrations(jlis, cursor)
    for person in persons:
        assert (person.code, item) in registered, (
            f"no copy of item {item} for 符号 {person.code} reached J-LIS after the publish "
            f"trigger ({len(registered)} registrations arrived)")
        status, body = registered[(person.code, item)]
        assert status in (200, 201), f"J-LIS refused the copy of {person.code}: {status}"
        start, end = _window(body)
        assert earliest <= start <= latest, (
            f"the copy of {person.code} is published from {start.isoformat()}; the trigger "
            f"({triggered.isoformat()}) asked for {DELAY_S} s after it")
        assert end is None or end > start, f"an empty publication window: {body}"
        held = {k: (body.get("payload") or {}).get(k) for k in person.figures}
        assert held == person.figures, (
            f"the copy of {person.code} carries {held}, the provider holds {person.figures}")

    checked = persons[:CHECKED]
    for person in checked:  # before the window: J-LIS holds the copy but serves none
        answer = jlis.ask(person.code, item)
        [entry] = answer.json()["items"]
        assert entry["status"] == "02" and entry["payload"] is None, (
            f"J-LIS served the copy of {person.code} before its window opens "
            f"({_window(registered[(person.code, item)][1])[0].isoformat()}): "
            f"{answer.text[:300]}")

    starts = [_window(registered[(p.code, item)][1])[0] for p in checked]
    inside = (max(starts) - datetime.now(UTC)).total_seconds() + INSIDE_S
    with jlis.clock_moved(inside) as run:
        for person in checked:  # inside the window: J-LIS serves the copy
            answer = jlis.ask(person.code, item, run=run)
            [entry] = answer.json()["items"]
            assert entry["status"] == "01", (
                f"inside its window J-LIS has no copy of {person.code}: {answer.text[:300]}")
            served = {k: entry["payload"].get(k) for k in person.figures}
            assert served == person.figures, (
                f"J-LIS serves {served} for {person.code}; the provider holds {person.figures}")
    ends = [end for p in checked if (end := _window(registered[(p.code, item)][1])[1])]
    if ends:  # a stated end: after it, none again
        beyond = (max(ends) - datetime.now(UTC)).total_seconds() + INSIDE_S
        with jlis.clock_moved(beyond) as run:
            for person in checked:
                [entry] = jlis.ask(person.code, item, run=run).json()["items"]
                assert entry["status"] == "02", (
                    f"J-LIS served the copy of {person.code} after its window closed")
