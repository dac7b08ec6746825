"""Fixed counting windows, in Redis (shared by every node) or in process (one machine).

Both count the same way (per key, per aligned window of ``window_s``), so a limit means the same
on one machine as in a cluster. Redis keys expire with their window, and the in-process table
drops finished windows, so keys from one-off clients never pile up.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)
Clock = Callable[[], float]


class Window(Protocol):
    """Counts hits per key in aligned windows."""

    def hit(self, key: str, limit: int, window_s: float) -> float | None:
        """Count one hit; None if within ``limit``, else seconds until the window ends."""

    def peek(self, key: str, limit: int, window_s: float) -> float | None:
        """Like hit, without counting."""

    def reset(self, key: str, window_s: float) -> None:
        """Forget the key's current window."""


def _bucket(now: float, window_s: float) -> tuple[int, float]:
    index = math.floor(now / window_s)
    return index, max(0.001, (index + 1) * window_s - now)


class MemoryWindow:
    """In-process windows for a single node (or when Redis cannot be reached)."""

    def __init__(self, clock: Clock = time.time, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window index, count)
        self._lock = threading.Lock()

    def _current(self, key: str, window_s: float) -> tuple[int, int, float]:
        index, left = _bucket(self._clock(), window_s)
        seen, count = self._counts.get(key, (index, 0))
        return index, (count if seen == index else 0), left

    def hit(self, key: str, limit: int, window_s: float) -> float | None:
        """Count one hit; None if within ``limit``, else seconds until the window ends."""
        with self._lock:
            index, count, left = self._current(key, window_s)
            if count >= limit:
                return left
            if key not in self._counts and len(self._counts) >= self._max_keys:
                self._evict(window_s)
            self._counts[key] = (index, count + 1)
            return None

    def peek(self, key: str, limit: int, window_s: float) -> float | None:
        """Like hit, without counting."""
        with self._lock:
            _, count, left = self._current(key, window_s)
            return left if count >= limit else None

    def reset(self, key: str, window_s: float) -> None:
        """Forget the key's current window."""
        with self._lock:
            self._counts.pop(key, None)

    def __len__(self) -> int:
        return len(self._counts)

    def _evict(self, window_s: float) -> None:
        index, _ = _bucket(self._clock(), window_s)
        for key, (seen, _) in list(self._counts.items()):
            if seen < index:
                del self._counts[key]
        if len(self._counts) >= self._max_keys:  # all current: drop the oldest half rather than grow
            for key in list(self._counts)[: self._max_keys // 2]:
                del self._counts[key]


class RedisWindow:
    """Windows in Redis, shared by every node; falls back to in-process counts while Redis is down."""

    def __init__(self, url: str, prefix: str = "sb:limit:", clock: Clock = time.time) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._prefix = prefix
        self._clock = clock
        self.fallback = MemoryWindow(clock)

    def _key(self, key: str, window_s: float) -> tuple[str, float]:
        index, left = _bucket(self._clock(), window_s)
        return f"{self._prefix}{key}:{window_s:g}:{index}", left

    def hit(self, key: str, limit: int, window_s: float) -> float | None:
        """Count one hit; None if within ``limit``, else seconds until the window ends."""
        name, left = self._key(key, window_s)
        try:
            pipe = self._redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, math.ceil(window_s) + 1)
            count = int(pipe.execute()[0])
        except self._errors:
            log.warning("rate-limit store unreachable; counting in this process until it is back")
            return self.fallback.hit(key, limit, window_s)
        return left if count > limit else None

    def peek(self, key: str, limit: int, window_s: float) -> float | None:
        """Like hit, without counting."""
        name, left = self._key(key, window_s)
        try:
            count = int(self._redis.get(name) or 0)
        except self._errors:
            return self.fallback.peek(key, limit, window_s)
        return left if count >= limit else None

    def reset(self, key: str, window_s: float) -> None:
        """Forget the key's current window."""
        name, _ = self._key(key, window_s)
        self.fallback.reset(key, window_s)
        try:
            self._redis.delete(name)
        except self._errors:
            pass


def make_window(redis_url: str | None, prefix: str = "sb:limit:", clock: Clock = time.time) -> Window:
    """Redis windows when nodes share a Redis, else in-process ones."""
    return RedisWindow(redis_url, prefix, clock) if redis_url else MemoryWindow(clock)
