"""A turn in the database: store the customer's message, plan and create the reply row, fail it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.chat.api_threads import open_thread, peek_thread, store_sent
from app.chat.conversations import (
    BOT_SILENT,
    assistant_row,
    context_messages,
    get_conversation,
    store_customer_message,
)
from app.chat.handoff import (
    ACCOUNT_LOOKUP,
    handoff_by_router,
    handoff_event,
    notice_frames,
    notice_reason,
    notice_reply,
    notice_text,
    plan_decision,
)
from app.chat.over_limit import RATE_LIMITED
from app.chat.planning import ReplyPlan, ReplyPlanner
from app.db.models import Message
from app.knowledge.reply_facts import (
    RECENT_TURNS,
    ReplyFacts,
    Steering,
    allowed_numbers,
    facts_for_reply,
    recent_customer_turns,
    record_facts,
)
from app.router import HANDOFF, RouteDecision
from app.widget.sites import site_business_name

log = logging.getLogger(__name__)
Sessions = sessionmaker[Session]
# (planner, session, the thread's current intent) -> plan; it may raise to refuse the turn.
PlanFor = Callable[[ReplyPlanner, Session, str | None], ReplyPlan]


@dataclass(frozen=True)
class StoredMessage:
    """The stored customer message and where its conversation stands."""

    message_id: int
    new: bool
    status: str
    previous_intent: str | None
    pinned: str | None
    # A bot reply is still owed: a retry (same client id) of a message whose reply never got its
    # row, because the node died or the database went away between storing it and planning.
    unanswered: bool = False


@dataclass(frozen=True)
class PreparedReply:
    """The reply's row and plan (None: planning failed, ``problem`` says why)."""

    message_id: int
    plan: ReplyPlan | None
    messages: list[dict[str, str]]
    problem: str | None
    answered: list[dict[str, Any]] = field(default_factory=list)  # frames of a reply made without the model
    allowed: frozenset[str] | None = None  # numbers the reply may state (its grounded system turn's)
    steering: Steering = Steering()  # the copy bias's facts and the banned openings
    handoff: dict[str, Any] | None = None  # the status event to publish: the router handed off to a person
    already_answered: bool = False  # a concurrent retry created the reply row first: nothing to do


@dataclass(frozen=True)
class StoredTurn:
    """A stateless channel's stored turn: the new conversation, the reply row, its plan and facts."""

    conversation_id: str
    message_id: int  # the reply's row; with ``silent``, the customer's
    plan: ReplyPlan
    facts: ReplyFacts | None
    silent: bool = False  # staff hold the conversation: stored, the bot does not answer
    notice: str | None = None  # answered with this reason's fixed notice (app.chat.handoff), not generated
    notice_text: str = ""  # ... whose text this is (with a policy quote: app.chat.handoff.notice_text)


def store_message(
    sessions: Sessions, conversation_id: str, text: str, client_id: str | None, channel: str
) -> StoredMessage:
    """Store (idempotently, by client id) a customer message; committed before anything else happens."""
    with sessions() as session:
        row, new = store_customer_message(session, conversation_id, text, client_id, channel)
        conv = get_conversation(session, conversation_id)
        if new and conv.status == "closed":  # writing again after a resolve reopens the chat with the bot
            conv.status = "active"
            session.commit()
        unanswered = not new and row.status == "received" and not _has_reply(session, row.id)
        return StoredMessage(row.id, new, conv.status, conv.current_intent, conv.pinned_adapter, unanswered)


def store_notice(
    session: Session,
    conversation_id: str,
    customer_id: int,
    job_id: str,
    decision: RouteDecision,
    reason: str,
    message: tuple[str, list[str]],
) -> tuple[Message, ReplyFacts | None]:
    """Store the notice for ``reason`` (flushed, not committed); for an account lookup the policy
    that answers ``message`` (text, earlier customer turns) in general goes into it, with its
    sources recorded: the facts it quotes, or None when it quotes none."""
    facts = facts_for_reply(session, *message) if reason == ACCOUNT_LOOKUP else None
    policy = facts.lookup_policy() if facts is not None else ""
    row = notice_reply(conversation_id, customer_id, job_id, decision, reason, notice_text(reason, policy))
    session.add(row)
    session.flush()
    if facts is None or not policy:
        return row, None
    record_facts(session, row.id, facts)
    return row, facts


def _has_reply(session: Session, message_id: int) -> bool:
    found = session.scalar(select(Message.id).where(Message.reply_to_id == message_id).limit(1))
    return found is not None


