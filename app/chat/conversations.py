"""Conversation storage for the chat: open, history, customer messages, feedback, hand-off."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.chat.planning import ReplyPlan
from app.chat.reply_notes import handoff_offers, reply_notes, sources_by_message
from app.db.models import Conversation, Feedback, Message, utcnow
from app.staff.events import record_event

HISTORY_LIMIT = 200
CONTEXT_TURNS = 20
BOT_SILENT = ("pending", "human", "closed")  # statuses where the bot must not answer


class ConversationError(ValueError):
    """A request about a conversation that cannot be honoured (not found, not yours, closed)."""


def create_conversation(session: Session, channel: str = "web", site_key: str | None = None) -> Conversation:
    """A new active conversation, committed (``site_key``: the widget's site it came from)."""
    conv = Conversation(channel=channel, site_key=site_key)
    session.add(conv)
    session.commit()
    return conv


def get_conversation(session: Session, conversation_id: str) -> Conversation:
    """The conversation, or ConversationError."""
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise ConversationError("conversation not found")
    return conv


def message_dict(
    m: Message,
    rating: int | None = None,
    sources: list[dict[str, Any]] | None = None,
    handoff_offer: bool = False,
) -> dict[str, Any]:
    """A message as the chat page shows it."""
    return {
        "id": m.id,
        "role": m.role,
        "text": m.text,
        "status": m.status,
        "intent": m.intent,
        "adapter": m.adapter,
        "job_id": m.job_id,
        "rating": rating,
        "created_at": m.created_at.isoformat() if m.created_at else None,
        **reply_notes(m, sources, handoff_offer),
    }


def history(session: Session, conversation_id: str, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """The newest ``limit`` messages, oldest first, with the customer's ratings."""
    rows = list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )[::-1]
    ids = [m.id for m in rows]
    ratings = dict(
        session.execute(
            select(Feedback.message_id, Feedback.rating).where(Feedback.message_id.in_(ids))
        ).all()
    )
    replies = [m.id for m in rows if m.role == "assistant"]
    sources, offers = sources_by_message(session, replies), handoff_offers(session, replies)
    return [message_dict(m, ratings.get(m.id), sources.get(m.id), m.id in offers) for m in rows]


def store_customer_message(
    session: Session,
    conversation_id: str,
    text: str,
    client_id: str | None,
    channel: str = "web",
    status: str = "received",
) -> tuple[Message, bool]:
    """Commit the customer's message; (row, False) when this client id was already stored (a retry)."""
    if client_id:
        existing = session.scalar(
            select(Message).where(
                Message.conversation_id == conversation_id, Message.client_message_id == client_id
            )
        )
        if existing is not None:
            return existing, False
    row = Message(
        conversation_id=conversation_id,
        role="customer",
        text=text,
        status=status,
        client_message_id=client_id,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # the same retry raced in from another socket
        session.rollback()
        existing = session.scalar(
            select(Message).where(
                Message.conversation_id == conversation_id, Message.client_message_id == client_id
            )
        )
        if existing is None:
            raise
        return existing, False
    return row, True


def context_messages(
    session: Session, conversation_id: str, system_prompt: str, before_id: int
) -> list[dict[str, str]]:
    """The chat the model sees: system prompt + recent turns (staff replies count as the assistant's)."""
    rows = list(
        session.scalars(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.id < before_id,
                Message.status.in_(("received", "done", "interrupted")),
                Message.text != "",
            )
            .order_by(Message.id.desc())
            .limit(CONTEXT_TURNS)
        )
    )[::-1]
    turns = [
        {"role": "user" if m.role == "customer" else "assistant", "content": m.text}
        for m in rows
        if m.role in ("customer", "assistant", "staff")
    ]
    return ([{"role": "system", "content": system_prompt}] if system_prompt else []) + turns


def set_feedback(session: Session, conversation_id: str, message_id: int, rating: int) -> None:
    """Record the customer's latest vote on one of the bot's replies in their conversation."""
    msg = session.get(Message, message_id)
    if msg is None or msg.conversation_id != conversation_id or msg.role != "assistant":
        raise ConversationError("feedback is only possible on a bot reply in this conversation")
    row = session.scalar(select(Feedback).where(Feedback.message_id == message_id))
    if row is None:
        session.add(Feedback(message_id=message_id, rating=rating))
    else:
        row.rating = rating
    session.commit()


def request_handoff(session: Session, conversation_id: str) -> str:
    """Mark the conversation pending for a human (no-op if staff already has it); the new status."""
    conv = get_conversation(session, conversation_id)
    if conv.status == "active":
        conv.status, conv.pending_since = "pending", utcnow()
        record_event(session, conv.id, "handoff_requested")
        session.commit()
    return conv.status


def reply_id_for(session: Session, job_id: str) -> int | None:
    """The id of the reply row a job fills."""
    return session.scalar(select(Message.id).where(Message.job_id == job_id))


def streaming_job_ids(session: Session, conversation_id: str, job_ids: list[str]) -> list[str]:
    """Of ``job_ids``, those whose reply in this conversation is still streaming."""
    query = select(Message.job_id).where(
        Message.conversation_id == conversation_id,
        Message.job_id.in_(job_ids),
        Message.status == "streaming",
    )
    return [j for j in session.scalars(query) if j is not None]


def assistant_row(conversation_id: str, customer_id: int, job_id: str, plan: ReplyPlan | None) -> Message:
    """The bot's row, created `streaming` before generation with everything about how it is made."""
    row = Message(
        conversation_id=conversation_id,
        role="assistant",
        text="",
        status="streaming",
        job_id=job_id,
        reply_to_id=customer_id,
    )
    if plan is not None:
        row.intent, row.adapter = plan.intent, plan.adapter
        row.router_confidence, row.router_scores = plan.confidence, plan.scores
        row.router_overridden_from = plan.overridden_from
        row.decoding, row.decoding_version = plan.decoding, plan.decoding_version
    return row
