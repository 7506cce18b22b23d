"""The copy path (PRV-COPY-001, docs/domain.md §4 副本 and §6.6): on its publish trigger a provider
registers its copies at the J-LIS intermediate server with the publication window it was asked
for, and J-LIS serves none of them outside that window.

The rule (the contract's ``PublishRequest``): ``POST {publish_path}`` with
``{"delay_s": D, "duration_s": E}`` registers, for every person the provider holds and each item
it provides, a copy published from D seconds after the trigger (within the clock tolerance)
until E seconds after that start; its payload is the item's payload (the figures held). The
window is observable: the harness reads each copy's window as J-LIS registered it
(``GET /v1/copies/{institution}/{符号}/{item}/versions``, the J-LIS contract) and what arrived
(J-LIS's exchange capture), then asks J-LIS as the mesh does on the copy path with J-LIS's own
clock moved to each edge of the window (a clock-skew fault plan, for the harness's asks only):
just before the start and from the end on it answers "no data" (02), just after the start and
just before the end it serves the copy (01). So a start too early and an end a day late are
both caught, at the edge. D is an hour and E a day: no test waits for a window.

When J-LIS fails a registration — each way the harness can make it fail: 503, 429, 502, 504
answers, a dropped connection, a slow body — the provider may retry or give up, but a copy J-LIS
did not take is never reported as published: a publish trigger answered 200 means J-LIS serves
the figures held now.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from meshcert import Harness, ensure_harness_ok
from meshcert_suites.information_provider.contract import Contract
from meshcert_suites.information_provider.mesh_side import Person, seed_persons

DELAY_S = 3600
DURATION_S = 86400
CHECKED = 2  # seeded persons asked at J-LIS at each edge of their window
CLOCK_TOLERANCE = timedelta(seconds=2)  # between the provider's clock and the harness's
EDGE = timedelta(seconds=2)  # "just" inside or outside an edge (J-LIS runs on the harness's clock)
# How the harness makes J-LIS fail one registration (a fault plan hitting it once).
JLIS_FAILURES = {
    "503 with Retry-After": {"error": {"rate": 1, "status": 503, "retry_after": 1}},
    "429 with Retry-After": {"error": {"rate": 1, "status": 429, "retry_after": 1}},
    "502": {"error": {"rate": 1, "status": 502}},
    "504": {"error": {"rate": 1, "status": 504}},
    "a dropped connection": {"drop": {"rate": 1}},
    "a slow body": {"slow_body": {"chunk_bytes": 32, "delay_ms": 20}},
}


def _changed(figures: dict, contract: Contract, n: int) -> dict:
    """Figures other than ``figures``: the tax figures with n more dependants, a defined
    service's drawn anew within its contract."""
    if "dependants" in figures:
        return {**figures, "dependants": (figures["dependants"] + n) % 31}
    rng = random.Random(f"copies-{n}")
    while (drawn := contract.figures(rng)) == figures:
        pass
    return drawn


def _arrived(jlis, cursor: int) -> dict[tuple[str, str], tuple[int | None, dict]]:
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


def _registered_window(jlis, institution: str, code: str, item: str
                       ) -> tuple[datetime, datetime | None]:
    """The window of the newest copy J-LIS holds for (符号, item), as it registered it."""
    response = jlis.client.get(f"/v1/copies/{institution}/{code}/{item}/versions",
                               headers=jlis.admin)
    # J-LIS lists no copy as an empty list: any other answer is the harness's J-LIS failing.
    ensure_harness_ok(response, f"read the copies registered for {code} at J-LIS")
    copies = response.json()["copies"]
    assert copies, f"J-LIS holds no copy of item {item} for 符号 {code}"
    newest = copies[-1]
    end = newest["publication_end"]
    return (datetime.fromisoformat(newest["publication_start"]),
            datetime.fromisoformat(end) if end else None)


def _served_at(jlis, moment: datetime, code: str, item: str) -> dict:
    """J-LIS's answer for (符号, item) with its clock at ``moment``."""
    with jlis.clock_moved((moment - datetime.now(UTC)).total_seconds()) as run:
        answer = jlis.ask(code, item, run=run)
    assert answer.status_code == 200, f"J-LIS answered {answer.status_code}: {answer.text[:300]}"
    [entry] = answer.json()["items"]
    return dict(entry)


