"""The conversation service: store -> route -> decode -> submit -> (stream) -> store, for every channel."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.backends.base import BackendBusy, GenerationBackend, GenerationJob
from app.chat.conversations import (
    BOT_SILENT,
    assistant_row,
    context_messages,
    get_conversation,
    store_customer_message,
)
from app.chat.customer_errors import customer_error
from app.chat.handoff import NON_ENGLISH, handoff_by_router, handoff_event, non_english_reply, notice_frames
from app.chat.hub import ConversationHub
from app.chat.metrics import AppMetrics
from app.chat.planning import ReplyPlan, ReplyPlanner
from app.chat.recorder import JobRecorder
from app.chat.reply_notes import done_notes
from app.chat.watch_lease import WatchLeases
from app.db.models import Message
from app.knowledge.reply_facts import (
    GUARD_MODES,
    allowed_numbers,
    facts_for_reply,
    recent_customer_turns,
    record_facts,
)
from app.router import HANDOFF

log = logging.getLogger(__name__)
Emit = Callable[[dict[str, Any]], Awaitable[None]]
BUSY_MESSAGE = "busy, retrying"


@dataclass(frozen=True)
class InFlight:
    """A job being generated: whose it is and which row it fills."""

    conversation_id: str
    message_id: int


@dataclass(frozen=True)
class _Stored:
    message_id: int
    new: bool
    status: str
    previous_intent: str | None
    pinned: str | None


@dataclass(frozen=True)
class _Prepared:
    message_id: int
    plan: ReplyPlan | None
    messages: list[dict[str, str]]
    problem: str | None
    answered: list[dict[str, Any]] = field(default_factory=list)  # frames of a reply made without the model
    allowed: frozenset[str] | None = None  # numbers the reply may state (its grounded system turn's)
    handoff: dict[str, Any] | None = None  # the status event to publish: the router handed off to a person


class ChatService:
    """Turns a customer's message into a stored message and a streaming, recorded bot reply."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        backend: GenerationBackend,
        planner: ReplyPlanner,
        hub: ConversationHub,
        metrics: AppMetrics,
        *,
        resume_grace_s: float = 15.0,
        leases: WatchLeases | None = None,
        busy_retries: int = 4,
        busy_delay_s: float = 0.25,
        number_guard: str = "decode",
    ) -> None:
        self.sessions = sessions
        self.backend = backend
        self.planner = planner
        self.hub = hub
        self.metrics = metrics
        if number_guard not in GUARD_MODES:
            raise ValueError(f"number_guard must be one of {', '.join(GUARD_MODES)}; got {number_guard!r}")
        self.number_guard = number_guard
        self.recorder = JobRecorder(sessions, backend, metrics, check_numbers=number_guard != "off")
        self.resume_grace_s = resume_grace_s
        self.busy_retries = busy_retries
        self.busy_delay_s = busy_delay_s
        self.in_flight: dict[str, InFlight] = {}
        self.leases = leases or WatchLeases(None)
        self._watchers: dict[str, int] = defaultdict(int)
        self._cancel_timers: dict[str, asyncio.TimerHandle] = {}

    async def send(
        self, conversation_id: str, text: str, client_id: str | None, emit: Emit, channel: str = "web"
    ) -> str | None:
        """Store the message (committed first), then start the bot's reply; the reply's job id or None."""
        job_id = uuid.uuid4().hex
        # Database work runs in a thread: a slow or locked database must not stall every socket.
        stored = await asyncio.to_thread(self._store, conversation_id, text, client_id, channel)
        if not stored.new:
            await emit(
                {"type": "stored", "message_id": stored.message_id, "client_id": client_id, "duplicate": True}
            )
            return None
        self.metrics.messages.labels("customer", channel).inc()
        await emit(
            {
                "type": "stored",
                "job_id": job_id,
                "seq": 0,
                "message_id": stored.message_id,
                "client_id": client_id,
            }
        )
        if stored.status in BOT_SILENT:
            await self.hub.publish(
                conversation_id, {"type": "customer_message", "message_id": stored.message_id, "text": text}
            )
            await emit(
                {"type": "status", "status": stored.status, "text": "A member of our team will answer here."}
            )
            return None
        prepared = await asyncio.to_thread(self._prepare, conversation_id, stored, text, job_id)
        if prepared.handoff is not None:  # the same event as the page's "talk to a human" link
            await self.hub.publish(conversation_id, prepared.handoff)
            return None
        if prepared.answered:
            for frame in prepared.answered:
                await emit(frame)
            return None
        if prepared.plan is None:
            await self._report(emit, job_id, prepared.message_id, prepared.problem or "no reply", "planning")
            return None
        failure = await self.launch(
            conversation_id,
            prepared.message_id,
            job_id,
            prepared.plan,
            prepared.messages,
            emit,
            prepared.allowed,
        )
        return job_id if failure is None else None

    def _store(self, conversation_id: str, text: str, client_id: str | None, channel: str) -> _Stored:
        with self.sessions() as session:
            row, new = store_customer_message(session, conversation_id, text, client_id, channel)
            conv = get_conversation(session, conversation_id)
            return _Stored(row.id, new, conv.status, conv.current_intent, conv.pinned_adapter)

    def _prepare(self, conversation_id: str, stored: _Stored, text: str, job_id: str) -> _Prepared:
        """Plan the reply and create its row (`streaming`, or `error` if no plan could be made)."""
        with self.sessions() as session:
            plan: ReplyPlan | None = None
            problem = None
            try:
                decision = self.planner.route(session, text, stored.previous_intent, stored.pinned)
                if decision.intent == HANDOFF:
                    status = handoff_by_router(session, conversation_id, stored.message_id, decision)
                    return _Prepared(
                        stored.message_id, None, [], None, handoff=handoff_event(status, decision)
                    )
                if decision.reason == NON_ENGLISH:
                    row = non_english_reply(conversation_id, stored.message_id, job_id, decision)
                    session.add(row)
                    session.commit()
                    return _Prepared(row.id, None, [], None, answered=notice_frames(job_id, row.id, decision))
                plan = self.planner.for_intent(session, decision.intent, decision)
            except Exception as exc:  # a bad stored policy or pin must not lose the customer's message
                log.exception("planning the reply failed")
                problem = f"could not prepare a reply: {exc}"
            msg = assistant_row(conversation_id, stored.message_id, job_id, plan)
            session.add(msg)
            if plan is None:
                msg.status, msg.error = "error", problem
                session.commit()
                return _Prepared(msg.id, None, [], problem)
            get_conversation(session, conversation_id).current_intent = plan.intent
            session.flush()
            earlier = recent_customer_turns(session, conversation_id, stored.message_id)
            facts = facts_for_reply(session, text, earlier)
            record_facts(session, msg.id, facts)
            session.commit()
            system = facts.system_prompt(plan.system_prompt)
            messages = context_messages(session, conversation_id, system, before_id=msg.id)
            return _Prepared(msg.id, plan, messages, None, allowed=allowed_numbers(system))

    async def launch(
        self,
        conversation_id: str,
        message_id: int,
        job_id: str,
        plan: ReplyPlan,
        messages: list[dict[str, str]],
        emit: Emit,
        allowed: frozenset[str] | None = None,
    ) -> str | None:
        """Announce the route, submit the job (busy retries) and record it; the problem, or None.

        ``allowed``: the numbers/emails/phones the reply may state; per ``number_guard`` they
        constrain decoding and/or are checked against the finished reply (None: neither).
        """
        await emit(
            {"type": "route", "job_id": job_id, "seq": 1, "message_id": message_id, **plan.route_frame()}
        )
        constrain = allowed is not None and self.number_guard == "decode"
        job = GenerationJob(
            job_id,
            conversation_id,
            messages,
            plan.adapter,
            plan.params.to_dict(),
            plan.priority,
            time.time(),
            allowed_values=sorted(allowed) if constrain and allowed is not None else None,
        )
        failure = await self._submit(job, emit)
        if failure is not None:
            await asyncio.to_thread(self._fail_row, message_id, failure)
            await self._report(emit, job_id, message_id, failure, "submit")
            return failure
        self.in_flight[job_id] = InFlight(conversation_id, message_id)
        self.recorder.follow(job_id, message_id, on_finish=self._finished, allowed=allowed)
        return None

    async def _submit(self, job: GenerationJob, emit: Emit) -> str | None:
        """Submit, retrying with exponential backoff while the backend is busy; the problem or None."""
        for attempt in range(self.busy_retries + 1):
            try:
                await self.backend.submit(job)
                return None
            except BackendBusy:
                if attempt == self.busy_retries:
                    return (
                        "the assistant is too busy right now; your message is saved, please try again shortly"
                    )
                delay = self.busy_delay_s * 2**attempt
                self.metrics.errors.labels("busy").inc()
                await emit({"type": "busy", "job_id": job.job_id, "message": BUSY_MESSAGE, "retry_in": delay})
                await asyncio.sleep(delay)
            except Exception as exc:  # unknown adapter, prompt too long, engine down: reported, row kept
                log.exception("submit failed")
                return f"generation could not start: {exc}"
        return "generation could not start"

    async def _report(self, emit: Emit, job_id: str, message_id: int, problem: str, kind: str) -> None:
        self.metrics.errors.labels(kind).inc()
        # The row keeps ``problem`` for staff; the customer reads a plain sentence.
        message = customer_error(kind, problem)
        await emit({"type": "error", "job_id": job_id, "message_id": message_id, "message": message})

    def _fail_row(self, message_id: int, problem: str) -> None:
        with self.sessions() as session:
            row = session.get(Message, message_id)
            if row is not None:
                row.status, row.error = "error", problem
                session.commit()

    def _finished(self, job_id: str) -> None:
        self.in_flight.pop(job_id, None)
        timer = self._cancel_timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()
        self._watchers.pop(job_id, None)

    async def stop(self, conversation_id: str) -> list[str]:
        """Cancel the conversation's replies in flight (their rows end `interrupted`); the job ids."""
        jobs = [j for j, f in self.in_flight.items() if f.conversation_id == conversation_id]
        for job_id in jobs:
            await self.backend.cancel(job_id)
        return jobs

    def jobs_of(self, conversation_id: str) -> list[str]:
        """Job ids in flight for a conversation."""
        return [j for j, f in self.in_flight.items() if f.conversation_id == conversation_id]

    def message_id_for(self, job_id: str) -> int | None:
        """The assistant row a job fills."""
        if job_id in self.in_flight:
            return self.in_flight[job_id].message_id
        with self.sessions() as session:
            return session.scalar(select(Message.id).where(Message.request_id == job_id))

    def done_notes(self, message_id: int) -> dict[str, Any]:
        """What a reply's `done` frame adds from the database: its sources (key, title, kind) and
        whether it offers a person (app.chat.reply_notes.done_notes)."""
        with self.sessions() as session:
            return done_notes(session, message_id)

    def watch(self, job_id: str) -> None:
        """A socket streams this job: keep it alive even if an earlier socket dropped."""
        self._watchers[job_id] += 1
        timer = self._cancel_timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()

    def unwatch(self, job_id: str) -> None:
        """A socket stopped streaming the job; with nobody left, cancel it after the resume grace."""
        self._watchers[job_id] -= 1
        if self._watchers[job_id] > 0:
            return
        self._watchers.pop(job_id, None)  # jobs of other nodes never reach _finished here
        if job_id not in self.in_flight:
            return
        loop = asyncio.get_running_loop()

        async def _cancel_unless_watched() -> None:
            if job_id not in self.in_flight or self._watchers.get(job_id, 0) > 0:
                return
            if await self.leases.held(job_id):  # a socket on another node streams it: look again later
                self._cancel_timers[job_id] = loop.call_later(self.resume_grace_s, _fire)
                return
            await self.backend.cancel(job_id)

        def _fire() -> None:
            self._cancel_timers.pop(job_id, None)
            loop.create_task(_cancel_unless_watched())

        self._cancel_timers[job_id] = loop.call_later(self.resume_grace_s, _fire)
