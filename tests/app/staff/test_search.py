"""The staff list's rows: times every browser reads as the same instant, from either database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.staff.filters import ConversationFilter
from app.staff.search import search_conversations
from app.staff.transcript import utc_time
from tests.app.console_support import add_conversation


def test_row_times_are_aware_utc_on_both_databases(any_db: Session) -> None:
    when = datetime(2026, 12, 2, 2, 35, 10, tzinfo=UTC)
    add_conversation(any_db, [("customer", "hi")], created_at=when)
    (row,) = search_conversations(any_db, ConversationFilter()).to_dict()["items"]
    assert row["created_at"] == "2026-12-02T02:35:10+00:00"  # SQLite's naive time is UTC, said so
    assert row["last_activity"] == "2026-12-02T02:35:10+00:00"
    assert utc_time(row["last_activity"]) == "2026-12-02 02:35:10 UTC"
