"""The reference inquirer's rules: 児童手当 amounts by age and rank, the retry policy (backoff,
jitter, Retry-After) and the retry loop's deadline."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from meshcert_simulators.childallowance.allowance import monthly_amounts
from meshcert_simulators.childallowance.mesh_client import retry_after_seconds
from meshcert_simulators.childallowance.retry import (
    Clock,
    GaveUp,
    Refused,
    RetryPolicy,
    Transient,
    with_retries,
)

TODAY = date(2026, 11, 26)


def test_amounts_by_age_under_three_and_to_high_school():
    assert monthly_amounts([date(2025, 1, 10), date(2020, 1, 10)], TODAY) == [15_000, 10_000]


def test_the_third_child_gets_30000_whatever_its_age():
    births = [date(2012, 5, 1), date(2016, 5, 1), date(2019, 5, 1)]  # listed eldest first
    assert monthly_amounts(births, TODAY) == [10_000, 10_000, 30_000]
    assert monthly_amounts(list(reversed(births)), TODAY) == [30_000, 10_000, 10_000]


def test_a_child_past_high_school_age_is_not_paid_but_still_counts_for_the_third():
    # Born 2007-06-01: reached 18 on 2025-05-31, paid until 2026-03-31, counted until 22.
    births = [date(2007, 6, 1), date(2015, 1, 1), date(2024, 1, 1)]
    assert monthly_amounts(births, TODAY) == [0, 10_000, 30_000]


def test_paid_until_the_31_march_after_the_18th_birthday():
    born = date(2008, 4, 2)  # reaches 18 on 2026-04-01: paid until 2027-03-31
    assert monthly_amounts([born], date(2027, 3, 31)) == [10_000]
    assert monthly_amounts([born], date(2027, 4, 1)) == [0]
    early = date(2008, 4, 1)  # reaches 18 on 2026-03-31: paid until that day
    assert monthly_amounts([early], date(2026, 3, 31)) == [10_000]
    assert monthly_amounts([early], date(2026, 4, 1)) == [0]


def test_backoff_doubles_with_bounded_jitter_up_to_the_cap():
    policy = RetryPolicy(base_s=0.25, factor=2, cap_s=2.0, jitter=0.2, rng=random.Random(1))
    for attempt, base in [(1, 0.25), (2, 0.5), (3, 1.0), (4, 2.0), (7, 2.0)]:
        waits = [policy.wait(attempt, None) for _ in range(200)]
        assert base <= min(waits) and max(waits) <= base * 1.2
        assert max(waits) - min(waits) > base * 0.1  # jitter spreads them


def test_retry_after_is_a_floor_never_shortened():
    policy = RetryPolicy(rng=random.Random(2))
    assert policy.wait(1, 3.0) == 3.0
    assert policy.wait(4, 0.1) >= 2.0  # a long backoff is kept


def test_retry_after_in_seconds_or_as_an_http_date():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= retry_after_seconds(later.strftime("%a, %d %b %Y %H:%M:%S GMT")) <= 31


class _NoWait(Clock):
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def _run(calls: list[object], policy: RetryPolicy, clock: Clock, within_s: float = 60):
    made = []

    async def call() -> object:
        made.append(1)
        outcome = calls[len(made) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    deadline = datetime.now(UTC) + timedelta(seconds=within_s)
    return asyncio.run(with_retries("test", call, deadline, policy, clock)), len(made)


def test_transient_failures_are_retried_waiting_as_asked():
    clock = _NoWait()
    result, made = _run([Transient("503", retry_after=2), Transient("drop"), "ok"],
                        RetryPolicy(jitter=0, rng=random.Random(3)), clock)
    assert (result, made) == ("ok", 3)
    assert clock.slept == [2.0, 0.5]


def test_a_refusal_is_not_retried():
    with pytest.raises(Refused):
        _run([Refused(403, {"title": "not permitted"}), "ok"], RetryPolicy(), _NoWait())


def test_it_gives_up_rather_than_wait_past_the_deadline():
    clock = _NoWait()
    with pytest.raises(GaveUp) as failed:
        _run([Transient("503", retry_after=5), "ok"], RetryPolicy(), clock, within_s=3)
    assert clock.slept == [] and failed.value.attempts == 1


def test_an_attempt_is_cut_at_the_attempt_timeout():
    async def hang() -> None:
        await asyncio.sleep(10)

    policy = RetryPolicy(attempt_timeout_s=0.05, jitter=0, base_s=0.01)
    started = time.monotonic()
    with pytest.raises(GaveUp) as failed:
        asyncio.run(with_retries("hang", hang, datetime.now(UTC) + timedelta(seconds=0.3),
                                 policy, Clock()))
    assert time.monotonic() - started < 1.0
    assert failed.value.attempts >= 3 and "0.05 s" in str(failed.value)
