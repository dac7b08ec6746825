"""Staff work on a conversation beyond take-over: assign, resolve, internal notes and labels."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import Conversation, ConversationLabel, ConversationNote, StaffUser, utcnow
from app.staff.events import record_event
from app.staff.handoff import HandoffConflict, bounded_text
from app.staff.transcript import ConversationNotFound

MAX_NOTE_CHARS = 4000
LABEL = re.compile(r"[a-z0-9][a-z0-9 _-]{0,31}")
OPEN = ("active", "pending", "human")


def _locked(session: Session, conversation_id: str) -> Conversation:
    # FOR UPDATE: two staff assigning or resolving at once serialise (SQLite's one writer does the same).
    stmt = select(Conversation).where(Conversation.id == conversation_id).with_for_update()
    conv = session.scalars(stmt).first()
    if conv is None:
        raise ConversationNotFound(f"conversation {conversation_id!r} not found")
    return conv


def assign(session: Session, conversation_id: str, assignee_id: int) -> tuple[Conversation, StaffUser]:
    """Give the conversation to a staff member (me or a colleague): the bot goes quiet (status human)."""
    assignee = session.get(StaffUser, assignee_id)
    if assignee is None or not assignee.is_active:
        raise ValueError("assignee must be an active staff member")
    conv = _locked(session, conversation_id)
    if conv.status not in OPEN:
        session.rollback()
        raise HandoffConflict(f"cannot assign a conversation that is {conv.status}")
    conv.status, conv.assigned_staff_id = "human", assignee.id
    record_event(session, conv.id, "assigned", assignee.id)
    session.commit()
    return conv, assignee


def resolve(session: Session, conversation_id: str, user: StaffUser) -> Conversation:
    """Close the conversation as solved by ``user``; the customer is then asked for a rating."""
    conv = _locked(session, conversation_id)
    if conv.status == "closed":
        session.rollback()
        return conv
    conv.status, conv.resolved_at, conv.resolved_by_id = "closed", utcnow(), user.id
    conv.pending_since = None
    record_event(session, conv.id, "resolved", user.id)
    session.commit()
    return conv


def check_note(text: str) -> str:
    """The stripped note; ValueError naming `text` when empty or too long."""
    return bounded_text(text, MAX_NOTE_CHARS)


def add_note(session: Session, conversation_id: str, user: StaffUser, text: str) -> ConversationNote:
    """Store an internal note (staff only: notes never reach the customer's history or socket)."""
    text = check_note(text)
    if session.get(Conversation, conversation_id) is None:
        raise ConversationNotFound(f"conversation {conversation_id!r} not found")
    note = ConversationNote(conversation_id=conversation_id, staff_id=user.id, text=text)
    session.add(note)
    session.commit()
    return note


def notes(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's notes, oldest first, with their authors."""
    rows = session.execute(
        select(ConversationNote, StaffUser.username)
        .outerjoin(StaffUser, StaffUser.id == ConversationNote.staff_id)
        .where(ConversationNote.conversation_id == conversation_id)
        .order_by(ConversationNote.id)
    ).all()
    return [
        {"id": n.id, "text": n.text, "staff": name, "created_at": n.created_at.isoformat()}
        for n, name in rows
    ]


def check_label(label: str) -> str:
    """The label lower-cased and trimmed; ValueError naming `label` unless 1-32 of a-z 0-9 space _ -."""
    label = (label or "").strip().lower()
    if not LABEL.fullmatch(label):
        raise ValueError("label must be 1-32 characters: letters, digits, space, _ or -")
    return label


def labels(session: Session, conversation_id: str) -> list[str]:
    """The conversation's labels, sorted."""
    stmt = select(ConversationLabel.label).where(ConversationLabel.conversation_id == conversation_id)
    return sorted(session.scalars(stmt))


def add_label(session: Session, conversation_id: str, label: str) -> list[str]:
    """Add a label (adding one twice keeps one); the labels now."""
    label = check_label(label)
    if session.get(Conversation, conversation_id) is None:
        raise ConversationNotFound(f"conversation {conversation_id!r} not found")
    if label not in labels(session, conversation_id):
        session.add(ConversationLabel(conversation_id=conversation_id, label=label))
        try:
            session.commit()
        except IntegrityError:  # a colleague added the same label at the same moment: one is kept
            session.rollback()
    return labels(session, conversation_id)


def remove_label(session: Session, conversation_id: str, label: str) -> list[str]:
    """Remove a label (absent is fine); the labels now."""
    session.execute(
        delete(ConversationLabel).where(
            ConversationLabel.conversation_id == conversation_id,
            ConversationLabel.label == label.strip().lower(),
        )
    )
    session.commit()
    return labels(session, conversation_id)
