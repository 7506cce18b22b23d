"""The system and the gov-private API gateway: nothing of a person once their consent is revoked
(docs/domain.md invariant 7), the gateway's 429 and Retry-After honoured, and a gateway that
does not answer never turning into a wrong result."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest

from meshcert_suites.private_service.conftest import (
    Gateway,
    Person,
    System,
    ensure_nobody_signed_in,
    ensure_signed_in,
)

RETRY_AFTER_S = 2
SLACK_S = 0.1
POLL_S = 0.2
STALL_MS = 6000              # the gateway's silence in the timeout test
ANSWER_WITHIN_S = 10.0


def _arrival(exchange: dict) -> float:
    return datetime.fromisoformat(exchange["at"]).timestamp()


@pytest.mark.requirement("RP-CONSENT-REVOKE-001")
def test_after_revocation_the_system_shows_nothing_of_the_person(
        system: System, gateway: Gateway, person: Person):
    login = system.login(person)
    ensure_signed_in(login, "a correct login before the revocation")
    gateway.revoke(system.party.client_id, person)
    ensure_nobody_signed_in(login, "the very next request after the person revoked consent")
    ensure_nobody_signed_in(login, "a later request after the person revoked consent")


@pytest.mark.requirement("RP-GW-RATE-001")
def test_after_a_429_the_system_waits_the_retry_after(
        system: System, gateway: Gateway, recorded_gateway: httpx.Client, person: Person):
    # The gateway is limiting the system when the person arrives: the first request for facts
    # (at the callback or at the me path, as the system chooses) gets the 429.
    after = gateway.last_seq()
    gateway.fault({"error": {"rate": 1.0, "status": 429, "retry_after": RETRY_AFTER_S},
                   "max_hits": 1})
    login = system.login(person)
    first = login.me()
    until = time.monotonic() + RETRY_AFTER_S + 0.5
    while time.monotonic() < until:      # the person keeps reloading the page
        login.me()
        time.sleep(POLL_S)
    requests = gateway.fact_requests(recorded_gateway, after)
    limited = [e for e in requests if e["status"] == 429]
    assert limited, (f"the system did not ask the gateway for the facts when its me path was "
                     f"read (answered {first.status_code})")
    barred_until = _arrival(limited[0]) + RETRY_AFTER_S - SLACK_S
    early = [e for e in requests if e["seq"] > limited[0]["seq"] and _arrival(e) < barred_until]
    assert not early, (
        f"after a 429 with Retry-After {RETRY_AFTER_S} at {limited[0]['at']} the system asked "
        f"the gateway again {len(early)} time(s) too soon: "
        + "; ".join(f"{e['at'][11:23]} → {e['status']}" for e in early[:5]))
    if not login.shown()[1]:  # a login the 429 broke: the person logs in again afterwards
        login = system.login(person)
    ensure_signed_in(login, f"once the {RETRY_AFTER_S} s of Retry-After have passed")


@pytest.mark.requirement("RP-GW-TIMEOUT-001")
def test_a_silent_gateway_gives_an_error_never_wrong_facts(
        system: System, gateway: Gateway, person: Person):
    login = system.login(person)
    gateway.fault({"latency": STALL_MS, "max_hits": 1})
    started = time.monotonic()
    try:
        answer = login.browser.get(login.me_path, timeout=ANSWER_WITHIN_S)
    except httpx.TimeoutException:
        pytest.fail(f"the me path gave no answer within {ANSWER_WITHIN_S} s while the gateway "
                    "was silent", pytrace=False)
    took = time.monotonic() - started
    shown = person.facts_in(answer)
    if answer.is_success:
        assert set(shown) >= {"name", "birthdate"}, (
            f"while the gateway was silent the me path answered {answer.status_code} in "
            f"{took:.1f} s showing {shown or 'none'} of the person's facts — a success must "
            f"show the person's facts or be an error: {answer.text[:400]}")
    else:
        assert answer.status_code >= 500 or answer.status_code in (408, 429), (
            f"while the gateway was silent the me path answered {answer.status_code} — not an "
            f"error to try again later (408, 429, 5xx): {answer.text[:300]}")
    gateway.clear_faults()
    ensure_signed_in(login, "once the gateway answers again")
