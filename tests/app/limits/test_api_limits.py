"""The per-key API budget: counted per key, shared by every node through Redis."""

from __future__ import annotations

import uuid

import pytest
import redis

from app.limits.api_limits import ApiKeyLimited, ApiKeyLimits, api_limits_for
from app.limits.window import MemoryWindow, RedisWindow
from tests.app.chat_support import settings_for

REDIS = "redis://127.0.0.1:6379/15"


def test_each_key_has_its_own_budget_and_the_next_window_resets_it() -> None:
    now = [0.0]
    limits = ApiKeyLimits(MemoryWindow(clock=lambda: now[0]), per_minute=2)
    limits.request(1)
    limits.request(1)
    limits.request(2)  # another key is not slowed by the first
    with pytest.raises(ApiKeyLimited, match="2 requests per minute") as info:
        limits.request(1)
    assert info.value.retry_after == pytest.approx(60.0)
    now[0] = 60.0
    limits.request(1)


def test_two_nodes_share_one_budget_through_redis() -> None:
    prefix = f"sb:test:api:{uuid.uuid4().hex}:"  # own keys on the shared Redis, deleted after
    nodes = [ApiKeyLimits(RedisWindow(REDIS, prefix), per_minute=3) for _ in range(2)]
    try:
        nodes[0].request(7)
        nodes[1].request(7)
        nodes[0].request(7)
        with pytest.raises(ApiKeyLimited):
            nodes[1].request(7)  # one budget, not one per node
    finally:
        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


def test_settings_choose_the_budget_and_a_bad_one_is_refused() -> None:
    assert api_limits_for(settings_for("sqlite://", api_requests_per_minute=5)).per_minute == 5
    with pytest.raises(ValueError, match="per_minute"):
        ApiKeyLimits(MemoryWindow(), per_minute=0)
