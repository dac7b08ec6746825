"""The inbox queue on SQLite (the one-machine default): order, unread counts, naive datetimes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from app.db.models import Conversation, Message, utcnow
from app.db.session import session_factory, upgrade_database
from app.inbox.queue import InboxFilter, customer_label, list_inbox, mark_read, view_counts
from tests.app.console_support import add_conversation, add_user


def test_queue_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inbox.db'}"
    upgrade_database(url)
    with session_factory(url)() as session:
        sam = add_user(session, "sam")
        newer = add_conversation(session, [("customer", "hi")], status="pending")
        older = add_conversation(session, [("customer", "hello"), ("customer", "anyone?")], status="pending")
        newer.pending_since = utcnow() - timedelta(minutes=2)
        older.pending_since = utcnow() - timedelta(minutes=9)
        human = add_conversation(session, [("customer", "thanks")], status="human")
        human.assigned_staff_id = sam.id
        session.commit()
        items = list_inbox(session, InboxFilter(), sam, unanswered_minutes=5)
        assert [i.id for i in items] == [older.id, newer.id, human.id]
        assert [(i.overdue, i.unread) for i in items] == [(True, 2), (False, 1), (False, 1)]
        assert items[0].waiting_since is not None and items[0].waiting_since.tzinfo is not None
        mark_read(session, older.id, sam.id)
        session.add(Message(conversation_id=older.id, role="customer", text="hello??", status="received"))
        session.commit()
        assert list_inbox(session, InboxFilter(view="waiting"), sam, 5)[0].unread == 1
        assert view_counts(session, sam) == {"waiting": 2, "mine": 1, "open": 3}


def test_an_api_conversation_is_named_by_its_user() -> None:
    api = Conversation(id="a" * 32, channel="api", api_user="crm-42")
    assert customer_label(api) == "API user crm-42"
    assert customer_label(Conversation(id="b" * 32, channel="api")) == "API client BBBBBB"
    api.contact_email = "kim@example.com"  # an email the customer left still names them best
    assert customer_label(api) == "kim@example.com"
