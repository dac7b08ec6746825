"""ChatService without a socket: busy retries, and the customer's message survives every failure."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.conversations import create_conversation
from app.chat.hub import InProcessHub
from app.chat.metrics import AppMetrics
from app.chat.planning import ReplyPlanner, UntrainedRouter
from app.chat.service import ChatService
from app.chat.submit import BUSY_MESSAGE
from app.db.models import DecodingSetting, Message
from app.db.session import session_factory
from app.generation.backend import GenerationJob
from app.generation.embedded import EmbeddedBackend
from inference import SamplingParams
from tests.app.chat_support import KeywordRouter, make_adapters, make_engine


@pytest.fixture(scope="module")
def adapters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_adapters(tmp_path_factory.mktemp("svc-adapters"))


@pytest.fixture()
async def backend(tokenizer: Any, adapters: dict[str, Path]) -> AsyncIterator[EmbeddedBackend]:
    be = EmbeddedBackend(make_engine(tokenizer, adapters), max_queue_depth=1)
    await be.start()
    yield be
    await be.stop()


def _service(pg_url: str, backend: EmbeddedBackend, planner: ReplyPlanner | None = None) -> ChatService:
    planner = planner or ReplyPlanner(KeywordRouter(), backend.engine.adapters())
    return ChatService(
        session_factory(pg_url), backend, planner, InProcessHub(), AppMetrics(), busy_delay_s=0.01
    )


def _rows(db: Session, cid: str) -> list[Message]:
    db.expire_all()
    return list(db.scalars(select(Message).where(Message.conversation_id == cid).order_by(Message.id)))


async def _finish(service: ChatService, job_id: str | None) -> None:
    assert job_id is not None
    async for _ in service.stream(job_id):  # the final event comes once the row is stored
        pass


async def _submit_blocker(backend: EmbeddedBackend) -> GenerationJob:
    """A long job that fills the backend's queue (depth 1 in these tests) until it is cancelled."""
    blocker = GenerationJob(
        uuid.uuid4().hex,
        "x",
        [{"role": "user", "content": "hi"}],
        None,
        SamplingParams.greedy(1500).to_dict(),
    )
    await backend.submit(blocker)
    return blocker


async def test_busy_backend_is_retried_with_backoff(
    pg_url: str, backend: EmbeddedBackend, db: Session
) -> None:
    service = _service(pg_url, backend)
    blocker = await _submit_blocker(backend)
    frames: list[dict[str, Any]] = []

    async def emit(frame: dict[str, Any]) -> None:
        frames.append(frame)
        if frame["type"] == "busy" and len([f for f in frames if f["type"] == "busy"]) == 2:
            await backend.cancel(blocker.job_id)  # the queue drains while the service backs off

    cid = create_conversation(db).id
    job_id = await service.send(cid, "hello", None, emit)
    await _finish(service, job_id)
    busy = [f for f in frames if f["type"] == "busy"]
    assert [f["message"] for f in busy] == [BUSY_MESSAGE] * len(busy) and len(busy) >= 2
    assert busy[1]["retry_in"] == 2 * busy[0]["retry_in"]
    assert [r.status for r in _rows(db, cid)] == ["received", "done"]


async def test_always_busy_keeps_the_message_and_errors_the_reply(
    pg_url: str, backend: EmbeddedBackend, db: Session
) -> None:
    service = _service(pg_url, backend)
    blocker = await _submit_blocker(backend)
    frames: list[dict[str, Any]] = []

    async def emit(frame: dict[str, Any]) -> None:
        frames.append(frame)

    cid = create_conversation(db).id
    assert await service.send(cid, "anyone there?", "c1", emit) is None
    await backend.cancel(blocker.job_id)
    assert frames[-1]["type"] == "error" and "too busy" in frames[-1]["message"]
    customer, reply = _rows(db, cid)
    assert (customer.text, customer.status) == ("anyone there?", "received")
    assert reply.status == "error" and "too busy" in (reply.error or "")


async def test_bad_stored_policy_keeps_the_message(
    pg_url: str, backend: EmbeddedBackend, db: Session
) -> None:
    db.add(DecodingSetting(intent="general", version=1, settings={"strategy": "warp-drive"}))
    db.commit()
    service = _service(pg_url, backend)
    frames: list[dict[str, Any]] = []

    async def emit(frame: dict[str, Any]) -> None:
        frames.append(frame)

    cid = create_conversation(db).id
    assert await service.send(cid, "hello", None, emit) is None
    assert [f["type"] for f in frames] == ["stored", "error"] and "could not prepare" in frames[-1]["message"]
    assert "warp-drive" not in frames[-1]["message"]  # customers read plain words, staff the detail
    customer, reply = _rows(db, cid)
    assert customer.text == "hello" and reply.status == "error" and "strategy" in (reply.error or "")


async def test_engine_rejection_keeps_the_message(pg_url: str, backend: EmbeddedBackend, db: Session) -> None:
    # The planner believes a 'general' adapter is loaded that the engine does not have.
    backend.engine.unload_adapter("general")
    service = _service(pg_url, backend, ReplyPlanner(UntrainedRouter(), ["general"]))
    frames: list[dict[str, Any]] = []

    async def emit(frame: dict[str, Any]) -> None:
        frames.append(frame)

    cid = create_conversation(db).id
    assert await service.send(cid, "hello", None, emit) is None
    assert [f["type"] for f in frames] == ["stored", "route", "error"]
    customer, reply = _rows(db, cid)
    assert customer.status == "received" and reply.status == "error" and "not loaded" in (reply.error or "")
    assert reply.intent == "general" and reply.router_confidence == 0.0


async def test_history_context_feeds_the_next_reply(
    pg_url: str, backend: EmbeddedBackend, db: Session
) -> None:
    service = _service(pg_url, backend)

    async def emit(frame: dict[str, Any]) -> None:
        return None

    cid = create_conversation(db).id
    await _finish(service, await service.send(cid, "my laptop is slow", None, emit))
    first = _rows(db, cid)[1]
    await _finish(service, await service.send(cid, "and it is hot", None, emit))
    second = _rows(db, cid)[3]
    # The second prompt carries the first exchange: more prompt tokens than the first had.
    assert second.prompt_tokens > first.prompt_tokens + first.completion_tokens
    assert second.intent == "tech_support"  # sticky: "and it is hot" alone would be general


async def test_pinned_adapter_overrides_the_router(
    pg_url: str, backend: EmbeddedBackend, db: Session
) -> None:
    service = _service(pg_url, backend)
    frames: list[dict[str, Any]] = []

    async def emit(frame: dict[str, Any]) -> None:
        frames.append(frame)

    conv = create_conversation(db)
    conv.pinned_adapter = "sales"
    db.commit()
    await _finish(service, await service.send(conv.id, "my laptop is slow", None, emit))
    route = next(f for f in frames if f["type"] == "route")
    assert (route["intent"], route["adapter"], route["overridden_from"]) == ("sales", "sales", "tech_support")
    reply = _rows(db, conv.id)[1]
    assert (reply.adapter, reply.router_overridden_from) == ("sales", "tech_support")
