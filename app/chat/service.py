"""The conversation service: store -> route -> decode -> submit -> (stream) -> store, for every channel.

ChatService is the one façade every channel uses; its parts live beside it: the stored side and
staff work in app.chat.desk, replies in flight and their readers in app.chat.streams, handing a job
to the backend in app.chat.submit, the stateless channels' outcomes in app.chat.stateless, and the
rows of a turn in app.chat.turns.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.chat.conversations import BOT_SILENT
from app.chat.hub import ConversationHub
from app.chat.metrics import AppMetrics
from app.chat.over_limit import Emit
from app.chat.planning import ReplyPlan, ReplyPlanner
from app.chat.stateless import ConversationWithStaff, ReplyNotStarted, StartedReply, grounded_chat
from app.chat.streams import ReplyStreams
from app.chat.submit import reply_job, report_problem, submit_with_retries
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
from app.generation.backend import GenerationBackend
from app.knowledge.reply_facts import GUARD_MODES, Steering, allowed_numbers
from app.operator.try_it import TryResult, try_policy

log = logging.getLogger(__name__)
# A database outage between storing a message and creating its reply row: ridden out this long.
PREPARE_RETRY_S = (0.5, 1.0, 2.0, 4.0, 4.0, 4.0)
SAVED_NOT_ANSWERED = (
    "Your message is saved, but the chat cannot reach its database to start the reply; "
    "send it again in a moment to get one."
)
STARTING_MESSAGE = "The assistant is starting up; your message is saved and will be answered in a moment."


async def _ignore(_: dict[str, Any]) -> None:
    return None


class ChatService(ReplyStreams):
    """The one façade of every channel: a customer's message in, a streaming, recorded bot reply out.

    Conversation and staff work (open, feedback, hand-off, take-over) come from ConversationDesk,
    streaming, cancelling and watching replies from ReplyStreams; starting them is here.
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
        if number_guard not in GUARD_MODES:
            raise ValueError(f"number_guard must be one of {', '.join(GUARD_MODES)}; got {number_guard!r}")
        checks = number_guard != "off"  # "check" and "decode" both check the finished reply
        super().__init__(
            sessions, hub, metrics, resume_grace_s=resume_grace_s, leases=leases, check_numbers=checks
        )
        self.number_guard = number_guard
        self.busy_retries = busy_retries
        self.busy_delay_s = busy_delay_s
        if backend is not None:
            self.connect(backend, planner)

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
            problem = prepared.problem or "no reply"
            await report_problem(self.metrics, emit, job_id, prepared.message_id, problem, "planning")
            return None
        failure = await self.launch(
            conversation_id,
            prepared.message_id,
            job_id,
            prepared.plan,
            prepared.messages,
            emit,
            prepared.allowed,
            prepared.steering,
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
        steering: Steering = Steering(),
        text_prompt: str | None = None,
    ) -> str | None:
        """Announce the route, submit the job (busy retries) and record it; the problem, or None.

        ``allowed``: the numbers/emails/phones the reply may state; per ``number_guard`` they
        constrain decoding and/or are checked against the finished reply (None: neither).
        ``text_prompt``: a text completion's prompt, continued without the chat template.
        """
        await emit(
            {"type": "route", "job_id": job_id, "seq": 1, "message_id": message_id, **plan.route_frame()}
        )
        constrain = allowed is not None and self.number_guard == "decode"
        job = reply_job(
            job_id, conversation_id, plan, messages, allowed if constrain else None, steering, text_prompt
        )
        failure = await submit_with_retries(
            self.backend, job, emit, self.metrics, self.busy_retries, self.busy_delay_s
        )
        if failure is not None:
            await asyncio.to_thread(fail_reply, self.sessions, message_id, failure)
            await report_problem(self.metrics, emit, job_id, message_id, failure, "submit")
            return failure
        self.track(job_id, conversation_id, message_id, allowed)
        if not self.backend.ready:  # queued behind the engine's start-up: say so, not silence
            await emit({"type": "status", "status": "starting", "text": STARTING_MESSAGE})
        return None

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
        if turn.notice is not None:  # a fixed notice answered it (app.chat.handoff): no job runs
            sources = turn.facts.sources() if turn.facts is not None else []
            conversation, notice, text = turn.conversation_id, turn.notice, turn.notice_text
            return StartedReply(job_id, sources, conversation, turn.plan, notice=notice, notice_text=text)
        if turn.silent or turn.facts is None:
            await self.hub.publish(
                turn.conversation_id,
                {"type": "customer_message", "message_id": turn.message_id, "text": messages[-1]["content"]},
            )
            raise ConversationWithStaff(turn.conversation_id)
        facts, plan = turn.facts, turn.plan
        messages = grounded_chat(messages, plan, facts)
        allowed = allowed_numbers(messages[0]["content"])
        problem = await self.launch(
            turn.conversation_id,
            turn.message_id,
            job_id,
            plan,
            messages,
            _ignore,
            allowed,
            facts.steering(),
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

    async def try_policy(
        self, intent: str, policy: DecodingPolicy, message: str, seed: int | None = None
    ) -> TryResult:
        """Answer an operator's test message with a draft policy on the intent's adapter (not stored)."""
        loaded = self.planner.loaded_adapters
        adapter_for = lambda name: name if name in loaded else None  # noqa: E731
        prompt = self.planner.system_prompt(intent)
        return await try_policy(self.backend, adapter_for, intent, policy, message, prompt, seed)
