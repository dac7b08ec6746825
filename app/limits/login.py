"""Login throttling: failed attempts counted per (username, IP), per username and per IP.

A failed login costs an argon2 verification, so the limits also cap how much CPU one guesser can
burn. Counting per (username, IP) alone let one address try every username, and rotating
addresses try one username without end; the per-username and per-IP budgets close both. The
counts live in a Window, shared through Redis when nodes share one, so adding nodes does not
multiply the guesses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.limits.window import MemoryWindow, Window


class LoginRateLimited(Exception):
    """Too many failed logins; carries the wait in seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many login attempts; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass
class LoginRateLimiter:
    """Refuses a login once any of its budgets of failures within ``window_s`` is spent."""

    max_failures: int = 5  # per (username, IP)
    max_user_failures: int = 20  # per username, from any address
    max_ip_failures: int = 50  # per address, for any username
    window_s: float = 300.0
    window: Window = field(default_factory=MemoryWindow)

    def __post_init__(self) -> None:
        if min(self.max_failures, self.max_user_failures, self.max_ip_failures) < 1:
            raise ValueError("max_failures must be >= 1")
        if self.window_s <= 0:
            raise ValueError("window_s must be > 0")

    def _budgets(self, username: str, ip: str) -> list[tuple[str, int]]:
        user = username.strip().lower()  # 'Alice' and 'alice' share one budget
        return [
            (f"login:pair:{user}|{ip}", self.max_failures),
            (f"login:user:{user}", self.max_user_failures),
            (f"login:ip:{ip}", self.max_ip_failures),
        ]

    def check(self, username: str, ip: str) -> None:
        """Raise LoginRateLimited when any budget of this login is used up."""
        for key, limit in self._budgets(username, ip):
            retry = self.window.peek(key, limit, self.window_s)
            if retry is not None:
                raise LoginRateLimited(max(1, math.ceil(retry)))

    def record_failure(self, username: str, ip: str) -> None:
        """Count one failed attempt against every budget."""
        for key, limit in self._budgets(username, ip):
            self.window.hit(key, limit + 1, self.window_s)  # counting only; check() refuses

    def reset(self, username: str, ip: str) -> None:
        """Forget this (username, IP)'s failures after a successful login."""
        self.window.reset(self._budgets(username, ip)[0][0], self.window_s)
