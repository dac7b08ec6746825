"""One customer's data: found by conversation id or by text they wrote, exported whole as JSON,
erased with everything hanging off it; other customers untouched; the audit keeps no address."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.admin.customer_data import CustomerQuery, erase_customer, export_customer, find_conversations
from app.db.models import AuditEvent, Conversation, Feedback, Message
from tests.app.console_support import add_conversation, add_user

EMAIL = "Ann.Lee@example.com"


def test_query_needs_exactly_one_key() -> None:
    for bad in [("", ""), ("abc", "ann@example.com"), ("", "ann")]:
        with pytest.raises(ValueError):
            CustomerQuery(*bad)


def test_export_then_erase_one_customer(db: Session) -> None:
    olga = add_user(db, "olga", "operator")
    first = add_conversation(
        db, [("customer", f"my email is {EMAIL.lower()}"), ("assistant", "thanks")], rating=1
    )
    second = add_conversation(db, [("customer", f"it's {EMAIL} again, 100% sure")])
    other = add_conversation(db, [("customer", "I am bob@example.com"), ("assistant", f"not {EMAIL}")])
    query = CustomerQuery(contains=EMAIL.upper())
    assert find_conversations(db, query) == [first.id, second.id]  # bot text never makes it theirs
    assert find_conversations(db, CustomerQuery(contains="100_ sure")) == []  # LIKE wildcards are literal
    data = export_customer(db, query, olga)
    json.dumps(data)  # a JSON download
    assert [c["id"] for c in data["conversations"]] == [first.id, second.id]
    assert [m["text"] for m in data["conversations"][0]["messages"]] == [
        f"my email is {EMAIL.lower()}",
        "thanks",
    ]
    assert erase_customer(db, query, olga) == 2
    assert set(db.scalars(select(Conversation.id))) == {other.id}
    assert db.scalar(select(func.count()).select_from(Message)) == 2
    assert db.scalar(select(func.count()).select_from(Feedback)) == 0
    events = list(db.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [(e.actor, e.action) for e in events] == [("olga", "customer.export"), ("olga", "customer.erase")]
    assert events[1].details["conversations"] == [first.id, second.id]
    assert all(EMAIL.lower() not in (e.target + json.dumps(e.details)).lower() for e in events)
    by_id = CustomerQuery(conversation_id=other.id)
    assert erase_customer(db, by_id, olga) == 1 and find_conversations(db, by_id) == []
