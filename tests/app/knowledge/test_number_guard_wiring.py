"""The number guard in the chat path: a reply's allowed values come from its facts, decoding is
constrained in "decode" mode, and every finished reply is checked and the result stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.conversations import create_conversation
from app.chat.hub import InProcessHub
from app.chat.metrics import AppMetrics
from app.chat.planning import ReplyPlanner
from app.chat.service import ChatService
from app.db.models import Message
from app.db.session import session_factory
from app.generation.backend import GenerationBackend, GenerationJob, JobEvent
from app.knowledge.importer import import_path
from inference import unverified_numbers
from tests.app.chat_support import KeywordRouter


class ScriptedBackend(GenerationBackend):
    """Stands in for the engine (not the database): every job 'generates' the same reply text."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.jobs: list[GenerationJob] = []
        self.done: dict[str, asyncio.Event] = {}

    async def submit(self, job: GenerationJob) -> None:
        self.jobs.append(job)

    async def events(self, job_id: str, after: int = -1) -> AsyncIterator[JobEvent]:
        if after < 0:
            yield JobEvent(job_id, 0, "token", text=self.reply)
        yield JobEvent(job_id, 1, "done", finish_reason="stop", completion_tokens=8)

    async def cancel(self, job_id: str) -> None:
        return None

    async def health(self) -> dict[str, Any]:
        return {"ok": True}


def seeded_service(pg_url: str, db: Session, backend: ScriptedBackend, **options: Any) -> ChatService:
    """A chat service over the seeded knowledge base, routing by keyword, replying with ``backend``."""
    import_path(db)
    return ChatService(
        session_factory(pg_url),
        backend,
        ReplyPlanner(KeywordRouter(), ["general", "tech_support", "sales"]),
        InProcessHub(),
        AppMetrics(),
        **options,
    )


async def ignore_frame(_: dict[str, Any]) -> None:
    return None


async def _reply_row(pg_url: str, db: Session, backend: ScriptedBackend, mode: str) -> Message:
    service = seeded_service(pg_url, db, backend, number_guard=mode)
    cid = create_conversation(db).id
    job_id = await service.send(cid, "How much are the EchoMax headphones?", None, ignore_frame)
    assert job_id is not None
    await service.recorder.wait(job_id)
    db.expire_all()
    row = db.scalars(select(Message).where(Message.job_id == job_id)).one()
    assert "switchboard_unverified_numbers_total" in service.metrics.render()
    return row


async def test_decode_mode_constrains_to_the_facts_and_checks(pg_url: str, db: Session) -> None:
    backend = ScriptedBackend("The EchoMax ANC costs $249, call 0800 555 0199.")
    row = await _reply_row(pg_url, db, backend, "decode")
    allowed = backend.jobs[-1].allowed_values
    assert allowed is not None and "$299" in allowed and "299" in allowed and "$249" not in allowed
    assert allowed == sorted(allowed)  # plain JSON for the Redis queue
    # A reply that still says a number the facts do not hold is caught and stored (the spans are
    # the guard's own post-check; the wiring stores what it finds).
    assert row.unverified_numbers == unverified_numbers(backend.reply, frozenset(allowed))
    assert "$249" in row.unverified_numbers


async def test_check_mode_only_checks(pg_url: str, db: Session) -> None:
    backend = ScriptedBackend("The EchoMax ANC is $299 with a 40-hour battery.")
    row = await _reply_row(pg_url, db, backend, "check")
    assert backend.jobs[-1].allowed_values is None
    assert row.unverified_numbers == []


async def test_off_mode_does_neither(pg_url: str, db: Session) -> None:
    backend = ScriptedBackend("It is $5.")
    row = await _reply_row(pg_url, db, backend, "off")
    assert backend.jobs[-1].allowed_values is None and row.unverified_numbers is None


def test_unknown_mode_is_refused(pg_url: str) -> None:
    with pytest.raises(ValueError, match="number_guard"):
        ChatService(
            session_factory(pg_url),
            ScriptedBackend(""),
            ReplyPlanner(KeywordRouter(), []),
            InProcessHub(),
            AppMetrics(),
            number_guard="maybe",
        )
