"""A message stored without its reply (node killed, database gone in between) still gets one reply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat import service as service_module
from app.chat.conversations import create_conversation
from app.chat.hub import InProcessHub
from app.chat.metrics import AppMetrics
from app.chat.planning import ReplyPlanner
from app.chat.service import SAVED_NOT_ANSWERED, ChatService
from app.chat.turns import store_message
from app.db.models import Message
from app.db.session import session_factory
from app.generation.embedded import EmbeddedBackend
from app.loadtest.tcp_proxy import TcpProxy
from tests.app.chat_support import KeywordRouter, make_engine


@pytest.fixture()
async def backend(tokenizer: Any) -> AsyncIterator[EmbeddedBackend]:
    be = EmbeddedBackend(make_engine(tokenizer, {}))
    await be.start()
    yield be
    await be.stop()


def _service(url: str, backend: EmbeddedBackend) -> ChatService:
    planner = ReplyPlanner(KeywordRouter(), backend.engine.adapters())
    return ChatService(session_factory(url), backend, planner, InProcessHub(), AppMetrics())


def _rows(db: Session, cid: str) -> list[tuple[str, str]]:
    db.expire_all()
    rows = db.scalars(select(Message).where(Message.conversation_id == cid).order_by(Message.id))
    return [(r.role, r.status) for r in rows]


async def _finish(service: ChatService, job_id: str | None) -> None:
    assert job_id is not None
    async for _ in service.stream(job_id):
        pass


async def _ignore(_: dict[str, Any]) -> None:
    return None


async def test_a_retry_of_a_message_left_without_a_reply_starts_it_once(
    pg_url: str, backend: EmbeddedBackend, db: Session
) -> None:
    service = _service(pg_url, backend)
    cid = create_conversation(db).id
    # What a node killed between storing the message and creating its reply row leaves behind.
    store_message(service.sessions, cid, "my laptop will not boot", "c-1", "web")
    frames: list[dict[str, Any]] = []

    async def emit(frame: dict[str, Any]) -> None:
        frames.append(frame)

    job_id = await service.send(cid, "my laptop will not boot", "c-1", emit)
    await _finish(service, job_id)  # was: "duplicate", and no reply ever
    assert frames[0]["type"] == "stored" and frames[0]["duplicate"] and frames[0]["job_id"] == job_id
    assert await service.send(cid, "my laptop will not boot", "c-1", _ignore) is None  # answered now
    assert _rows(db, cid) == [("customer", "received"), ("assistant", "done")]


def _proxied(pg_url: str) -> tuple[TcpProxy, str]:
    host_port = pg_url.split("@", 1)[1].split("/", 1)[0]
    proxy = TcpProxy(int(host_port.split(":")[1]))
    return proxy, pg_url.replace(host_port, f"127.0.0.1:{proxy.port}")


async def test_a_database_cut_after_the_message_is_stored_is_ridden_out(
    pg_url: str, backend: EmbeddedBackend, db: Session
) -> None:
    proxy, url = _proxied(pg_url)
    service = _service(url, backend)
    cid = create_conversation(db).id
    loop = asyncio.get_running_loop()

    async def emit(frame: dict[str, Any]) -> None:
        if frame["type"] == "stored":  # committed; now the database goes away for a second
            proxy.cut()
            loop.call_later(1.0, proxy.restore)

    try:
        await _finish(service, await service.send(cid, "the backup keeps failing", "c-1", emit))
    finally:
        proxy.close()
    assert _rows(db, cid) == [("customer", "received"), ("assistant", "done")]


async def test_a_longer_cut_says_the_message_is_saved_and_a_retry_answers_it(
    pg_url: str, backend: EmbeddedBackend, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "PREPARE_RETRY_S", (0.1,))
    proxy, url = _proxied(pg_url)
    service = _service(url, backend)
    cid = create_conversation(db).id
    frames: list[dict[str, Any]] = []

    async def emit(frame: dict[str, Any]) -> None:
        frames.append(frame)
        if frame["type"] == "stored":
            proxy.cut()

    try:
        assert await service.send(cid, "the backup keeps failing", "c-1", emit) is None
        assert (
            frames[-1]["type"] == "error" and frames[-1]["message"] == SAVED_NOT_ANSWERED
        )  # not "nothing saved"
        proxy.restore()
        await _finish(service, await service.send(cid, "the backup keeps failing", "c-1", _ignore))
    finally:
        proxy.close()
    assert _rows(db, cid) == [("customer", "received"), ("assistant", "done")]
