"""Retention: delete conversations with no message in the last N days (a preview counts them first)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.orm import Session

from app.admin.audit import record
from app.db.models import Conversation, Message, StaffUser

MIN_DAYS, MAX_DAYS = 1, 3650
BATCH = 500  # bounded deletes: a long history never becomes one giant transaction


def check_days(days: int) -> int:
    """``days`` if it is a sensible retention period, else ValueError naming the range."""
    if not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise ValueError(f"days must be a whole number from {MIN_DAYS} to {MAX_DAYS}")
    return days


def _expired(cutoff: datetime) -> Select[Any]:
    recent = exists().where(Message.conversation_id == Conversation.id, Message.created_at >= cutoff)
    # Humans still working a conversation keep it, however old its last message.
    return select(Conversation.id).where(
        Conversation.created_at < cutoff, ~recent, Conversation.status.not_in(("pending", "human"))
    )


def count_expired(session: Session, days: int, now: datetime) -> int:
    """How many conversations a retention run of ``days`` would delete now."""
    cutoff = now - timedelta(days=check_days(days))
    return int(session.scalar(select(func.count()).select_from(_expired(cutoff).subquery())) or 0)


def delete_expired(session: Session, days: int, now: datetime, actor: StaffUser | None) -> int:
    """Delete the conversations (with their messages) whose last message is older than ``days``; audited."""
    cutoff = now - timedelta(days=check_days(days))
    deleted = 0
    while ids := list(session.scalars(_expired(cutoff).limit(BATCH))):
        session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
        session.commit()
        deleted += len(ids)
    record(session, actor, "retention.run", f"older_than:{days}d", deleted=deleted, cutoff=cutoff.isoformat())
    session.commit()
    return deleted
