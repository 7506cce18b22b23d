"""How the inquirer retries: transient failures are retried with exponential backoff and
jitter, honouring Retry-After, until a stated time after the application arrived; then it gives
up. The policy and the clock live on ``app.state`` (negative controls replace them).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import anyio

T = TypeVar("T")


class Transient(Exception):
    """A failure worth retrying: 429, 502/503/504, a timeout, a dropped connection, a broken
    body. ``retry_after``: seconds the server asked to wait, if it did."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Refused(Exception):
    """An answer that retrying cannot change (e.g. 403 not permitted): ``status`` and the
    problem's ``body``."""

    def __init__(self, status: int, body: dict[str, object]) -> None:
        super().__init__(f"HTTP {status}: {body.get('title', '')}")
        self.status = status
        self.body = body


class GaveUp(Exception):
    """Still failing when the stated time ran out (or no attempt was left)."""

    def __init__(self, what: str, attempts: int, last: str | None) -> None:
        super().__init__(f"{what}: gave up after {attempts} attempt(s); last failure: {last}")
        self.attempts = attempts
        self.last = last


class Clock:
    """Wall time (deadlines survive a restart) and sleeping."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    give_up_within_s: float = 4.0   # the stated time, from the application's arrival
    attempt_timeout_s: float = 1.5  # one attempt, body included
    base_s: float = 0.25
    factor: float = 2.0
    cap_s: float = 2.0
    jitter: float = 0.2             # each wait is stretched by up to this fraction
    max_attempts: int | None = None  # None: as many as fit in the stated time
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based), before jitter."""
        return min(self.cap_s, self.base_s * self.factor ** (attempt - 1))

    def wait(self, attempt: int, retry_after: float | None) -> float:
        jittered = self.backoff(attempt) * (1 + self.jitter * self.rng.random())
        # Never sooner than the server asked.
        return max(jittered, retry_after) if retry_after is not None else jittered


async def with_retries(what: str, call: Callable[[], Awaitable[T]], deadline: datetime,
                       policy: RetryPolicy, clock: Clock) -> T:
    """``call()`` until it succeeds; Transient failures and attempts longer than the attempt
    timeout are retried. Raises GaveUp when a wait would pass ``deadline``, Refused at once."""
    attempt = 0
    last: str | None = None
    while True:
        remaining = (deadline - clock.now()).total_seconds()
        if remaining <= 0:
            raise GaveUp(what, attempt, last)
        attempt += 1
        retry_after: float | None = None
        try:
            with anyio.fail_after(min(policy.attempt_timeout_s, remaining)):
                return await call()
        except TimeoutError:
            last = f"no complete answer within {policy.attempt_timeout_s:g} s"
        except Transient as exc:
            last, retry_after = exc.reason, exc.retry_after
        if policy.max_attempts is not None and attempt >= policy.max_attempts:
            raise GaveUp(what, attempt, last)
        wait = policy.wait(attempt, retry_after)
        if wait >= (deadline - clock.now()).total_seconds():
            raise GaveUp(what, attempt, last)  # the next attempt would come too late
        await clock.sleep(wait)
