"""RedisBackend: jobs go to a Redis Stream consumed by `switchboard worker`; events come back per job.

Any API node can read any job's events (they live in Redis, numbered), so a customer who
reconnects to another node resumes at the exact event. Backpressure: the requests stream holds
queued and running jobs (workers delete an entry once it is done), so its length is the depth.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.generation import redis_streams as rs
from app.generation.backend import BackendBusy, GenerationBackend, GenerationJob, JobEvent
from app.generation.embedded import UnknownJobError

log = logging.getLogger(__name__)
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
LOST_IN_RESTART = "the reply was lost when the queue restarted; please send your message again"
SUBMIT_RETRY_S = (0.25, 0.5, 1.0, 2.0)  # ~4 s: long enough for a Redis restart, short for a customer


class RedisBackend(GenerationBackend):
    """Publishes jobs to ``sb:requests`` and reads each job's numbered events from its own stream."""

    # Workers run the jobs and Redis keeps their events, so a job outlives the API node that sent it.
    jobs_outlive_node = True

    def __init__(
        self,
        redis_url: str,
        *,
        max_queue_depth: int = 256,
        block_ms: int = 2000,
        stall_timeout_s: float = 300.0,
        reconnect_s: float = 0.5,
        lost_after_s: float = 10.0,
    ) -> None:
        if max_queue_depth < 1:
            raise ValueError("max_queue_depth must be >= 1")
        self.redis_url = redis_url
        self.max_queue_depth = max_queue_depth
        self.block_ms = block_ms
        self.stall_timeout_s = stall_timeout_s
        self.reconnect_s = reconnect_s
        # A job gone from Redis this long is lost; shorter, its worker may be writing it again.
        self.lost_after_s = lost_after_s
        self._redis: Redis | None = None

    @property
    def redis(self) -> Redis:
        """The client (created by start)."""
        if self._redis is None:
            raise RuntimeError("RedisBackend.start() has not been awaited")
        return self._redis

    async def start(self) -> None:
        """Connect (lazily: a Redis that is down now is retried by every call)."""
        if self._redis is None:
            # Every streaming reader holds a connection during its blocking XREAD: a large pool that
            # waits for a free connection instead of failing when a burst exceeds it.
            pool = BlockingConnectionPool.from_url(
                self.redis_url, max_connections=4096, timeout=30, socket_timeout=30, socket_connect_timeout=5
            )
            self._redis = Redis(connection_pool=pool)

    async def stop(self) -> None:
        """Close the connections."""
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def submit(self, job: GenerationJob) -> None:
        """Queue the job; BackendBusy when queued + running jobs reach ``max_queue_depth``.

        A Redis restart (a second or two) is ridden out: the submit is retried for up to
        ``SUBMIT_RETRY_S``. Queuing a job twice is harmless (the first writer of each event wins).
        """
        for delay in (*SUBMIT_RETRY_S, None):
            try:
                await self._submit_once(job)
                return
            except REDIS_DOWN as exc:
                if delay is None:
                    raise
                log.warning("redis unreachable on submit (%s); retrying", type(exc).__name__)
                await asyncio.sleep(delay)

    async def _submit_once(self, job: GenerationJob) -> None:
        depth = await self.redis.xlen(rs.REQUESTS)
        if depth >= self.max_queue_depth:
            raise BackendBusy(f"{depth} jobs queued or running (limit {self.max_queue_depth})")
        payload = json.dumps(job.to_dict(), ensure_ascii=False)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(rs.job_key(job.job_id), job.conversation_id, ex=rs.EVENTS_TTL_S)
            pipe.xadd(rs.REQUESTS, {"job": payload})
            await pipe.execute()

    async def events(self, job_id: str, after: int = -1) -> AsyncIterator[JobEvent]:  # type: ignore[override]
        """Yield events with seq > after until the final one; survives a Redis restart by reconnecting."""
        if not await self._exists(job_id):
            raise UnknownJobError(job_id)
        last, quiet, missing_since = after, 0.0, None
        while True:
            try:
                batch = await rs.read_after(self.redis, job_id, last, self.block_ms)
                if batch or await self._exists(job_id):
                    missing_since = None
                elif missing_since is None:
                    missing_since = time.monotonic()
                elif time.monotonic() - missing_since >= self.lost_after_s:
                    # Redis lost the job (restart without persistence) and no worker wrote it again
                    # (app.generation.redis_streams.JobEventWriter): say so, do not wait forever.
                    yield self._lost(job_id, last, LOST_IN_RESTART)
                    return
            except REDIS_DOWN as exc:
                log.warning("redis unreachable while streaming %s: %s", job_id, exc)
                await asyncio.sleep(self.reconnect_s)
                batch = []
            quiet = 0.0 if batch else quiet + self.block_ms / 1000
            for event in batch:
                yield event
                last = event.seq
                if event.final:
                    return
            if quiet >= self.stall_timeout_s:
                yield self._lost(job_id, last, "no worker finished this reply in time")
                return

    async def _exists(self, job_id: str) -> bool:
        try:
            found = await self.redis.exists(rs.job_key(job_id), rs.events_key(job_id))
        except REDIS_DOWN:
            return True  # cannot tell now; the read loop retries
        return bool(found)

    @staticmethod
    def _lost(job_id: str, last: int, message: str) -> JobEvent:
        return JobEvent(job_id=job_id, seq=last + 1, kind="error", finish_reason="error", error=message)

    async def cancel(self, job_id: str) -> None:
        """Ask the worker running the job to abort it (it polls the key); its stream ends 'cancelled'."""
        await self.redis.set(rs.cancel_key(job_id), "1", ex=rs.EVENTS_TTL_S)

    async def health(self) -> dict[str, Any]:
        """Queue depth and live workers; raises when Redis does not answer."""
        depth = await self.redis.xlen(rs.REQUESTS)
        workers = 0
        try:
            groups = await self.redis.xinfo_groups(rs.REQUESTS)
            workers = sum(int(g.get("consumers", 0)) for g in groups)
        except Exception:  # noqa: BLE001 - no stream/group yet: no worker has started
            workers = 0
        return {"backend": "redis", "queue_depth": depth, "limit": self.max_queue_depth, "consumers": workers}
