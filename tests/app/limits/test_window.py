"""Counting windows: the same counts in process and in (real) Redis, keys that do not pile up."""

from __future__ import annotations

import pytest
import redis

from app.limits.window import MemoryWindow, RedisWindow


def test_memory_window_counts_per_key_and_resets_each_window() -> None:
    now = [0.0]
    window = MemoryWindow(clock=lambda: now[0])
    assert window.hit("a", 2, 60) is None and window.hit("a", 2, 60) is None
    assert window.hit("a", 2, 60) == pytest.approx(60.0)
    assert window.hit("b", 2, 60) is None  # keys are independent
    now[0] = 30.0
    assert window.peek("a", 2, 60) == pytest.approx(30.0)
    now[0] = 60.0
    assert window.hit("a", 2, 60) is None


def test_memory_window_drops_finished_windows_instead_of_growing() -> None:
    now = [0.0]
    window = MemoryWindow(clock=lambda: now[0], max_keys=100)
    for i in range(100):
        window.hit(f"one-off-{i}", 5, 60)
    now[0] = 61.0
    window.hit("fresh", 5, 60)
    assert len(window) == 1


def test_redis_windows_are_shared_by_every_node_and_expire(redis_url: str) -> None:
    node_a, node_b = RedisWindow(redis_url), RedisWindow(redis_url)
    assert node_a.hit("ip:203.0.113.9", 3, 60) is None
    assert node_b.hit("ip:203.0.113.9", 3, 60) is None
    assert node_a.hit("ip:203.0.113.9", 3, 60) is None
    assert node_b.hit("ip:203.0.113.9", 3, 60) is not None  # the fourth, whichever node gets it
    client = redis.Redis.from_url(redis_url)
    keys = client.keys("sb:limit:*")
    assert keys and all(0 < client.ttl(k) <= 61 for k in keys)  # evicted by Redis itself
    node_a.reset("ip:203.0.113.9", 60)
    assert node_b.hit("ip:203.0.113.9", 3, 60) is None


def test_redis_down_falls_back_to_counting_in_process() -> None:
    window = RedisWindow("redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert window.hit("k", 1, 60) is None
    assert window.hit("k", 1, 60) is not None
