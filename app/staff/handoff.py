"""Human take-over: staff take a conversation, reply as themselves, and hand it back to the bot."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Conversation, Message, StaffUser
from app.staff.events import record_event
from app.staff.transcript import ConversationNotFound

TAKEABLE = ("active", "pending")
MAX_REPLY_CHARS = 4000


class HandoffConflict(Exception):
    """The conversation is not in a state that allows this (taken by someone else, closed, ...)."""


def _locked(session: Session, conversation_id: str) -> Conversation:
    # FOR UPDATE serialises two staff members clicking "take over" at once (no-op on SQLite,
    # whose single writer gives the same guarantee).
    stmt = select(Conversation).where(Conversation.id == conversation_id).with_for_update()
    conv = session.scalars(stmt).first()
    if conv is None:
        raise ConversationNotFound(f"conversation {conversation_id!r} not found")
    return conv


def take_over(session: Session, conversation_id: str, user: StaffUser) -> Conversation:
    """Assign the conversation to ``user`` and silence the bot (status -> human)."""
    conv = _locked(session, conversation_id)
    if conv.status == "human" and conv.assigned_staff_id == user.id:
        session.rollback()
        return conv
    if conv.status not in TAKEABLE:
        session.rollback()
        raise HandoffConflict(f"cannot take over a conversation that is {conv.status}")
    conv.status = "human"
    conv.assigned_staff_id = user.id
    record_event(session, conv.id, "taken_over", user.id)
    session.commit()
    return conv


def _own(session: Session, conversation_id: str, user: StaffUser) -> Conversation:
    conv = _locked(session, conversation_id)
    if conv.status != "human" or conv.assigned_staff_id != user.id:
        session.rollback()
        raise HandoffConflict("take the conversation over first (it is not assigned to you)")
    return conv


def bounded_text(text: str, max_chars: int) -> str:
    """Staff-written text stripped (NULs dropped); ValueError naming `text` when empty or too long."""
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > max_chars:
        raise ValueError(f"text must be at most {max_chars} characters")
    return text


def check_reply_text(text: str) -> str:
    """The stripped reply; ValueError naming `text` when empty or too long."""
    return bounded_text(text, MAX_REPLY_CHARS)


def reply_as_staff(session: Session, conversation_id: str, user: StaffUser, text: str) -> Message:
    """Store a staff reply (role=staff) in a conversation the user has taken over."""
    text = check_reply_text(text)
    conv = _own(session, conversation_id, user)
    row = Message(conversation_id=conv.id, role="staff", text=text, status="done", staff_id=user.id)
    session.add(row)
    session.commit()
    return row


def hand_back(session: Session, conversation_id: str, user: StaffUser) -> Conversation:
    """Give the conversation back to the bot (status -> active, unassigned)."""
    conv = _locked(session, conversation_id)
    mine = conv.status == "human" and conv.assigned_staff_id == user.id
    # Operators supervise the floor: they may release a conversation a colleague left behind.
    if not mine and not (user.role == "operator" and conv.status == "human"):
        session.rollback()
        raise HandoffConflict("only the staff member who took the conversation over can hand it back")
    conv.status = "active"
    conv.assigned_staff_id = None
    record_event(session, conv.id, "handed_back", user.id)
    session.commit()
    return conv
