"""A sliding-window rate limit per client key (messages per minute)."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable


class RateLimited(Exception):
    """Too many messages; ``retry_after`` seconds until the next one is accepted."""

    def __init__(self, limit: int, retry_after: float) -> None:
        super().__init__(f"too many messages: at most {limit} per minute; try again in {retry_after:.0f} s")
        self.retry_after = retry_after


class RateLimiter:
    """At most ``per_minute`` hits per key in any 60-second window."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def hit(self, key: str) -> None:
        """Count one message for ``key``, or raise RateLimited."""
        now = self._clock()
        hits = self._hits[key]
        while hits and now - hits[0] >= 60.0:
            hits.popleft()
        if len(hits) >= self.per_minute:
            raise RateLimited(self.per_minute, 60.0 - (now - hits[0]))
        hits.append(now)
