"""Login throttling per (username, client IP): a sliding window of failed attempts."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field


class LoginRateLimited(Exception):
    """Too many failed logins for this username from this address; carries the wait in seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many login attempts; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass
class LoginRateLimiter:
    """Refuses a login after ``max_failures`` failures within ``window_s`` for the same key.

    In-process state is enough for one web process; a failed login costs an argon2 verification,
    so the limit also caps how much CPU one guesser can burn.
    """

    max_failures: int = 5
    window_s: float = 300.0
    max_keys: int = 10_000
    _failures: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError("max_failures must be >= 1")
        if self.window_s <= 0:
            raise ValueError("window_s must be > 0")

    @staticmethod
    def key(username: str, ip: str) -> tuple[str, str]:
        """Usernames are case-insensitive here so 'Alice' and 'alice' share one budget."""
        return (username.strip().lower(), ip)

    def check(self, username: str, ip: str, now: float) -> None:
        """Raise LoginRateLimited when this key has used up its failures in the window."""
        with self._lock:
            times = self._recent(self.key(username, ip), now)
            if len(times) >= self.max_failures:
                raise LoginRateLimited(max(1, math.ceil(times[0] + self.window_s - now)))

    def record_failure(self, username: str, ip: str, now: float) -> None:
        """Count one failed attempt."""
        with self._lock:
            if len(self._failures) >= self.max_keys:
                self._evict(now)
            key = self.key(username, ip)
            self._recent(key, now)
            self._failures.setdefault(key, deque()).append(now)

    def reset(self, username: str, ip: str) -> None:
        """Forget failures after a successful login."""
        with self._lock:
            self._failures.pop(self.key(username, ip), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def _evict(self, now: float) -> None:
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]
        if len(self._failures) >= self.max_keys:  # still full: drop the oldest half
            for key in list(self._failures)[: self.max_keys // 2]:
                del self._failures[key]
