"""`switchboard worker`: consume jobs from the Redis requests stream, run them on one engine.

Workers form one consumer group. A job stays pending (unacknowledged) while it runs, and a live
worker touches its pending entries every heartbeat, so only a dead worker's jobs go idle; any
worker takes those over with XAUTOCLAIM after ``claim_idle_ms``.

A reclaimed job continues instead of starting over: every token event carries the token ids it
covers, so the new worker reads the events already written, appends those ids to the prompt and
generates only the rest (with ``max_new_tokens`` reduced to match), writing events from the next
seq. The customer sees the text so far once and the rest once. Two workers that both believe they
own a job (a slow one, not a dead one) cannot interleave: writing seq n is a compare-and-set
(see app.generation.redis_streams), and the loser stops its generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from app.generation import redis_streams as rs
from app.generation.backend import GenerationJob, JobEvent
from app.generation.redis_backend import REDIS_DOWN
from app.generation.runner import JobRun
from app.generation.worker_metrics import MetricsServer, WorkerMetrics

if TYPE_CHECKING:  # torch-backed: the CLI builds the engine
    from inference import AsyncEngine

WRITE_RETRY_S = (0.25, 0.5, 1.0, 2.0)  # a Redis restart takes a second or two: ride it out

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    """How a worker reads the queue; ``claim_idle_ms`` must exceed a few heartbeats."""

    redis_url: str
    consumer: str = f"{socket.gethostname()}-{os.getpid()}"
    max_jobs: int = 32
    block_ms: int = 1000
    claim_idle_ms: int = 10_000
    heartbeat_s: float = 0.25
    # Touched every heartbeat while Redis answers: the container healthcheck reads its age.
    alive_file: Path | None = None
    # GET /metrics (the engine's vLLM-named series and the worker's own) on this port; None: off.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        if self.max_jobs < 1:
            raise ValueError("max_jobs must be >= 1")
        if self.claim_idle_ms < 4 * self.heartbeat_s * 1000:
            raise ValueError("claim_idle_ms must be at least four heartbeats, or live jobs get stolen")


class Worker:
    """One engine serving the shared queue: read, reclaim, generate, write events, acknowledge."""

    def __init__(self, engine: AsyncEngine, config: WorkerConfig) -> None:
        self.engine = engine
        self.config = config
        self.redis = Redis.from_url(config.redis_url, socket_timeout=30, socket_connect_timeout=5)
        self.running: dict[str, str] = {}  # stream entry id -> job id
        self.tasks: set[asyncio.Task[None]] = set()
        self.completed = 0
        self.writers: dict[str, rs.JobEventWriter] = {}  # job id -> its events so far (see write)
        self.metrics = WorkerMetrics(running=lambda: len(self.running))
        self.metrics_server: MetricsServer | None = None
        if config.metrics_port is not None:
            self.metrics_server = MetricsServer(self.render_metrics, config.metrics_host, config.metrics_port)

    def render_metrics(self) -> str:
        """Prometheus text: the engine's series followed by the worker's own."""
        return self.engine.to_prometheus() + self.metrics.render()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Serve until ``stop`` is set; unfinished jobs stay pending for another worker to reclaim."""
        stop = stop or asyncio.Event()
        await self.engine.start()
        if self.metrics_server is not None:
            await self.metrics_server.start()
        beat = asyncio.create_task(self._heartbeat(stop))
        try:
            while not stop.is_set():
                try:
                    await self._poll()
                except ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    await self._ensure_group()
                except REDIS_DOWN as exc:
                    log.warning("redis unreachable, retrying: %s", exc)
                    await asyncio.sleep(0.5)
        finally:
            beat.cancel()
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(beat, *self.tasks, return_exceptions=True)
            if self.metrics_server is not None:
                await self.metrics_server.stop()
            await self.engine.stop()
            await self.redis.aclose()

    async def _ensure_group(self) -> None:
        with contextlib.suppress(ResponseError):  # BUSYGROUP: another worker made it first
            await self.redis.xgroup_create(rs.REQUESTS, rs.GROUP, id="0", mkstream=True)

    async def _poll(self) -> None:
        free = self.config.max_jobs - len(self.running)
        if free <= 0:
            await asyncio.sleep(0.05)
            return
        claimed: Any = await self.redis.xautoclaim(
            rs.REQUESTS, rs.GROUP, self.config.consumer, self.config.claim_idle_ms, "0-0", count=free
        )
        entries = [e for e in claimed[1] if e[1]]
        if entries:
            log.info("reclaimed %d job(s) from a dead worker", len(entries))
            self.metrics.reclaimed.inc(len(entries))
        else:
            reply: Any = await self.redis.xreadgroup(
                rs.GROUP, self.config.consumer, {rs.REQUESTS: ">"}, count=free, block=self.config.block_ms
            )
            entries = reply[0][1] if reply else []
        for raw_id, fields in entries:
            entry = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            if entry in self.running:
                continue
            job_id = self._job_id(fields)
            self.running[entry] = job_id
            task = asyncio.create_task(self._serve(entry, fields))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    @staticmethod
    def _job_id(fields: dict[Any, Any]) -> str:
        with contextlib.suppress(Exception):
            return str(json.loads(fields[b"job"])["job_id"])
        return ""

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        """Keep our pending entries fresh (so nobody reclaims live jobs) and apply cancellations."""
        while not stop.is_set():
            await asyncio.sleep(self.config.heartbeat_s)
            await self._touch_alive()
            entries = dict(self.running)
            if not entries:
                continue
            try:
                await self.redis.xclaim(
                    rs.REQUESTS, rs.GROUP, self.config.consumer, 0, list(entries), justid=True
                )
                flags = await self.redis.mget([rs.cancel_key(j) for j in entries.values()])
            except REDIS_DOWN:
                continue
            for job_id, flag in zip(entries.values(), flags, strict=True):
                if flag is not None:
                    self.engine.cancel(job_id)

    async def _touch_alive(self) -> None:
        if self.config.alive_file is None:
            return
        with contextlib.suppress(*REDIS_DOWN):
            await self.redis.ping()
            self.config.alive_file.touch()

    async def _serve(self, entry: str, fields: dict[Any, Any]) -> None:
        finished = True
        job: GenerationJob | None = None
        try:
            job = GenerationJob.from_dict(json.loads(fields[b"job"]))
        except Exception as exc:  # a malformed entry can never succeed: drop it, do not retry forever
            log.error("dropping malformed queue entry %s: %s", entry, exc)
            self.metrics.jobs.labels("malformed").inc()
            await self._ack(entry)
            return
        try:
            finished = await self._generate(job)
        except asyncio.CancelledError:
            finished = False
            raise
        except REDIS_DOWN as exc:
            finished = False  # the entry stays pending; a worker retries it once Redis is back
            log.warning("lost redis while serving %s: %s", job.job_id, exc)
        except Exception as exc:  # this job fails alone, with a readable error on its stream
            log.exception("job %s failed", job.job_id)
            done = await rs.read_all(self.redis, job.job_id)
            error = JobEvent(
                job.job_id, len(done), "error", finish_reason="error", error=f"generation failed: {exc}"
            )
            if not (done and done[-1].final):
                await rs.append_event(self.redis, error)
        finally:
            self.running.pop(entry, None)
            if job is not None:
                self.writers.pop(job.job_id, None)
            self.metrics.jobs.labels("finished" if finished else "left_pending").inc()
            if finished:
                self.completed += 1
                with contextlib.suppress(*REDIS_DOWN):
                    await self._ack(entry)

    async def _ack(self, entry: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(rs.REQUESTS, rs.GROUP, entry)
            pipe.xdel(rs.REQUESTS, entry)  # the stream length is the queue depth the API checks
            await pipe.execute()

    async def write(self, event: JobEvent) -> bool:
        """Write one event at its seq; False when another worker already wrote that seq.

        A Redis restart mid-reply is ridden out (retried ~4 s) and the job's stream, lost with it,
        is written again from the start, so its readers resume without a gap.
        """
        writer = self.writers.setdefault(event.job_id, rs.JobEventWriter(self.redis))
        for delay in (*WRITE_RETRY_S, None):
            try:
                return await writer.write(event)
            except REDIS_DOWN:
                if delay is None:
                    raise
                await asyncio.sleep(delay)
        return False

    async def _generate(self, job: GenerationJob) -> bool:
        """Run (or continue) the job; True when its stream holds a final event."""
        written = await rs.read_all(self.redis, job.job_id)
        if written and written[-1].final:
            return True
        self.writers[job.job_id] = rs.JobEventWriter(self.redis, written)
        done_ids = [int(i) for e in written for i in e.extra.get("ids", [])]
        run = await JobRun.prepare(self.engine, job, first_seq=len(written), done_ids=done_ids)
        if await self.redis.exists(rs.cancel_key(job.job_id)) or run.left <= 0:
            reason = "length" if run.left <= 0 else "cancelled"
            return await rs.append_event(self.redis, run.end_without_generating(reason))
        run.start()
        events = run.events()
        async for event in events:
            if not await self.write(event):
                log.warning("job %s: seq %d written by another worker; stopping", job.job_id, event.seq)
                await events.aclose()  # type: ignore[attr-defined]
                return False
            if event.final:
                return True
        return False
