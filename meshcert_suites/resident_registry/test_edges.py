"""Every stated window and limit at both of its edges: just inside and just outside each end.

The limits come from the committed contract (name lengths, page sizes, the token lifetime rule,
the move-out filing window) and the catalog; where time matters the edge is taken on the
target's own clock: token lifetimes against the clock its ``Date`` header shows, and the
filing window with the target's clock moved to just before and just after midnight in Japan
(the day the window counts in), through the harness's clock-skew fault
(``PUT /admin/faults/{scope}``, the admin credential) where the target offers it.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from meshcert_simulators.common.faults import RUN_HEADER  # scopes a fault plan to our requests
from meshcert_suites.resident_registry.builders import (
    JST,
    arrival,
    juminhyo_code,
    length_bounds,
    moveout_notice,
    person,
    query_bounds,
)

ACCEPTED = (200, 201, 202)
LEEWAY_S = 60  # the contract's token rule: nbf (iat) - 60 s .. exp + 60 s
MARGIN_S = 5   # how far inside / outside an edge in time (the Date header has 1 s steps)


def target_clock(client: httpx.Client) -> float:
    """The target's time now (epoch seconds), from its Date header: the midpoint of a 1 s step,
    shifted by how far our clock is from it (so edges are the target's, not ours)."""
    before = time.time()
    response = client.get("/health")
    after = time.time()
    stamp = response.headers.get("date")
    if not stamp:
        return after
    offset = parsedate_to_datetime(stamp).timestamp() + 0.5 - (before + after) / 2
    return time.time() + offset


# -- SEC-AUTH-003: a token's lifetime at both ends, with the stated leeway --------------------


def _lifetime_cases() -> list[tuple[str, int, int, bool]]:
    """(case, iat/nbf relative to now, exp relative to now, accepted?)."""
    inside, outside = LEEWAY_S - MARGIN_S, LEEWAY_S + MARGIN_S
    return [("expired-within-leeway", -600, -inside, True),
            ("expired-beyond-leeway", -600, -outside, False),
            ("not-yet-valid-within-leeway", inside, inside + 300, True),
            ("not-yet-valid-beyond-leeway", outside, outside + 300, False)]


@pytest.mark.requirement("SEC-AUTH-003")
@pytest.mark.parametrize(("case", "starts", "ends", "accepted"), _lifetime_cases(),
                         ids=[c[0] for c in _lifetime_cases()])
def test_a_token_is_accepted_just_inside_its_lifetime_and_refused_just_outside(
        harness, lg, request, case, starts, ends, accepted):
    path = f"/municipalities/{lg}/changes?limit=1"
    with harness.client(recorder=harness.recorder_for(request.node)) as control:
        answer = control.get(path)
        if answer.status_code != 200:
            pytest.fail(f"control: reading {path} with a valid token was answered "
                        f"{answer.status_code}; no token edge can be judged", pytrace=False)
        now = target_clock(control)
    token = harness.token(now=now + starts, lifetime=ends - starts)
    with harness.client(token, recorder=harness.recorder_for(request.node)) as client:
        response = client.get(path)
    when = (f"nbf/iat {starts:+d} s and exp {ends:+d} s from the target's clock "
            f"(leeway {LEEWAY_S} s)")
    if accepted:
        assert response.status_code == 200, (
            f"a token with {when} is inside its lifetime with the stated leeway and must be "
            f"accepted; the target answered {response.status_code}: {response.text[:300]}")
    else:
        assert response.status_code == 401, (
            f"a token with {when} is outside its lifetime even with the stated leeway and "
            f"must be refused with 401; the target answered {response.status_code}: "
            f"{response.text[:300]}")


# -- CHAR-MJ-001 / ERR-SCHEMA-002: name lengths -----------------------------------------------

NAME_FIELDS = (("surname", "𠮷田"), ("given_name", "一"), ("surname_kana", "ア"),
               ("given_name_kana", "イ"))


def _named(field: str, value: str) -> dict[str, Any]:
    someone = person("境", "界", "02", kana=("キョウ", "カイ"))
    someone["name"][field] = value
    return someone


def _of_length(unit: str, length: int) -> str:
    """``length`` code points made by repeating ``unit`` (a kanji beyond the BMP counts as
    one code point, as JSON Schema counts; it is two UTF-16 units and four UTF-8 bytes)."""
    return (unit * length)[:length]


@pytest.mark.requirement("CHAR-MJ-001")
@pytest.mark.parametrize(("field", "unit"), NAME_FIELDS, ids=[f for f, _ in NAME_FIELDS])
def test_names_of_the_shortest_and_longest_stated_length_are_kept_exactly(clerk, field, unit):
    shortest, longest = length_bounds("PersonName", field)
    for length in (shortest, longest):
        value = _of_length(unit, length)
        response = clerk.move(arrival(clerk.lg, _named(field, value),
                                      on=clerk.today() - timedelta(days=7)))
        assert response.status_code in (200, 201), (
            f"a move-in whose {field} has {length} code points (the contract allows "
            f"{shortest} to {longest}) was refused with {response.status_code}: "
            f"{response.text[:300]}")
        atena = response.json()["affected"][0]["atena_number"]
        kept = clerk.read(atena)["name"][field]
        assert kept == value, (
            f"the {field} of {length} code points ({value[:6]}…) was not kept exactly: the "
            f"record of {atena} holds {len(kept)} code points ({kept[:6]}…)")


@pytest.mark.requirement("ERR-SCHEMA-002")
@pytest.mark.parametrize(("field", "unit"), NAME_FIELDS, ids=[f for f, _ in NAME_FIELDS])
def test_names_just_shorter_or_longer_than_stated_are_refused_and_nothing_is_kept(
        clerk, field, unit):
    shortest, longest = length_bounds("PersonName", field)
    for length in (shortest - 1, longest + 1):
        code = juminhyo_code()
        someone = {**_named(field, _of_length(unit, length)), "juminhyo_code": code}
        response = clerk.move(arrival(clerk.lg, someone, on=clerk.today() - timedelta(days=7)))
        assert 400 <= response.status_code < 500, (
            f"a move-in whose {field} has {length} code points (the contract allows "
            f"{shortest} to {longest}) was answered {response.status_code}, not refused with "
            f"4xx: {response.text[:300]}")
        found = clerk.find(code)
        assert found.status_code == 404, (
            f"the move-in refused for a {field} of {length} code points was kept: 住民票コード "
            f"{code} is findable ({found.status_code})")


# -- ERR-SCHEMA-002: page sizes of the feed and the log export --------------------------------

PAGED = ("/municipalities/{lg_code}/changes", "/municipalities/{lg_code}/audit-log")


@pytest.mark.requirement("ERR-SCHEMA-002")
@pytest.mark.parametrize("path", PAGED, ids=["changes", "audit-log"])
def test_page_sizes_are_served_at_both_stated_edges_and_refused_beyond(clerk, path):
    smallest, largest = query_bounds(path, "limit")
    clerk.admit(person("頁", "端", "02", kana=("ページ", "ハシ")))  # at least one entry
    url = path.format(lg_code=clerk.lg)
    for limit in (smallest, largest):
        response = clerk.client.get(url, params={"after": 0, "limit": limit})
        assert response.status_code == 200, (
            f"GET {url}?limit={limit} (the contract allows {smallest} to {largest}) was "
            f"answered {response.status_code}: {response.text[:300]}")
        entries = response.json().get("entries", [])
        assert 1 <= len(entries) <= limit, (
            f"GET {url}?limit={limit} returned {len(entries)} entries (at least one exists, at "
            f"most {limit} were asked for)")
    for limit in (smallest - 1, largest + 1):
        response = clerk.client.get(url, params={"after": 0, "limit": limit})
        assert 400 <= response.status_code < 500, (
            f"GET {url}?limit={limit} is outside the stated {smallest} to {largest} and must be "
            f"refused with 4xx; the target answered {response.status_code} "
            f"({len(response.json().get('entries', [])) if response.status_code == 200 else ''}"
            f" entries)")


# -- MOVEOUT-WINDOW-001: the filing window on both edges, either side of midnight (JST) -------


@contextlib.contextmanager
def clock_at(harness, client: httpx.Client, moment: datetime, path: str) -> Iterator[str]:
    """The target's clock at ``moment`` for POSTs to ``path`` carrying the yielded run scope
    (a clock-skew fault plan, removed afterwards); skips when the target has no such control."""
    scope = f"edge-{uuid.uuid4().hex[:12]}"
    admin = {"Authorization": f"Bearer {harness.token(['admin'])}"}
    skew = moment.timestamp() - target_clock(client)
    plan = {"match": {"method": "POST", "path_prefix": path}, "clock_skew_s": skew}
    put = client.put(f"/admin/faults/{scope}", headers=admin, json=plan)
    if put.status_code in (404, 405, 501):
        pytest.skip("the target offers no clock control (PUT /admin/faults/{scope} with "
                    "clock_skew_s, admin credential): the filing window is judged at the "
                    "target's own time of day only (test_moveout.py)")
    assert put.status_code in (200, 201), (
        f"the target refused the clock-skew plan: {put.status_code} {put.text[:300]}")
    try:
        yield scope
    finally:
        client.delete(f"/admin/faults/{scope}", headers=admin)


@pytest.mark.requirement("MOVEOUT-WINDOW-001")
def test_the_filing_window_holds_on_both_edges_just_before_and_after_midnight_in_japan(
        clerk, harness):
    before_days, after_days = 30, 10  # the catalog's window: 30 days before to 10 days after
    now = datetime.fromtimestamp(target_clock(clerk.client), JST)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), JST)
    path = f"{clerk.base}/moveout-notifications"
    for moment in (midnight - timedelta(seconds=MARGIN_S),
                   midnight + timedelta(seconds=MARGIN_S)):
        today = moment.date()  # the register's day at that moment (JST)
        cases = [(today + timedelta(days=before_days), True),
                 (today + timedelta(days=before_days + 1), False),
                 (today - timedelta(days=after_days), True),
                 (today - timedelta(days=after_days + 1), False)]
        applicants = [clerk.admit(person("際", "夜", "02", kana=("キワ", "ヨル")),
                                  on=clerk.today() - timedelta(days=60))[0] for _ in cases]
        with clock_at(harness, clerk.client, moment, path) as scope:
            answers = [clerk.client.post(path, headers={RUN_HEADER: scope},
                                         json=moveout_notice(a, moving,
                                                             destination=clerk.destination()))
                       for a, (moving, _) in zip(applicants, cases, strict=True)]
        stamped = [a.json().get("received_at") for a in answers if a.status_code in ACCEPTED]
        if stamped and abs(datetime.fromisoformat(stamped[0]) - moment) > timedelta(minutes=1):
            pytest.skip(f"the target's clock control did not move its clock (an application "
                        f"was received at {stamped[0]}, not about {moment.isoformat()})")
        for (moving, inside), answer in zip(cases, answers, strict=True):
            when = (f"a move on {moving} filed at {moment.isoformat()} (the register's day "
                    f"{today}; window {before_days} days before to {after_days} days after)")
            if inside:
                assert answer.status_code in ACCEPTED, (
                    f"{when} is inside the window but was refused with {answer.status_code}: "
                    f"{answer.text[:300]}")
            else:
                assert answer.status_code == 422, (
                    f"{when} is outside the window but was answered {answer.status_code}, not "
                    f"refused with 422: {answer.text[:300]}")
