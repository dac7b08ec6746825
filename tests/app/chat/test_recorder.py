"""JobRecorder with workers: a job Redis lost in a restart, whose worker writes on, is still stored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from app.chat.conversations import create_conversation
from app.chat.metrics import AppMetrics
from app.chat.recorder import JobRecorder
from app.db.models import Message
from app.db.session import session_factory
from app.generation import redis_streams as rs
from app.generation.backend import JobEvent
from app.generation.redis_backend import RedisBackend
from tests.app.scaleout_support import private_redis


@pytest.fixture()
def redis_url() -> Iterator[str]:
    with private_redis() as (url, _):
        yield url


def _reply_row(db: Session, job_id: str) -> Message:
    conv = create_conversation(db)
    customer = Message(conversation_id=conv.id, role="customer", text="where is my order?", status="received")
    db.add(customer)
    db.flush()
    row = Message(
        conversation_id=conv.id, role="assistant", text="", status="streaming", job_id=job_id,
        reply_to_id=customer.id,
    )  # fmt: skip
    db.add(row)
    db.commit()
    return row


async def test_a_job_unknown_right_after_a_redis_restart_is_recorded_when_its_worker_writes(
    pg_url: str, redis_url: str, db: Session
) -> None:
    backend = RedisBackend(redis_url, block_ms=200)
    await backend.start()
    job_id = uuid.uuid4().hex
    row = _reply_row(db, job_id)
    recorder = JobRecorder(session_factory(pg_url), backend, AppMetrics(), check_numbers=False)
    try:
        recorder.follow(job_id, row.id)  # Redis holds nothing of the job: its keys went with the restart
        await asyncio.sleep(1.0)
        # ... and its worker, still generating, writes the next events into the new Redis.
        await rs.append_event(backend.redis, JobEvent(job_id, 0, "token", text="It ships "))
        await rs.append_event(backend.redis, JobEvent(job_id, 1, "done", text="today.", finish_reason="stop"))
        await asyncio.wait_for(recorder.wait(job_id), 30)
    finally:
        await backend.stop()
    db.expire_all()
    stored = db.get(Message, row.id)
    assert stored is not None
    assert (stored.status, stored.text) == ("done", "It ships today.")  # was: interrupted, text lost


async def test_a_reply_finishing_while_the_database_is_cut_is_stored_when_it_is_back(
    pg_url: str, db: Session, tokenizer: object
) -> None:
    from app.generation.backend import GenerationJob
    from app.generation.embedded import EmbeddedBackend
    from app.loadtest.tcp_proxy import TcpProxy
    from inference import SamplingParams
    from tests.app.chat_support import make_engine

    host_port = pg_url.split("@", 1)[1].split("/", 1)[0]
    proxy = TcpProxy(int(host_port.split(":")[1]))
    sessions = session_factory(pg_url.replace(host_port, f"127.0.0.1:{proxy.port}"))
    backend = EmbeddedBackend(make_engine(tokenizer, {}))
    await backend.start()
    job_id = uuid.uuid4().hex
    row = _reply_row(db, job_id)
    recorder = JobRecorder(sessions, backend, AppMetrics(), check_numbers=False)
    try:
        proxy.cut()  # the reply finishes while the database is unreachable, and for 2 s after
        asyncio.get_running_loop().call_later(2.0, proxy.restore)
        params = SamplingParams(temperature=0, max_new_tokens=6, ignore_eos=True).to_dict()
        await backend.submit(GenerationJob(job_id, row.conversation_id, [{"role": "user", "content": "hi"}],
                                           None, params))  # fmt: skip
        recorder.follow(job_id, row.id)
        await asyncio.wait_for(recorder.wait(job_id), 60)  # was: OperationalError, row left streaming
    finally:
        await backend.stop()
        proxy.close()
    db.expire_all()
    stored = db.get(Message, row.id)
    assert stored is not None and stored.status == "done" and stored.completion_tokens == 6
