"""RateLimiter: a sliding 60-second window per key."""

from __future__ import annotations

import pytest

from app.chat.ratelimit import RateLimited, RateLimiter


def test_window_slides_per_key() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    limiter.hit("a")
    limiter.hit("a")
    with pytest.raises(RateLimited, match="at most 2 per minute") as info:
        limiter.hit("a")
    assert info.value.retry_after == pytest.approx(60.0)
    limiter.hit("b")  # other keys are independent
    now[0] = 60.0
    limiter.hit("a")  # the first two left the window
