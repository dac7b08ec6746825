"""Hand-off events of a conversation, stored when they happen so the transcript can show them in line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import ConversationEvent, StaffUser

EventKind = Literal["handoff_requested", "taken_over", "handed_back", "assigned", "resolved"]
EVENT_TEXT = {
    "handoff_requested": "Customer asked for a person",
    "taken_over": "{staff} took the conversation over",
    "handed_back": "{staff} handed the conversation back to the assistant",
    "assigned": "Assigned to {staff}",  # staff_id: the assignee (app/inbox/actions.py)
    "resolved": "{staff} resolved the conversation; the customer was asked for a rating",
}


def record_event(
    session: Session, conversation_id: str, kind: EventKind, staff_id: int | None = None
) -> None:
    """Add (not commit) one event: the caller commits it with the status change it describes."""
    session.add(ConversationEvent(conversation_id=conversation_id, kind=kind, staff_id=staff_id))


def as_utc(when: datetime) -> datetime:
    """The time as aware UTC (SQLite hands back naive datetimes; PostgreSQL aware ones)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def event_records(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's events, oldest first, each with the line the transcript shows."""
    rows = session.execute(
        select(ConversationEvent, StaffUser.username)
        .outerjoin(StaffUser, StaffUser.id == ConversationEvent.staff_id)
        .where(ConversationEvent.conversation_id == conversation_id)
        .order_by(ConversationEvent.created_at, ConversationEvent.id)
    ).all()
    return [
        {
            "id": event.id,
            "kind": event.kind,
            "staff": username,
            "text": EVENT_TEXT.get(event.kind, event.kind).format(staff=username or "A staff member"),
            "created_at": as_utc(event.created_at).isoformat(),
        }
        for event, username in rows
    ]
