"""RedisBackend + an in-process worker on real Redis: numbered events, resume, busy, cancel, CAS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Message
from app.generation import redis_streams as rs
from app.generation.backend import BackendBusy, JobEvent
from app.generation.embedded import UnknownJobError
from app.generation.redis_backend import RedisBackend
from app.main import create_app
from tests.app.chat_support import KeywordRouter, read_until, settings_for
from tests.app.scaleout_support import RunningWorker, collect, eventually, job


@pytest.fixture()
async def backend(redis_url: str) -> AsyncIterator[RedisBackend]:
    be = RedisBackend(redis_url, max_queue_depth=3, block_ms=200)
    await be.start()
    yield be
    await be.stop()


async def _queue_empty(backend: RedisBackend) -> bool:
    return await backend.redis.xlen(rs.REQUESTS) == 0


async def test_a_worker_streams_numbered_events_and_resume_gives_the_rest_once(
    backend: RedisBackend, redis_url: str, tokenizer: Any
) -> None:
    worker = RunningWorker(tokenizer, redis_url, "w1")
    try:
        first = job(24)
        await backend.submit(first)
        events = await collect(backend, first.job_id)
        assert [e.seq for e in events] == list(range(len(events)))
        assert events[-1].kind == "done" and events[-1].finish_reason == "length"
        assert events[-1].completion_tokens == 24
        assert sum(len(e.extra["ids"]) for e in events) == 24
        rest = await collect(backend, first.job_id, after=3)
        assert [e.seq for e in rest] == [e.seq for e in events[4:]]
        assert "".join(e.text for e in events[:4]) + "".join(e.text for e in rest) == "".join(
            e.text for e in events
        )
        # Done jobs leave the requests stream, so it measures the depth of work in flight.
        await eventually(lambda: _queue_empty(backend))
        assert 0 < await backend.redis.ttl(rs.events_key(first.job_id)) <= rs.EVENTS_TTL_S
    finally:
        await worker.close()


async def test_queue_over_the_limit_is_busy(backend: RedisBackend) -> None:
    for _ in range(3):  # no worker runs: the jobs stay queued
        await backend.submit(job(4))
    with pytest.raises(BackendBusy, match="limit 3"):
        await backend.submit(job(4))
    health = await backend.health()
    assert health["queue_depth"] == 3 and health["backend"] == "redis"


async def test_unknown_job_is_a_key_error(backend: RedisBackend) -> None:
    with pytest.raises(UnknownJobError):
        await collect(backend, "no-such-job")


async def test_cancel_stops_the_job_on_its_worker(
    backend: RedisBackend, redis_url: str, tokenizer: Any
) -> None:
    worker = RunningWorker(tokenizer, redis_url, "w1")
    try:
        long = job(1000)
        await backend.submit(long)
        seen: list[JobEvent] = []
        async for event in backend.events(long.job_id):
            seen.append(event)
            if len(seen) == 3:
                await backend.cancel(long.job_id)
        assert seen[-1].kind == "done" and seen[-1].finish_reason == "cancelled"
        assert seen[-1].completion_tokens < 1000
    finally:
        await worker.close()


async def test_an_event_seq_can_be_written_only_once(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        assert await rs.append_event(redis, JobEvent("j", 0, "token", "a"))
        assert not await rs.append_event(redis, JobEvent("j", 0, "token", "b"))
        assert await rs.append_event(redis, JobEvent("j", 1, "done", "c", "stop"))
        assert [e.text for e in await rs.read_all(redis, "j")] == ["a", "c"]
    finally:
        await redis.aclose()


async def test_a_bad_job_fails_alone(backend: RedisBackend, redis_url: str, tokenizer: Any) -> None:
    worker = RunningWorker(tokenizer, redis_url, "w1")
    try:
        bad = job(8, messages=[{"role": "assistant", "content": "no user turn"}])
        unknown = job(8, adapter="no-such-adapter")
        good = job(8)
        for j in (bad, unknown, good):
            await backend.submit(j)
        bad_events = await collect(backend, bad.job_id)
        assert bad_events[-1].kind == "error" and "user" in (bad_events[-1].error or "")
        unknown_events = await collect(backend, unknown.job_id)
        assert unknown_events[-1].kind == "error" and "no-such-adapter" in (unknown_events[-1].error or "")
        assert (await collect(backend, good.job_id))[-1].finish_reason == "length"
    finally:
        await worker.close()


def test_backpressure_tells_the_customer_busy_and_keeps_the_message(
    pg_url: str, redis_url: str, db: Session
) -> None:
    settings = settings_for(pg_url, redis_url=redis_url, max_queue_depth=1, messages_per_minute=1000)
    app = create_app(settings, router=KeywordRouter())  # REDIS_URL set: jobs go to the queue
    with TestClient(app) as client, client.websocket_connect("/ws/chat") as ws:
        assert isinstance(client.app.state.backend, RedisBackend)  # type: ignore[attr-defined]
        ws.send_json({"type": "hello", "token": None})
        cid = ws.receive_json()["conversation_id"]
        ws.send_json({"type": "message", "text": "first, queued (no worker runs)"})
        read_until(ws, "route")
        ws.send_json({"type": "message", "text": "second, over the limit"})
        frames = read_until(ws, "error")
    busy = [f for f in frames if f["type"] == "busy"]
    assert busy and all(f["message"] == "busy, retrying" for f in busy)
    assert "your message is saved" in frames[-1]["message"]
    db.expire_all()
    texts = db.scalars(select(Message.text).where(Message.conversation_id == cid, Message.role == "customer"))
    assert list(texts) == ["first, queued (no worker runs)", "second, over the limit"]



async def test_a_submit_during_a_redis_restart_waits_for_it_instead_of_failing() -> None:
    import asyncio
    import time

    from tests.app.scaleout_support import free_port, start_redis

    port = free_port()
    be = RedisBackend(f"redis://127.0.0.1:{port}/0", max_queue_depth=3, block_ms=200)
    await be.start()

    def restart() -> Any:  # Redis is down when the job is submitted and back a second later
        time.sleep(1.0)
        return start_redis(port)

    server = asyncio.get_running_loop().run_in_executor(None, restart)
    try:
        submitted = job(4)
        await be.submit(submitted)  # was: ConnectionError, and the customer's reply failed
        assert await be.redis.exists(rs.job_key(submitted.job_id)) and await be.redis.xlen(rs.REQUESTS) == 1
    finally:
        await be.stop()
        proc = await server
        proc.kill()
        proc.wait()


async def test_a_reader_waits_for_a_job_its_worker_writes_again_after_a_redis_restart(
    backend: RedisBackend,
) -> None:
    import asyncio

    lost = job(4)
    first = [JobEvent(lost.job_id, 0, "token", text="Your "), JobEvent(lost.job_id, 1, "token", text="box ")]
    for event in first:
        await rs.append_event(backend.redis, event)
    reader = asyncio.create_task(collect(backend, lost.job_id))
    await asyncio.sleep(0.5)
    await backend.redis.flushdb()  # Redis restarted empty; the worker is still generating
    await asyncio.sleep(1.0)
    for event in [*first, JobEvent(lost.job_id, 2, "done", text="ships.", finish_reason="stop")]:
        await rs.append_event(backend.redis, event)  # what JobEventWriter writes after a restart
    events = await asyncio.wait_for(reader, 30)
    # Was: "lost when the queue restarted" the moment the keys were gone, while the reply went on.
    assert [(e.seq, e.kind) for e in events] == [(0, "token"), (1, "token"), (2, "done")]
