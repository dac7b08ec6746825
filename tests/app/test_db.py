"""The schema migrates on PostgreSQL and SQLite, and message rows keep their constraints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import Conversation, Message
from app.db.session import get_engine, upgrade_database

if TYPE_CHECKING:
    from alembic.config import Config

TABLES = {"conversations", "messages", "staff_users", "decoding_settings", "feedback", "api_keys"}
TABLES |= {"knowledge_entries", "knowledge_versions", "message_sources", "retrievals"}
TABLES |= {"sites", "audit_events"}
TABLES |= {"inbox_reads", "conversation_notes", "conversation_labels", "canned_replies", "csat_ratings"}
TABLES |= {"desk_settings"}


def _alembic_config(url: str) -> Config:
    """The project's Alembic configuration pointed at ``url`` (for downgrade/upgrade round trips)."""
    from alembic.config import Config

    from app.config import REPO_ROOT

    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    return config


def test_postgres_schema_has_every_table(pg_url: str) -> None:
    assert TABLES <= set(inspect(get_engine(pg_url)).get_table_names())


def test_sqlite_migrates_from_scratch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sb.db'}"
    upgrade_database(url)
    upgrade_database(url)  # idempotent: a second start-up does nothing
    assert TABLES <= set(inspect(get_engine(url)).get_table_names())


def test_knowledge_migration_downgrades_and_upgrades_on_sqlite(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'sb.db'}"
    upgrade_database(url)
    config = _alembic_config(url)
    command.downgrade(config, "0001")
    names = set(inspect(get_engine(url)).get_table_names())
    assert "knowledge_entries" not in names and "knowledge_fts" not in names
    command.upgrade(config, "head")
    assert "knowledge_fts" in set(inspect(get_engine(url)).get_table_names())


def test_sites_audit_migration_downgrades_and_upgrades(tmp_path: Path, pg_url: str) -> None:
    from alembic import command

    for url in (f"sqlite:///{tmp_path / 'sb.db'}", pg_url):
        upgrade_database(url)
        config = _alembic_config(url)
        command.downgrade(config, "0002")
        inspector = inspect(get_engine(url))
        assert "sites" not in inspector.get_table_names()
        assert "site_key" not in {c["name"] for c in inspector.get_columns("conversations")}
        command.upgrade(config, "head")
        inspector = inspect(get_engine(url))
        assert {"sites", "audit_events"} <= set(inspector.get_table_names())
        assert "sessions_valid_from" in {c["name"] for c in inspector.get_columns("staff_users")}


def test_client_message_id_is_unique_per_conversation(db: Session) -> None:
    conv = Conversation()
    db.add(conv)
    db.flush()
    db.add(Message(conversation_id=conv.id, role="customer", text="hi", client_message_id="c1"))
    db.flush()
    db.add(Message(conversation_id=conv.id, role="customer", text="hi again", client_message_id="c1"))
    with pytest.raises(IntegrityError):
        db.flush()


def test_inbox_migration_downgrades_and_upgrades(tmp_path: Path, pg_url: str) -> None:
    from alembic import command

    inbox = {"inbox_reads", "conversation_notes", "conversation_labels", "canned_replies", "csat_ratings"}
    for url in (f"sqlite:///{tmp_path / 'inbox.db'}", pg_url):
        upgrade_database(url)
        config = _alembic_config(url)
        command.downgrade(config, "0003")
        inspector = inspect(get_engine(url))
        assert not inbox & set(inspector.get_table_names())
        assert "pending_since" not in {c["name"] for c in inspector.get_columns("conversations")}
        command.upgrade(config, "head")
        inspector = inspect(get_engine(url))
        assert inbox | {"desk_settings"} <= set(inspector.get_table_names())
        assert "last_seen_at" in {c["name"] for c in inspector.get_columns("staff_users")}
        assert "contact_email" in {c["name"] for c in inspector.get_columns("conversations")}


def test_message_search_migration_indexes_stored_messages_on_sqlite(tmp_path: Path) -> None:
    from alembic import command

    from app.db.session import session_factory
    from app.staff.filters import ConversationFilter
    from app.staff.search import search_conversations

    url = f"sqlite:///{tmp_path / 'sb.db'}"
    upgrade_database(url)
    config = _alembic_config(url)
    command.downgrade(config, "0004")
    assert "messages_fts" not in set(inspect(get_engine(url)).get_table_names())
    with get_engine(url).begin() as conn:  # rows as the 0004 schema holds them (the models are newer)
        conn.execute(
            text(
                "INSERT INTO conversations (id, channel, status, created_at, updated_at) "
                "VALUES ('c0004', 'web', 'active', '2026-12-01 00:00:00', '2026-12-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO messages (conversation_id, role, text, status, created_at) "
                "VALUES ('c0004', 'customer', 'stored before the upgrade', 'received', '2026-12-01 00:00:00')"
            )
        )
    command.upgrade(config, "head")  # the rebuild indexes what is already there
    with session_factory(url)() as session:
        assert search_conversations(session, ConversationFilter(q='"before the upgrade"')).total == 1


def test_conversation_events_migration_downgrades_and_upgrades(tmp_path: Path, pg_url: str) -> None:
    from alembic import command

    for url in (f"sqlite:///{tmp_path / 'events.db'}", pg_url):
        upgrade_database(url)
        config = _alembic_config(url)
        command.downgrade(config, "0005")
        assert "conversation_events" not in set(inspect(get_engine(url)).get_table_names())
        command.upgrade(config, "head")
        assert "conversation_events" in set(inspect(get_engine(url)).get_table_names())


def test_api_user_migration_downgrades_and_upgrades(tmp_path: Path, pg_url: str) -> None:
    from alembic import command

    def columns(url: str) -> set[str]:
        get_engine(url).dispose()  # the inspector must not see a cached schema
        return {c["name"] for c in inspect(get_engine(url)).get_columns("conversations")}

    for url in (f"sqlite:///{tmp_path / 'api-user.db'}", pg_url):
        upgrade_database(url)
        config = _alembic_config(url)
        command.downgrade(config, "0006")
        assert "api_user" not in columns(url)
        command.upgrade(config, "head")
        assert "api_user" in columns(url)
