"""A reply resumed on node B is not cancelled by node A's no-watcher timer (issue 14, Medium 4)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from app.chat.metrics import AppMetrics
from app.chat.service import ChatService
from app.chat.streams import InFlight
from app.chat.watch_lease import WatchLeases
from tests.app.scaleout_support import eventually


class _CancelLog:
    """Only what unwatch touches: which jobs were cancelled."""

    def __init__(self) -> None:
        self.cancelled: list[str] = []

    async def cancel(self, job_id: str) -> None:
        self.cancelled.append(job_id)


def _node(redis_url: str, backend: _CancelLog) -> ChatService:
    leases = WatchLeases(redis_url, ttl_s=0.6)
    service = ChatService(None, backend, None, None, AppMetrics(), resume_grace_s=0.2, leases=leases)  # type: ignore[arg-type]
    service.in_flight["job-1"] = InFlight("conv", 1)
    return service


async def test_a_watcher_on_another_node_keeps_the_reply_alive(redis_url: str) -> None:
    backend = _CancelLog()
    node_a = _node(redis_url, backend)
    node_b = WatchLeases(redis_url, ttl_s=0.6)
    node_a.watch("job-1")
    resumed = asyncio.create_task(node_b.keep("job-1"))  # the customer's socket is now on node B
    await asyncio.sleep(0.05)
    node_a.unwatch("job-1")  # node A's socket dropped
    await asyncio.sleep(1.0)  # several of A's grace periods
    assert backend.cancelled == []
    resumed.cancel()  # the customer leaves node B too: the lease lapses
    with contextlib.suppress(asyncio.CancelledError):
        await resumed
    await eventually(lambda: _async_true(backend.cancelled == ["job-1"]), timeout=10)
    assert "job-1" not in node_a._watchers  # counts of jobs nobody watches are dropped


async def test_without_any_watcher_the_reply_is_cancelled_after_the_grace(redis_url: str) -> None:
    backend = _CancelLog()
    node_a = _node(redis_url, backend)
    node_a.watch("job-1")
    node_a.unwatch("job-1")
    await eventually(lambda: _async_true(backend.cancelled == ["job-1"]), timeout=10)


async def _async_true(value: Any) -> bool:
    return bool(value)
