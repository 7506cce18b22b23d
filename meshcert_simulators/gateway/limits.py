"""Per-client rate limits: a token bucket per client (``rate_limit_per_s`` tokens a second, as
many at most), kept in memory — a limit is a setting of the running gateway, not a record.
An empty bucket answers how long until the next token (Retry-After, whole seconds, >= 1)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimits:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, client_id: str, per_second: int) -> int | None:
        """Take one token; None when there was one, else the seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(client_id, (float(per_second), now))
            tokens = min(float(per_second), tokens + (now - at) * per_second)
            if tokens >= 1.0:
                self._buckets[client_id] = (tokens - 1.0, now)
                return None
            self._buckets[client_id] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / per_second))

    def reset(self, client_id: str) -> None:
        with self._lock:
            self._buckets.pop(client_id, None)
