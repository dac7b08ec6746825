"""The schema migrates on PostgreSQL and SQLite, and message rows keep their constraints."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import Conversation, Message
from app.db.session import get_engine, upgrade_database

TABLES = {"conversations", "messages", "staff_users", "decoding_settings", "feedback", "api_keys"}


def test_postgres_schema_has_every_table(pg_url: str) -> None:
    assert TABLES <= set(inspect(get_engine(pg_url)).get_table_names())


def test_sqlite_migrates_from_scratch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sb.db'}"
    upgrade_database(url)
    upgrade_database(url)  # idempotent: a second start-up does nothing
    assert TABLES <= set(inspect(get_engine(url)).get_table_names())


def test_client_message_id_is_unique_per_conversation(db: Session) -> None:
    conv = Conversation()
    db.add(conv)
    db.flush()
    db.add(Message(conversation_id=conv.id, role="customer", text="hi", client_message_id="c1"))
    db.flush()
    db.add(Message(conversation_id=conv.id, role="customer", text="hi again", client_message_id="c1"))
    with pytest.raises(IntegrityError):
        db.flush()
