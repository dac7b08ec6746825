"""Worker: consumer group, reclaim of a dead worker's job continuing without duplicated text."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.generation import redis_streams as rs
from app.generation.backend import JobEvent
from app.generation.redis_backend import RedisBackend
from app.generation.worker import WorkerConfig
from tests.app.chat_support import make_adapters
from tests.app.scaleout_support import RunningWorker, collect, eventually, job


@pytest.fixture(scope="module")
def adapters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_adapters(tmp_path_factory.mktemp("worker-adapters"))


@pytest.fixture()
async def backend(redis_url: str) -> AsyncIterator[RedisBackend]:
    be = RedisBackend(redis_url, block_ms=200)
    await be.start()
    yield be
    await be.stop()


async def _queue_empty(backend: RedisBackend) -> bool:
    return await backend.redis.xlen(rs.REQUESTS) == 0


async def _text(backend: RedisBackend, job_id: str) -> str:
    return "".join(e.text for e in await collect(backend, job_id))


async def test_a_dead_workers_job_is_reclaimed_and_continues_without_duplicates(
    backend: RedisBackend, redis_url: str, tokenizer: Any, adapters: dict[str, Path]
) -> None:
    tokens = 900
    reference_job = job(tokens, adapter="tech_support")
    first = RunningWorker(tokenizer, redis_url, "first", adapters, die_after=10)
    await backend.submit(reference_job)
    reference = await _text(backend, reference_job.job_id)  # the uninterrupted reply

    crashed = job(tokens, adapter="tech_support")
    await backend.submit(crashed)
    await first.dies_after.wait()
    await first.kill()  # mid-reply: nothing acknowledged, no more heartbeats
    written = await rs.read_all(backend.redis, crashed.job_id)
    assert not written[-1].final
    pending = await backend.redis.xpending(rs.REQUESTS, rs.GROUP)
    assert pending["pending"] == 1 and pending["consumers"][0]["name"] == b"first"

    second = RunningWorker(tokenizer, redis_url, "second", adapters, claim_idle_ms=500)
    try:
        events = await collect(backend, crashed.job_id)
        assert [e.seq for e in events] == list(range(len(events)))  # no gap, nothing twice
        assert "".join(e.text for e in events) == reference  # one complete reply, no repeated text
        assert events[-1].completion_tokens == tokens
        resumed = [e for e in events if "resumed_after_tokens" in e.extra]
        assert len(resumed) == 1 and resumed[0].extra["resumed_after_tokens"] >= 10
        await eventually(lambda: _queue_empty(backend))  # acknowledged and removed
        assert second.worker.completed == 1
    finally:
        await second.close()


async def test_a_slow_worker_that_lost_its_job_stops_writing(
    backend: RedisBackend, redis_url: str, tokenizer: Any
) -> None:
    long = job(400)
    await backend.submit(long)
    # Another worker already wrote seq 0..2 of this job (it reclaimed it): ours must stop, not interleave.
    for seq in range(3):
        event = JobEvent(long.job_id, seq, "token", f"<{seq}>", extra={"ids": [42]})
        await rs.append_event(backend.redis, event)
    await rs.append_event(backend.redis, JobEvent(long.job_id, 3, "done", "", "stop", extra={"ids": []}))
    worker = RunningWorker(tokenizer, redis_url, "slow")
    try:
        await asyncio.sleep(0)
        events = await collect(backend, long.job_id)
        assert "".join(e.text for e in events) == "<0><1><2>"
        await eventually(lambda: _queue_empty(backend))  # already final: acknowledged without rerun
        assert len(await rs.read_all(backend.redis, long.job_id)) == 4
    finally:
        await worker.close()


async def test_a_malformed_queue_entry_is_dropped_and_the_next_job_runs(
    backend: RedisBackend, redis_url: str, tokenizer: Any
) -> None:
    await backend.redis.xadd(rs.REQUESTS, {"job": json.dumps({"job_id": "x", "nonsense": 1})})
    worker = RunningWorker(tokenizer, redis_url, "w")
    try:
        good = job(6)
        await backend.submit(good)
        assert (await collect(backend, good.job_id))[-1].finish_reason == "length"
        await eventually(lambda: _queue_empty(backend))
    finally:
        await worker.close()


def test_config_refuses_a_claim_timeout_shorter_than_heartbeats() -> None:
    with pytest.raises(ValueError, match="claim_idle_ms"):
        WorkerConfig("redis://x", claim_idle_ms=100, heartbeat_s=0.25)
    with pytest.raises(ValueError, match="max_jobs"):
        WorkerConfig("redis://x", max_jobs=0)


async def test_a_redis_restart_mid_reply_is_ridden_out_without_a_gap(tokenizer: Any) -> None:
    import asyncio

    from tests.app.scaleout_support import free_port, start_redis

    port = free_port()
    server = start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    backend = RedisBackend(url, block_ms=200)
    await backend.start()
    worker = RunningWorker(tokenizer, url, "steady")
    try:
        long_job = job(900)
        await backend.submit(long_job)
        reader = asyncio.create_task(collect(backend, long_job.job_id))  # a customer's stream

        async def started() -> bool:
            return len(await rs.read_all(backend.redis, long_job.job_id)) >= 20

        await eventually(started)
        server.kill()  # Redis restarts empty (no persistence) while the reply streams
        server.wait()
        server = start_redis(port)
        events = await asyncio.wait_for(reader, 120)
        # Was: the worker gave up (an error at the end), or wrote on from seq n into a stream
        # that had lost 0..n-1, so a reader resuming in between skipped a piece of the reply.
        assert events[-1].kind == "done" and events[-1].completion_tokens == 900
        assert [e.seq for e in events] == list(range(len(events)))
        stored = await rs.read_all(backend.redis, long_job.job_id)
        assert [e.seq for e in stored] == list(range(len(stored)))  # rewritten from the start
    finally:
        await worker.kill()
        await backend.stop()
        server.kill()
        server.wait()
