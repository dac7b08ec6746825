"""Inbox events: one hub topic every staff console listens to, on every node (the Redis hub fans out).

Conversation topics are 32-hex-character ids, so the topic ``inbox`` never collides with one;
RedisHub's single pattern subscription carries it like any conversation's events.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.db.models import Conversation
from app.inbox.availability import Availability, availability
from app.inbox.queue import customer_label

TOPIC = "inbox"
KINDS = ("handoff", "message", "assigned", "taken", "handed_back", "resolved", "email")


def inbox_event(kind: str, conversation_id: str, **fields: Any) -> dict[str, Any]:
    """An event for staff consoles: what happened to which conversation (no message bodies of notes)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    return {"type": "inbox", "kind": kind, "conversation_id": conversation_id, **fields}


def handoff_notice(session: Session, conversation_id: str) -> tuple[Availability, dict[str, Any]]:
    """Whether a person can answer now, and the inbox event announcing the customer's request."""
    conv = session.get(Conversation, conversation_id)
    label = customer_label(conv) if conv is not None else conversation_id
    channel = conv.channel if conv is not None else "web"
    return availability(session), inbox_event("handoff", conversation_id, customer=label, channel=channel)
