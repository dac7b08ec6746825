"""Replies left `streaming` by a dead node or a restart are finalised by whoever streams them.

Issue 14: kill or stop the API node that started a reply and the row stayed `streaming` with
empty text forever, although the worker finished it and another node streamed it to the end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.chat.conversations import assistant_row, create_conversation, store_customer_message
from app.chat.metrics import AppMetrics
from app.chat.orphans import OrphanSweeper
from app.chat.recorder import LOST_WITH_SERVER, JobRecorder
from app.db.models import Message
from app.db.session import session_factory
from app.generation.redis_backend import RedisBackend
from app.main import create_app
from tests.app.chat_support import KeywordRouter, make_engine, settings_for
from tests.app.scaleout_support import RunningWorker, collect, flushed, job, private_redis


@pytest.fixture(scope="module")
def redis_server() -> Iterator[str]:
    with private_redis() as (url, _):
        yield url


def _streaming_row(db: Session, job_id: str) -> int:
    conv = create_conversation(db)
    customer, _ = store_customer_message(db, conv.id, "my router drops wifi", None)
    row = assistant_row(conv.id, customer.id, job_id, None)
    db.add(row)
    db.commit()
    return row.id


def _row(db: Session, message_id: int) -> Message:
    db.expire_all()
    row = db.get(Message, message_id)
    assert row is not None
    return row


def test_a_restarted_single_machine_finalises_what_it_left_streaming(
    pg_url: str, tokenizer: Any, db: Session
) -> None:
    orphan = _streaming_row(db, "job-of-the-previous-run")
    app = create_app(settings_for(pg_url), engine=make_engine(tokenizer, {}), router=KeywordRouter())
    with TestClient(app):
        row = _row(db, orphan)
    assert row.status == "interrupted" and row.error == LOST_WITH_SERVER


async def test_a_reply_whose_node_died_is_stored_by_another_node(
    redis_server: str, pg_url: str, tokenizer: Any, db: Session
) -> None:
    url = flushed(redis_server)
    sessions = session_factory(pg_url)
    node_a, node_b = RedisBackend(url, block_ms=100), RedisBackend(url, block_ms=100)
    await node_a.start()
    await node_b.start()
    worker = RunningWorker(tokenizer, url, "w1")
    try:
        reply = job(300)  # long enough to be mid-reply when node A stops
        message_id = _streaming_row(db, reply.job_id)
        await node_a.submit(reply)
        recorder_a = JobRecorder(sessions, node_a, AppMetrics())
        recorder_a.follow(reply.job_id, message_id)
        await anext(node_b.events(reply.job_id))  # the worker has started
        recorder_a.tasks[reply.job_id].cancel()  # node A stops mid-reply (SIGTERM)
        with contextlib.suppress(asyncio.CancelledError):
            await recorder_a.wait(reply.job_id)
        assert _row(db, message_id).status == "streaming"  # not cut short: the worker still runs it
        expected = "".join(e.text for e in await collect(node_b, reply.job_id))
        sweeper = OrphanSweeper(sessions, JobRecorder(sessions, node_b, AppMetrics()))
        assert await sweeper.sweep_once(min_age_s=0) == 1
        await sweeper.wait_idle()
        row = _row(db, message_id)
        assert row.status == "done" and row.text == expected and row.completion_tokens == 300
        assert await sweeper.sweep_once(min_age_s=0) == 0  # nothing left streaming
    finally:
        await worker.close()
        await node_a.stop()
        await node_b.stop()


async def test_a_job_redis_lost_ends_interrupted_not_streaming(
    redis_server: str, pg_url: str, db: Session
) -> None:
    backend = RedisBackend(flushed(redis_server), block_ms=100)
    await backend.start()
    try:
        sessions = session_factory(pg_url)
        message_id = _streaming_row(db, "never-reached-redis")
        sweeper = OrphanSweeper(sessions, JobRecorder(sessions, backend, AppMetrics()))
        await sweeper.sweep_once(min_age_s=0)
        await sweeper.wait_idle()
        assert _row(db, message_id).status == "interrupted"
    finally:
        await backend.stop()


async def test_a_second_recorder_never_overwrites_a_stored_reply(
    redis_server: str, pg_url: str, tokenizer: Any, db: Session
) -> None:
    url = flushed(redis_server)
    backend = RedisBackend(url, block_ms=100)
    await backend.start()
    worker = RunningWorker(tokenizer, url, "w1")
    try:
        sessions = session_factory(pg_url)
        reply = job(8)
        message_id = _streaming_row(db, reply.job_id)
        await backend.submit(reply)
        first = JobRecorder(sessions, backend, AppMetrics())
        first.follow(reply.job_id, message_id)
        await first.wait(reply.job_id)
        stored = _row(db, message_id)
        stored.text = "as stored by the first node"
        db.commit()
        second = JobRecorder(sessions, backend, AppMetrics())
        second.follow(reply.job_id, message_id)
        await second.wait(reply.job_id)
        assert _row(db, message_id).text == "as stored by the first node"
    finally:
        await worker.close()
        await backend.stop()
