"""Retention deletes conversations whose last message is older than N days, with their messages,
keeps recent ones and ones a human is working on, counts first, and is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.admin.retention import count_expired, delete_expired
from app.db.models import AuditEvent, Conversation, Feedback, Message, utcnow
from tests.app.console_support import add_conversation, add_user


def test_old_conversations_go_recent_and_human_ones_stay(db: Session) -> None:
    now = utcnow()
    old = add_conversation(
        db, [("customer", "hi"), ("assistant", "hello")], created_at=now - timedelta(days=40), rating=1
    )
    revived = add_conversation(db, [("customer", "old")], created_at=now - timedelta(days=40))
    db.add(Message(conversation_id=revived.id, role="customer", text="back again", created_at=now))
    db.commit()
    held = add_conversation(db, [("customer", "help")], status="human", created_at=now - timedelta(days=40))
    fresh = add_conversation(db, [("customer", "new")], created_at=now - timedelta(days=2))
    assert count_expired(db, 30, now) == 1
    olga = add_user(db, "olga", "operator")
    assert delete_expired(db, 30, now, olga) == 1
    left = set(db.scalars(select(Conversation.id)))
    assert left == {revived.id, held.id, fresh.id} and old.id not in left
    assert db.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == old.id)) == 0
    assert db.scalar(select(func.count()).select_from(Feedback)) == 0
    event = db.scalars(select(AuditEvent)).one()
    assert (event.actor, event.action, event.details["deleted"]) == ("olga", "retention.run", 1)
    with pytest.raises(ValueError, match="days must be"):
        count_expired(db, 0, now)