@pytest.mark.requirement("PRV-COPY-001")
def test_copies_are_registered_with_the_asked_window_and_served_only_inside_it(
        harness: Harness, jlis, provider, persons, item, request):
    if provider.publish_path is None:
        pytest.skip("the target states no copy path (provider.publish_path is null)")
    institution = harness.topology.institution(provider.institution)
    assert institution is not None and institution.client, (
        f"the harness topology has no institution {provider.institution!r} with a client")
    cursor = jlis.exchanges(0, path_prefix="/nothing")["last_seq"]
    triggered = datetime.now(UTC)
    with harness.client(harness.token(["admin"]),
                        recorder=harness.recorder_for(request.node)) as admin:
        published = admin.post(provider.publish_path,
                               json={"delay_s": DELAY_S, "duration_s": DURATION_S})
    answered = datetime.now(UTC)
    assert published.status_code == 200, (
        f"the publish trigger {provider.publish_path} was answered {published.status_code}: "
        f"{published.text[:300]}")
    earliest = triggered + timedelta(seconds=DELAY_S) - CLOCK_TOLERANCE
    latest = answered + timedelta(seconds=DELAY_S) + CLOCK_TOLERANCE

    arrived = _arrived(jlis, cursor)
    windows = {}
    for person in persons:
        assert (person.code, item) in arrived, (
            f"no copy of item {item} for 符号 {person.code} reached J-LIS after the publish "
            f"trigger ({len(arrived)} registrations arrived)")
        status, body = arrived[(person.code, item)]
        assert status in (200, 201), f"J-LIS refused the copy of {person.code}: {status}"
        held = {k: (body.get("payload") or {}).get(k) for k in person.figures}
        assert held == person.figures, (
            f"the copy of {person.code} carries {held}, the provider holds {person.figures}")
        start, end = windows[person.code] = _registered_window(jlis, institution.client,
                                                               person.code, item)
        assert earliest <= start <= latest, (
            f"the copy of {person.code} is published from {start.isoformat()}; the trigger "
            f"({triggered.isoformat()}) asked for {DELAY_S} s after it")
        assert end is not None and abs(end - start - timedelta(seconds=DURATION_S)) \
            <= CLOCK_TOLERANCE, (
            f"the copy of {person.code} is published until "
            f"{end.isoformat() if end else 'no end'}; the trigger asked for {DURATION_S} s "
            f"after its start {start.isoformat()}")

    for person in persons[:CHECKED]:  # J-LIS's clock at each edge of the registered window
        start, end = windows[person.code]
        assert end is not None
        for moment, inside in ((start - EDGE, False), (start + EDGE, True),
                               (end - EDGE, True), (end + EDGE, False)):
            entry = _served_at(jlis, moment, person.code, item)
            side = "inside" if inside else "outside"
            where = (f"with J-LIS's clock at {moment.isoformat()}, {side} the window "
                     f"{start.isoformat()} – {end.isoformat()}")
            if not inside:
                assert entry["status"] == "02" and entry.get("payload") is None, (
                    f"J-LIS served the copy of {person.code} {where}: {entry}")
                continue
            assert entry["status"] == "01", f"J-LIS has no copy of {person.code} {where}"
            served = {k: (entry.get("payload") or {}).get(k) for k in person.figures}
            assert served == person.figures, (
                f"J-LIS serves {served} for {person.code} {where}; the provider holds "
                f"{person.figures}")


@pytest.mark.requirement("PRV-COPY-001")
def test_a_copy_jlis_did_not_take_is_never_reported_as_published(
        harness: Harness, jlis, provider, persons, item, contract, request):
    if provider.publish_path is None:
        pytest.skip("the target states no copy path (provider.publish_path is null)")
    institution = harness.topology.institution(provider.institution)
    assert institution is not None and institution.client
    recorder = harness.recorder_for(request.node)
    person = persons[-1]
    admin = harness.client(harness.token(["admin"]), recorder=recorder)
    try:
        for n, (kind, fault) in enumerate(JLIS_FAILURES.items(), start=1):
            held = _changed(person.figures, contract, n)
            seed_persons(harness, provider, [Person(person.code, held)], recorder)
            plan = {"match": {"method": "PUT", "path_prefix":
                              f"/v1/copies/{institution.client}/{person.code}/"},
                    "max_hits": 1, **fault}
            with jlis.fault(plan, scope="global"):  # the provider's own requests carry no run
                published = admin.post(provider.publish_path,
                                       json={"delay_s": DELAY_S, "duration_s": DURATION_S})
            if published.status_code != 200:
                continue  # it gave up and said so
            start, _ = _registered_window(jlis, institution.client, person.code, item)
            entry = _served_at(jlis, start + EDGE, person.code, item)
            served = {k: (entry.get("payload") or {}).get(k) for k in held}
            assert served == held, (
                f"J-LIS failed the registration of {person.code}'s copy ({kind}); the publish "
                f"trigger still answered 200 ({published.text[:200]}), but J-LIS serves "
                f"{served}, not the figures held now {held}")
    finally:
        seed_persons(harness, provider, [person], recorder)  # as the other tests know them
        admin.close()
