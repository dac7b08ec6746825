"""A cluster-wide lease saying "some socket still streams this reply", checked before cancelling it.

A node cancels a reply nobody watches after the resume grace. Its own watcher count knows only
its own sockets, so a customer who dropped on node A and resumed on node B had the reply cancelled
by A's timer. Every node that streams a job now keeps a short-lived Redis key for it; a node
cancels only when its own count is zero and no such key exists. Without Redis there is one node,
and its own count is the whole truth.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)
PREFIX = "sb:watch:"


class WatchLeases:
    """Hold and test per-job watcher leases in Redis (no-ops on a single machine)."""

    def __init__(self, redis_url: str | None, ttl_s: float = 10.0) -> None:
        self.ttl_s = ttl_s
        self._redis: Any = None
        if redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)

    async def keep(self, job_id: str) -> None:
        """Renew the lease until cancelled (run as a task while a socket streams the job)."""
        if self._redis is None:
            return
        while True:
            try:
                await self._redis.set(PREFIX + job_id, "1", px=int(self.ttl_s * 1000))
            except Exception:  # noqa: BLE001 - Redis down: the other node's timer may cancel; retry
                log.warning("could not renew the watcher lease of %s", job_id)
            await asyncio.sleep(self.ttl_s / 3)

    async def held(self, job_id: str) -> bool:
        """True while any node's socket streams ``job_id``."""
        if self._redis is None:
            return False
        try:
            return bool(await self._redis.exists(PREFIX + job_id))
        except Exception:  # noqa: BLE001 - cannot tell: keep the reply rather than cut a watched one
            log.warning("watcher lease of %s unreadable; not cancelling", job_id)
            return True
