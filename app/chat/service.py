"""The conversation service: store -> route -> decode -> submit -> (stream) -> store, for every channel."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.chat import conversations as convs
from app.chat.conversations import (
    BOT_SILENT,
)
from app.chat.customer_errors import customer_error
from app.chat.desk import ConversationDesk
from app.chat.hub import ConversationHub
from app.chat.metrics import AppMetrics
from app.chat.planning import ReplyPlan, ReplyPlanner
from app.chat.recorder import JobRecorder
from app.chat.reply_notes import done_notes
from app.chat.turns import (
    PlanFor,
    PreparedReply,
    StoredMessage,
    fail_reply,
    prepare_reply,
    store_message,
    store_refused,
    store_turn,
)
from app.chat.watch_lease import WatchLeases
from app.decoding.policy import DecodingPolicy
from app.generation.backend import BackendBusy, GenerationBackend, GenerationJob, JobEvent
from app.knowledge.reply_facts import GUARD_MODES, allowed_numbers
from app.operator.try_it import TryResult, try_policy

log = logging.getLogger(__name__)
Emit = Callable[[dict[str, Any]], Awaitable[None]]
BUSY_MESSAGE = "busy, retrying"
# A database outage between storing a message and creating its reply row: ridden out this long.
PREPARE_RETRY_S = (0.5, 1.0, 2.0, 4.0, 4.0, 4.0)
SAVED_NOT_ANSWERED = (
    "Your message is saved, but the chat cannot reach its database to start the reply; "
    "send it again in a moment to get one."
)
STARTING_MESSAGE = "The assistant is starting up; your message is saved and will be answered in a moment."


class EngineNotReady(RuntimeError):
    """No generation backend is connected yet (the app's lifespan has not started the engine)."""


@dataclass(frozen=True)
class StartedReply:
    """A stateless channel's reply, launched: its job and the knowledge entries it is grounded in."""

    job_id: str
    sources: list[dict[str, Any]]
    conversation_id: str
    plan: ReplyPlan


class ConversationWithStaff(RuntimeError):
    """A person holds the conversation (pending, human, closed): the message is stored, no bot reply."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__("a member of staff has this conversation; the message is stored for them")
        self.conversation_id = conversation_id


class ReplyNotStarted(RuntimeError):
    """The reply's job could not be started (busy, engine down); the messages are stored."""


async def _ignore(_: dict[str, Any]) -> None:
    return None


@dataclass(frozen=True)
class InFlight:
    """A job being generated: whose it is and which row it fills."""

    conversation_id: str
    message_id: int


class ChatService(ConversationDesk):
    """The one façade of every channel: a customer's message in, a streaming, recorded bot reply out.

    Conversation and staff work (open, feedback, hand-off, take-over) come from ConversationDesk.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        backend: GenerationBackend | None,
        planner: ReplyPlanner | None,
        hub: ConversationHub,
        metrics: AppMetrics,
        *,
        resume_grace_s: float = 15.0,
        leases: WatchLeases | None = None,
        busy_retries: int = 4,
        busy_delay_s: float = 0.25,
        number_guard: str = "decode",
    ) -> None:
        super().__init__(sessions, hub, metrics)
        if number_guard not in GUARD_MODES:
            raise ValueError(f"number_guard must be one of {', '.join(GUARD_MODES)}; got {number_guard!r}")
        self.number_guard = number_guard
        self._backend: GenerationBackend | None = None
        self._planner: ReplyPlanner | None = None
        self._recorder: JobRecorder | None = None
        if backend is not None:
            self.connect(backend, planner)
        self.resume_grace_s = resume_grace_s
        self.busy_retries = busy_retries
        self.busy_delay_s = busy_delay_s
        self.in_flight: dict[str, InFlight] = {}
        self.leases = leases or WatchLeases(None)
        self._watchers: dict[str, int] = defaultdict(int)
        self._cancel_timers: dict[str, asyncio.TimerHandle] = {}

    def connect(self, backend: GenerationBackend, planner: ReplyPlanner | None) -> None:
        """Plug in what generates replies (the app's lifespan does, once the engine runs)."""
        self._backend, self._planner = backend, planner
        self._recorder = JobRecorder(
            self.sessions, backend, self.metrics, check_numbers=self.number_guard != "off"
        )

    @property
    def ready(self) -> bool:
        """Whether the bot can reply (a backend is connected); staff work needs no engine."""
        return self._backend is not None

    @property
    def backend(self) -> GenerationBackend:
        """The generation backend; EngineNotReady before ``connect``."""
        if self._backend is None:
            raise EngineNotReady("the generation engine is not running")
        return self._backend

    @property
    def planner(self) -> ReplyPlanner:
        """The reply planner; EngineNotReady before ``connect``."""
        if self._planner is None:
            raise EngineNotReady("the generation engine is not running")
        return self._planner

    @property
    def recorder(self) -> JobRecorder:
        """What writes each reply's row as its job streams; EngineNotReady before ``connect``."""
        if self._recorder is None:
            raise EngineNotReady("the generation engine is not running")
        return self._recorder

    async def send(
        self, conversation_id: str, text: str, client_id: str | None, emit: Emit, channel: str = "web"
    ) -> str | None:
        """Store the message (committed first), then start the bot's reply; the reply's job id or None."""
        job_id = uuid.uuid4().hex
        # Database work runs in a thread: a slow or locked database must not stall every socket.
        stored = await asyncio.to_thread(
            store_message, self.sessions, conversation_id, text, client_id, channel
        )
        retry_owed = stored.unanswered and stored.status not in BOT_SILENT
        if not stored.new and not retry_owed:
            await emit(
                {"type": "stored", "message_id": stored.message_id, "client_id": client_id, "duplicate": True}
            )
            return None
        if stored.new:
            self.metrics.messages.labels("customer", channel).inc()
        await emit(
            {
                "type": "stored",
                "job_id": job_id,
                "seq": 0,
                "message_id": stored.message_id,
                "client_id": client_id,
                **({} if stored.new else {"duplicate": True}),
            }
        )
        if stored.status in BOT_SILENT:
            await self.hub.publish(
                conversation_id, {"type": "customer_message", "message_id": stored.message_id, "text": text}
            )
            await self.notify_inbox("message", conversation_id)
            await emit(await self.waiting_notice(conversation_id, stored.status))
            return None
        prepared = await self._prepare(conversation_id, stored, text, job_id, emit)
        if prepared is None or prepared.already_answered:
            return None
        if prepared.handoff is not None:  # the same event as the page's "talk to a human" link
            await self.announce_handoff(conversation_id, prepared.handoff)
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
            prepared.copy_from,
        )
        return job_id if failure is None else None

    async def _prepare(
        self, conversation_id: str, stored: StoredMessage, text: str, job_id: str, emit: Emit
    ) -> PreparedReply | None:
        """Plan and create the reply row, riding out a short database outage; None if it stayed down.

        The message is committed already, so a failure here must not say "nothing was saved": the
        customer is told it is saved, and sending it again (same client id) starts the reply.
        """
        for delay in (*PREPARE_RETRY_S, None):
            try:
                return await asyncio.to_thread(
                    prepare_reply, self.sessions, self.planner, conversation_id, stored, text, job_id
                )
            except SQLAlchemyError as exc:
                if delay is None:
                    log.warning("reply to message %s not started: database unreachable (%s)",
                                stored.message_id, type(exc).__name__)  # fmt: skip
                    self.metrics.errors.labels("database").inc()
                    await emit({"type": "error", "job_id": job_id, "message_id": stored.message_id,
                                "message": SAVED_NOT_ANSWERED})  # fmt: skip
                    return None
                await asyncio.sleep(delay)
        return None

    async def launch(
        self,
        conversation_id: str,
        message_id: int,
        job_id: str,
        plan: ReplyPlan,
        messages: list[dict[str, str]],
        emit: Emit,
        allowed: frozenset[str] | None = None,
        copy_from: tuple[str, ...] = (),
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
            copy_from=list(copy_from),
        )
        failure = await self._submit(job, emit)
        if failure is not None:
            await asyncio.to_thread(fail_reply, self.sessions, message_id, failure)
            await self._report(emit, job_id, message_id, failure, "submit")
            return failure
        self.in_flight[job_id] = InFlight(conversation_id, message_id)
        self.recorder.follow(job_id, message_id, on_finish=self._finished, allowed=allowed)
        if not self.backend.ready:  # queued behind the engine's start-up: say so, not silence
            await emit({"type": "status", "status": "starting", "text": STARTING_MESSAGE})
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

    def _finished(self, job_id: str) -> None:
        self.in_flight.pop(job_id, None)
        timer = self._cancel_timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()
        self._watchers.pop(job_id, None)

    async def start_reply(
        self,
        messages: list[dict[str, str]],
        plan_for: PlanFor,
        channel: str = "api",
        thread: str | None = None,
    ) -> StartedReply:
        """A stateless channel's turn (OpenAI API): plan, store, launch.

        ``messages`` is the caller's whole chat, the last one the customer's; ``plan_for`` picks the
        plan (the API's ``model``) and may raise to refuse before anything is stored. ``thread``
        names the conversation calls share (app.chat.api_threads), None a new one each call. The
        reply is grounded like every other channel's, the caller's earlier user turns giving the
        context. ConversationWithStaff: stored, but a person answers this conversation now.
        """
        job_id = uuid.uuid4().hex
        turn = await asyncio.to_thread(
            store_turn, self.sessions, self.planner, messages, job_id, plan_for, channel, thread
        )
        self.metrics.messages.labels("customer", channel).inc()
        if turn.silent or turn.facts is None:
            await self.hub.publish(
                turn.conversation_id,
                {"type": "customer_message", "message_id": turn.message_id, "text": messages[-1]["content"]},
            )
            raise ConversationWithStaff(turn.conversation_id)
        facts, plan = turn.facts, turn.plan
        # The facts go into the caller's system message, or into the intent's system prompt.
        if messages[0]["role"] == "system":
            system, messages = messages[0]["content"], messages[1:]
        else:
            system = plan.system_prompt
        messages = [{"role": "system", "content": facts.system_prompt(system)}, *messages]
        allowed = allowed_numbers(messages[0]["content"])
        problem = await self.launch(
            turn.conversation_id,
            turn.message_id,
            job_id,
            plan,
            messages,
            _ignore,
            allowed,
            tuple(facts.copy_texts()),
        )
        if problem is not None:
            raise ReplyNotStarted(problem)
        return StartedReply(job_id, facts.sources(), turn.conversation_id, plan)

    async def refuse_reply(self, messages: list[dict[str, str]], channel: str, thread: str | None) -> str:
        """Store a turn the rate limit refused (never answered); its conversation id."""
        conversation_id = await asyncio.to_thread(store_refused, self.sessions, messages, channel, thread)
        self.metrics.messages.labels("customer", channel).inc()
        self.metrics.errors.labels("rate_limited").inc()
        return conversation_id

    def done_notes(self, message_id: int) -> dict[str, Any]:
        """What a reply's `done` frame adds from the database: its sources (key, title, kind) and
        whether it offers a person (app.chat.reply_notes.done_notes)."""
        with self.sessions() as session:
            return done_notes(session, message_id)

    async def stream(
        self, job_id: str, after: int = -1, message_id: int | None = None
    ) -> AsyncGenerator[JobEvent, None]:
        """The job's events after ``after``; the final one comes once its row is final in the database.

        While someone streams a job it lives; when the last reader leaves mid-reply, the job is
        cancelled after the resume grace. KeyError: the job is not known (any more). With the
        reply's ``message_id`` this node records the reply too: one begun on another node (maybe
        dead now) is still stored when its stream ends here (the first final write wins).
        """
        if message_id is not None:
            self.recorder.follow(job_id, message_id)
        self.watch(job_id)
        lease = asyncio.create_task(self.leases.keep(job_id))  # seen by every node's cancel timer
        finished = False
        try:
            async for event in self.backend.events(job_id, after):
                if event.final:
                    await self.recorder.wait(job_id)
                    finished = True
                yield event
        finally:
            lease.cancel()
            if not finished:
                self.unwatch(job_id)

    async def cancel(self, job_id: str) -> None:
        """Stop one reply now (its row ends `interrupted`)."""
        await self.backend.cancel(job_id)

    async def streaming_elsewhere(self, conversation_id: str, job_ids: list[str]) -> list[str]:
        """Of ``job_ids``, the conversation's replies still streaming that this node did not start."""
        others = [j for j in job_ids if j not in self.jobs_of(conversation_id)]
        if not others:
            return []
        found: list[str] = await asyncio.to_thread(
            self._in_session, convs.streaming_job_ids, conversation_id, others
        )
        return found

    async def try_policy(
        self, intent: str, policy: DecodingPolicy, message: str, seed: int | None = None
    ) -> TryResult:
        """Answer an operator's test message with a draft policy on the intent's adapter (not stored)."""
        loaded = self.planner.loaded_adapters
        adapter_for = lambda name: name if name in loaded else None  # noqa: E731
        prompt = self.planner.system_prompt(intent)
        return await try_policy(self.backend, adapter_for, intent, policy, message, prompt, seed)

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
            return convs.reply_id_for(session, job_id)

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
