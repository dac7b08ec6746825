"""A conversation's full transcript for staff: every message with how each bot reply was made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.reply_notes import cut_short, handoff_offers, sources_by_message
from app.db.models import Conversation, Feedback, Message, StaffUser
from app.staff.events import as_utc, event_records


class ConversationNotFound(LookupError):
    """No conversation has this id."""


def message_record(m: Message, rating: int | None, staff_name: str | None) -> dict[str, Any]:
    """One message with its routing, adapter, decoding, tokens and latency (JSON-ready)."""
    tokens_per_s = None
    if m.completion_tokens and m.latency_ms:
        tokens_per_s = round(m.completion_tokens / (m.latency_ms / 1000.0), 2)
    decoding = m.decoding or {}
    return {
        "id": m.id,
        "role": m.role,
        "text": m.text,
        "status": m.status,
        "created_at": as_utc(m.created_at).isoformat() if m.created_at else None,
        "intent": m.intent,
        "router_confidence": m.router_confidence,
        "router_overridden_from": m.router_overridden_from,
        "adapter": m.adapter,
        "strategy": decoding.get("strategy"),
        "decoding": decoding,
        "decoding_version": m.decoding_version,
        "prompt_tokens": m.prompt_tokens,
        "completion_tokens": m.completion_tokens,
        "latency_ms": m.latency_ms,
        "ttft_ms": m.ttft_ms,
        "tokens_per_s": tokens_per_s,
        "error": m.error,
        "staff": staff_name,
        "rating": rating,
        "cut_short": cut_short(m),
        # Filled by message_records, which reads every reply's sources and offer at once.
        "sources": [],
        "handoff_offer": False,
    }


@dataclass(frozen=True)
class Transcript:
    """The conversation row and its message records, oldest first."""

    conversation: Conversation
    assigned_to: str | None
    messages: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)

    def timeline(self) -> list[tuple[str, dict[str, Any]]]:
        """Messages and hand-off events in the order they happened: ("message" | "event", record)."""
        items = [("message", m) for m in self.messages] + [("event", e) for e in self.events]
        return sorted(items, key=lambda item: item[1]["created_at"] or "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        conv = self.conversation
        return {
            "id": conv.id,
            "status": conv.status,
            "channel": conv.channel,
            "api_user": conv.api_user,
            "intent": conv.current_intent,
            "assigned_to": self.assigned_to,
            "assigned_staff_id": conv.assigned_staff_id,
            "created_at": conv.created_at.isoformat(),
            "messages": self.messages,
            "events": self.events,
        }


def _staff_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(StaffUser.id, StaffUser.username).where(StaffUser.id.in_(ids)))
    return dict(rows.tuples().all())


def message_records(session: Session, conversation_ids: list[str], after_id: int = 0) -> list[dict[str, Any]]:
    """Message records of several conversations (each oldest first), newer than ``after_id``."""
    if not conversation_ids:
        return []
    rows = list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id.in_(conversation_ids), Message.id > after_id)
            .order_by(Message.conversation_id, Message.id)
        )
    )
    ids = [m.id for m in rows]
    votes = select(Feedback.message_id, Feedback.rating).where(Feedback.message_id.in_(ids))
    ratings = dict(session.execute(votes).tuples().all())
    names = _staff_names(session, {m.staff_id for m in rows if m.staff_id is not None})
    replies = [m.id for m in rows if m.role == "assistant"]
    sources, offers = sources_by_message(session, replies), handoff_offers(session, replies)
    records = []
    for m in rows:
        record = message_record(m, ratings.get(m.id), names.get(m.staff_id) if m.staff_id else None)
        record["conversation_id"] = m.conversation_id
        record["sources"] = sources.get(m.id, [])
        record["handoff_offer"] = m.id in offers
        records.append(record)
    return records


def require_conversation(session: Session, conversation_id: str) -> Conversation:
    """The conversation, or ConversationNotFound."""
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise ConversationNotFound(f"conversation {conversation_id!r} not found")
    return conv


def load_transcript(session: Session, conversation_id: str, after_id: int = 0) -> Transcript:
    """The transcript (messages newer than ``after_id`` only, for live polling)."""
    conv = require_conversation(session, conversation_id)
    names = _staff_names(session, {conv.assigned_staff_id} if conv.assigned_staff_id else set())
    return Transcript(
        conversation=conv,
        assigned_to=names.get(conv.assigned_staff_id) if conv.assigned_staff_id else None,
        messages=message_records(session, [conv.id], after_id),
        events=event_records(session, conv.id),
    )


def utc_time(iso: str | None) -> str:
    """An ISO time as the consoles show it: '2026-12-02 02:35:10 UTC' (one zone everywhere)."""
    if not iso:
        return ""
    return as_utc(datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M:%S UTC")
