"""The OpenAI API's budget: requests per minute per API key, counted where every node sees them.

One integrator's runaway loop must not fill the engine's queue for the chat's customers; the
count lives in the same shared Window as the chat's budgets, so adding API nodes does not
multiply what one key may send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.limits.chat_limits import MINUTE, RateLimited
from app.limits.window import Window, make_window

if TYPE_CHECKING:
    from app.config import Settings


class ApiKeyLimited(RateLimited):
    """This key spent its requests for the minute; ``retry_after`` seconds until the next is accepted."""

    def __init__(self, limit: int, retry_after: float) -> None:
        Exception.__init__(
            self,
            f"Rate limit reached for this API key: {limit} requests per minute; "
            f"try again in {max(1, round(retry_after))} s",
        )
        self.limit, self.retry_after = limit, retry_after


class ApiKeyLimits:
    """Counts each API request against its key's per-minute budget."""

    def __init__(self, window: Window, per_minute: int) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be >= 1")
        self.window = window
        self.per_minute = per_minute

    def request(self, key_id: int) -> None:
        """Count one request of key ``key_id``, or raise ApiKeyLimited."""
        retry = self.window.hit(f"api:key:{key_id}", self.per_minute, MINUTE)
        if retry is not None:
            raise ApiKeyLimited(self.per_minute, retry)


def api_limits_for(settings: Settings) -> ApiKeyLimits:
    """The per-key budget the settings ask for, shared through Redis when nodes share one."""
    return ApiKeyLimits(make_window(settings.redis_url, "sb:limit:api:"), settings.api_requests_per_minute)
