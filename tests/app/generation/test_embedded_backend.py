"""EmbeddedBackend over the tiny engine: numbered events, resume, cancel frees KV, busy, expiry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.generation.backend import BackendBusy, GenerationJob, JobEvent
from app.generation.embedded import EmbeddedBackend, UnknownJobError
from inference import SamplingParams, UnknownAdapterError
from tests.app.chat_support import make_engine

CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]


@pytest.fixture()
async def backend(tokenizer: Any) -> AsyncIterator[EmbeddedBackend]:
    be = EmbeddedBackend(make_engine(tokenizer, {}), max_queue_depth=2, log_ttl_s=600)
    await be.start()
    yield be
    await be.stop()


def _job(tokens: int, messages: list[dict[str, str]] = CHAT, adapter: str | None = None) -> GenerationJob:
    params = SamplingParams.greedy(tokens).to_dict()
    return GenerationJob(uuid.uuid4().hex, "conv", messages, adapter, params)


async def _all(be: EmbeddedBackend, job_id: str, after: int = -1) -> list[JobEvent]:
    return [e async for e in be.events(job_id, after)]


async def test_events_are_numbered_and_resume_gives_the_rest_once(backend: EmbeddedBackend) -> None:
    job = _job(20)
    await backend.submit(job)
    everything, again = await asyncio.gather(_all(backend, job.job_id), _all(backend, job.job_id))
    assert everything == again and [e.seq for e in everything] == list(range(len(everything)))
    final = everything[-1]
    assert final.kind == "done" and final.finish_reason == "length" and final.completion_tokens == 20
    assert "ttft_ms" in everything[0].extra and not everything[0].extra["prompt_truncated"]
    rest = await _all(backend, job.job_id, after=3)
    assert rest == everything[4:]
    assert await _all(backend, job.job_id, after=final.seq) == []


async def test_cancel_ends_with_cancelled_and_frees_kv(backend: EmbeddedBackend) -> None:
    job = _job(1500)
    await backend.submit(job)
    seen: list[JobEvent] = []
    async for event in backend.events(job.job_id):
        seen.append(event)
        if len(seen) == 3:
            assert backend.engine.core.pool.num_used > 0
            await backend.cancel(job.job_id)
    assert seen[-1].kind == "done" and seen[-1].finish_reason == "cancelled"
    assert seen[-1].completion_tokens < 1500
    assert backend.engine.core.pool.num_used == 0 and backend.active_jobs() == 0


async def test_busy_over_the_depth_limit(backend: EmbeddedBackend) -> None:
    jobs = [_job(1500), _job(1500)]
    for job in jobs:
        await backend.submit(job)
    with pytest.raises(BackendBusy, match="limit 2"):
        await backend.submit(_job(5))
    for job in jobs:
        await backend.cancel(job.job_id)
    while backend.active_jobs():  # the cancelled jobs' last events are still being written
        await asyncio.sleep(0.01)
    await backend.submit(_job(2))  # room again


async def test_bad_jobs_fail_at_submit(backend: EmbeddedBackend) -> None:
    with pytest.raises(UnknownAdapterError, match="ghost"):
        await backend.submit(_job(5, adapter="ghost"))
    with pytest.raises(ValueError, match="max_new_tokens"):
        await backend.submit(GenerationJob("x", "c", CHAT, None, {"max_new_tokens": 0}))
    with pytest.raises(ValueError, match="last message"):
        await backend.submit(_job(5, messages=[{"role": "system", "content": "x"}]))
    job = _job(2)
    await backend.submit(job)
    with pytest.raises(ValueError, match="already submitted"):
        await backend.submit(job)
    with pytest.raises(UnknownJobError):
        await _all(backend, "never-submitted")


async def test_long_prompt_is_truncated_and_flagged(tokenizer: Any) -> None:
    be = EmbeddedBackend(make_engine(tokenizer, {}), max_prompt_tokens=64)
    await be.start()
    try:
        job = _job(
            3, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "word " * 500}]
        )
        await be.submit(job)
        events = await _all(be, job.job_id)
        assert events[0].extra["prompt_truncated"] is True and events[-1].prompt_tokens <= 64
    finally:
        await be.stop()


async def test_finished_logs_expire(tokenizer: Any) -> None:
    be = EmbeddedBackend(make_engine(tokenizer, {}), log_ttl_s=0.0)
    await be.start()
    try:
        first = _job(2)
        await be.submit(first)
        await _all(be, first.job_id)
        await be.submit(_job(2))  # each submit sweeps expired logs
        with pytest.raises(UnknownJobError):
            await anext(be.events(first.job_id))
    finally:
        await be.stop()


async def test_health_reports_and_requires_a_started_engine(tokenizer: Any) -> None:
    be = EmbeddedBackend(make_engine(tokenizer, {}))
    with pytest.raises(RuntimeError, match="not started"):
        await be.health()
    await be.start()
    assert (await be.health())["backend"] == "embedded"
    await be.stop()
