"""One customer's data, found, exported as JSON or erased on request (data-protection requests).

A customer is known by a conversation id (shown to them in the chat) or by something they wrote,
such as their email address: every conversation holding a customer message with that text is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.admin.audit import record
from app.db.models import Conversation, Message, StaffUser
from app.staff.transcript import load_transcript

MIN_MATCH_CHARS = 5  # shorter text would match other customers' messages too
MAX_CONVERSATIONS = 500


@dataclass(frozen=True)
class CustomerQuery:
    """Which customer: one conversation id, or text their own messages contain (case-insensitive)."""

    conversation_id: str = ""
    contains: str = ""

    def __post_init__(self) -> None:
        cid, text = self.conversation_id.strip(), self.contains.strip()
        if bool(cid) == bool(text):
            raise ValueError("give exactly one of conversation_id or contains")
        if text and len(text) < MIN_MATCH_CHARS:
            raise ValueError(f"contains must be at least {MIN_MATCH_CHARS} characters (an email, a phone)")
        if len(cid) > 32 or len(text) > 200:
            raise ValueError("conversation_id is at most 32 characters, contains at most 200")
        object.__setattr__(self, "conversation_id", cid)
        object.__setattr__(self, "contains", text)

    def describe(self) -> str:
        """The audit target; matched text is masked, so the trail of an erasure keeps no address."""
        if self.conversation_id:
            return f"conversation:{self.conversation_id}"
        return f"contains:{self.contains[:2]}…({len(self.contains)} chars)"


def find_conversations(session: Session, query: CustomerQuery) -> list[str]:
    """The customer's conversation ids, oldest first."""
    if query.conversation_id:
        found = session.get(Conversation, query.conversation_id)
        return [found.id] if found is not None else []
    pattern = "%" + query.contains.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = session.scalars(
        select(Conversation.id)
        .where(
            Conversation.id.in_(
                select(Message.conversation_id).where(
                    Message.role == "customer", Message.text.ilike(pattern, escape="\\")
                )
            )
        )
        .order_by(Conversation.created_at)
        .limit(MAX_CONVERSATIONS)
    )
    return list(rows)


def export_customer(session: Session, query: CustomerQuery, actor: StaffUser | None) -> dict[str, Any]:
    """Every conversation of the customer with all its messages (JSON-ready); audited."""
    ids = find_conversations(session, query)
    conversations = [load_transcript(session, cid).to_dict() for cid in ids]
    record(session, actor, "customer.export", query.describe(), conversations=ids)
    session.commit()
    return {"query": query.describe(), "conversations": conversations}


def erase_customer(session: Session, query: CustomerQuery, actor: StaffUser | None) -> int:
    """Delete the customer's conversations with their messages, feedback and sources; audited."""
    ids = find_conversations(session, query)
    if ids:
        # The foreign keys cascade to messages and from them to feedback, sources and retrievals.
        session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    record(session, actor, "customer.erase", query.describe(), conversations=ids)
    session.commit()
    return len(ids)
