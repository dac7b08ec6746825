"""StartingBackend: jobs sent while the engine loads wait and are answered, cancelled, or failed clearly."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.generation.backend import BackendBusy, GenerationBackend, GenerationJob, JobEvent
from app.generation.embedded import EmbeddedBackend, UnknownJobError
from app.generation.starting import StartingBackend
from inference import SamplingParams
from tests.app.chat_support import make_engine

CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]


def _job(tokens: int, adapter: str | None = None) -> GenerationJob:
    return GenerationJob(uuid.uuid4().hex, "conv", CHAT, adapter, SamplingParams.greedy(tokens).to_dict())


async def _all(be: GenerationBackend, job_id: str) -> list[JobEvent]:
    return [e async for e in be.events(job_id)]


@pytest.fixture()
def gate() -> asyncio.Event:
    return asyncio.Event()


@pytest.fixture()
async def starting(tokenizer: Any, gate: asyncio.Event) -> AsyncIterator[StartingBackend]:
    async def build() -> GenerationBackend:
        await gate.wait()  # the engine "loads" until the test opens the gate
        return EmbeddedBackend(make_engine(tokenizer, {}))

    be = StartingBackend(build, max_pending=2)
    await be.start()
    yield be
    await be.stop()


async def test_a_job_sent_while_loading_waits_and_is_answered_once_ready(
    starting: StartingBackend, gate: asyncio.Event
) -> None:
    first, second = _job(6), _job(4)
    await starting.submit(first)
    await starting.submit(second)
    health = await starting.health()
    assert not starting.ready and health["ready"] is False and health["waiting_jobs"] == 2
    streams = asyncio.gather(_all(starting, first.job_id), _all(starting, second.job_id))
    await asyncio.sleep(0.05)
    assert not streams.done()  # nothing is answered before the engine runs
    gate.set()
    events_first, events_second = await asyncio.wait_for(streams, 60)
    assert events_first[-1].kind == "done" and events_first[-1].completion_tokens == 6
    assert events_second[-1].kind == "done" and events_second[-1].completion_tokens == 4
    assert [e.seq for e in events_first] == list(range(len(events_first)))
    health = await starting.health()
    assert starting.ready and health["ready"] is True and health["backend"] == "embedded"
    later = _job(3)  # once ready, jobs go straight to the engine
    await starting.submit(later)
    assert (await _all(starting, later.job_id))[-1].completion_tokens == 3


async def test_waiting_jobs_are_bounded(starting: StartingBackend) -> None:
    await starting.submit(_job(2))
    await starting.submit(_job(2))
    with pytest.raises(BackendBusy, match="wait for the engine"):
        await starting.submit(_job(2))


async def test_a_job_cancelled_while_loading_ends_cancelled(
    starting: StartingBackend, gate: asyncio.Event
) -> None:
    job = _job(1500)
    await starting.submit(job)
    await starting.cancel(job.job_id)
    gate.set()
    events = await asyncio.wait_for(_all(starting, job.job_id), 60)
    assert events[-1].kind == "done" and events[-1].finish_reason == "cancelled"
    assert events[-1].completion_tokens < 1500


async def test_a_job_the_engine_refuses_at_hand_over_ends_with_an_error(
    starting: StartingBackend, gate: asyncio.Event
) -> None:
    job, fine = _job(3, adapter="no-such-adapter"), _job(3)
    await starting.submit(job)
    await starting.submit(fine)
    gate.set()
    events = await asyncio.wait_for(_all(starting, job.job_id), 60)
    assert [e.kind for e in events] == ["error"] and "could not start" in (events[0].error or "")
    assert (await _all(starting, fine.job_id))[-1].kind == "done"  # the next job is not held back


async def test_a_failed_load_ends_waiting_jobs_and_refuses_new_ones_clearly() -> None:
    async def build() -> GenerationBackend:
        raise OSError("model.safetensors is truncated")

    be = StartingBackend(build)
    job = _job(3)
    await be.submit(job)  # queued before the load has run
    await be.start()
    events = await asyncio.wait_for(_all(be, job.job_id), 10)
    assert [e.kind for e in events] == ["error"] and "truncated" in (events[0].error or "")
    with pytest.raises(RuntimeError, match="engine failed to load.*truncated"):
        await be.submit(_job(3))
    with pytest.raises(RuntimeError, match="truncated"):
        await be.health()


async def test_a_job_never_given_to_it_is_unknown_at_once(starting: StartingBackend) -> None:
    # What the start-up sweep asks about rows of a previous run: no waiting for the model.
    with pytest.raises(UnknownJobError):
        await asyncio.wait_for(_all(starting, "from-the-last-run"), 1)