def prepare_reply(
    sessions: Sessions,
    planner: ReplyPlanner,
    conversation_id: str,
    stored: StoredMessage,
    text: str,
    job_id: str,
) -> PreparedReply:
    """Plan the reply and create its row (`streaming`, or `error` if no plan could be made)."""
    with sessions() as session:
        # The customer row stays locked until the reply row is committed: a retry racing in from
        # another socket waits here, then finds the reply and leaves (one reply per message).
        session.get(Message, stored.message_id, with_for_update=True)
        if _has_reply(session, stored.message_id):
            return PreparedReply(stored.message_id, None, [], None, already_answered=True)
        plan: ReplyPlan | None = None
        problem = None
        try:
            decision = planner.route(session, text, stored.previous_intent, stored.pinned)
            if decision.intent == HANDOFF:
                status = handoff_by_router(session, conversation_id, stored.message_id, decision)
                return PreparedReply(
                    stored.message_id, None, [], None, handoff=handoff_event(status, decision)
                )
            reason = notice_reason(decision, text)
            if reason is not None:
                earlier = recent_customer_turns(session, conversation_id, stored.message_id)
                row, quoted = store_notice(
                    session, conversation_id, stored.message_id, job_id, decision, reason, (text, earlier)
                )
                session.commit()
                sources = quoted.sources() if quoted is not None else []
                frames = notice_frames(job_id, row.id, decision, reason, row.text, sources)
                return PreparedReply(row.id, None, [], None, answered=frames)
            site_name = site_business_name(session, get_conversation(session, conversation_id).site_key)
            plan = planner.for_intent(session, decision.intent, decision, site_name)
        except Exception as exc:  # a bad stored policy or pin must not lose the customer's message
            log.exception("planning the reply failed")
            problem = f"could not prepare a reply: {exc}"
        msg = assistant_row(conversation_id, stored.message_id, job_id, plan)
        session.add(msg)
        if plan is None:
            msg.status, msg.error = "error", problem
            session.commit()
            return PreparedReply(msg.id, None, [], problem)
        get_conversation(session, conversation_id).current_intent = plan.intent
        session.flush()
        earlier = recent_customer_turns(session, conversation_id, stored.message_id)
        facts = facts_for_reply(session, text, earlier)
        record_facts(session, msg.id, facts)
        session.commit()
        system = facts.system_prompt(plan.system_prompt)
        messages = context_messages(session, conversation_id, system, before_id=msg.id)
        return PreparedReply(
            msg.id, plan, messages, None, allowed=allowed_numbers(system), steering=facts.steering()
        )


def fail_reply(sessions: Sessions, message_id: int, problem: str) -> None:
    """Mark a reply row `error` with the problem (its job never started)."""
    with sessions() as session:
        row = session.get(Message, message_id)
        if row is not None:
            row.status, row.error = "error", problem
            session.commit()


def store_turn(
    sessions: Sessions,
    planner: ReplyPlanner,
    messages: list[dict[str, str]],
    job_id: str,
    plan_for: PlanFor,
    channel: str,
    thread: str | None = None,
) -> StoredTurn:
    """A stateless channel's turn: plan first (it may refuse), then the conversation (``thread``'s,
    else a new one), the sent messages it lacks, the reply row, and the facts the reply is grounded
    in (the caller's earlier user turns give the context). With staff holding the conversation the
    messages are stored and no reply row is made (``silent``)."""
    text = messages[-1]["content"]
    with sessions() as session:
        prior = peek_thread(session, thread)
        plan = plan_for(planner, session, prior.current_intent if prior else None)
        conv = open_thread(session, thread, channel)
        customer = store_sent(session, conv.id, messages)
        if conv.status in BOT_SILENT:
            return StoredTurn(conv.id, customer.id, plan, facts=None, silent=True)
        # The same honest notices as the chat page's: the model would only guess at these.
        decision = plan_decision(plan)
        reason = notice_reason(decision, text)
        earlier = [m["content"] for m in messages[:-1] if m["role"] == "user"][-RECENT_TURNS:]
        if reason is not None:
            notice, quoted = store_notice(
                session, conv.id, customer.id, job_id, decision, reason, (text, earlier)
            )
            session.commit()
            return StoredTurn(conv.id, notice.id, plan, quoted, notice=reason, notice_text=notice.text)
        row = assistant_row(conv.id, customer.id, job_id, plan)
        session.add(row)
        conv.current_intent = plan.intent
        session.flush()
        facts = facts_for_reply(session, text, earlier)
        record_facts(session, row.id, facts)
        session.commit()
        return StoredTurn(conv.id, row.id, plan, facts)


def store_refused(
    sessions: Sessions, messages: list[dict[str, str]], channel: str, thread: str | None = None
) -> str:
    """Store a turn refused by the rate limit (newest message `rate_limited`, never answered); its
    conversation id. A retry of it reuses that row (app.chat.api_threads.store_sent)."""
    with sessions() as session:
        conv = open_thread(session, thread, channel)
        store_sent(session, conv.id, messages, status=RATE_LIMITED)
        return conv.id
