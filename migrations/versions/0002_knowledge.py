"""knowledge base: entries, versions, message sources, retrievals; finish_reason on messages

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 22:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# PostgreSQL: a stored, weighted tsvector (title A, keywords B, text C) and a GIN index on it, so
# ts_rank reads the vector instead of re-parsing every matching row.
PG_VECTOR = (
    "ALTER TABLE knowledge_entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(keywords::text, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(text, '')), 'C')) STORED"
)
PG_INDEX = "CREATE INDEX ix_knowledge_entries_search ON knowledge_entries USING gin (search_vector)"

# SQLite: an external-content FTS5 table over the same columns (keywords are the JSON text; the
# tokenizer drops the brackets and quotes), kept in sync by triggers so no code path can forget.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE knowledge_fts USING fts5(title, keywords, text, "
    "content='knowledge_entries', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER knowledge_fts_ai AFTER INSERT ON knowledge_entries BEGIN "
    "INSERT INTO knowledge_fts(rowid, title, keywords, text) "
    "VALUES (new.id, new.title, new.keywords, new.text); END",
    "CREATE TRIGGER knowledge_fts_ad AFTER DELETE ON knowledge_entries BEGIN "
    "INSERT INTO knowledge_fts(knowledge_fts, rowid, title, keywords, text) "
    "VALUES ('delete', old.id, old.title, old.keywords, old.text); END",
    "CREATE TRIGGER knowledge_fts_au AFTER UPDATE ON knowledge_entries BEGIN "
    "INSERT INTO knowledge_fts(knowledge_fts, rowid, title, keywords, text) "
    "VALUES ('delete', old.id, old.title, old.keywords, old.text); "
    "INSERT INTO knowledge_fts(rowid, title, keywords, text) "
    "VALUES (new.id, new.title, new.keywords, new.text); END",
]


def upgrade() -> None:
    op.create_table(
        "knowledge_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("knowledge_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_entries_kind"), ["kind"], unique=False)

    op.create_table(
        "knowledge_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "version", name="uq_knowledge_key_version"),
    )
    with op.batch_alter_table("knowledge_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_versions_key"), ["key"], unique=False)

    op.create_table(
        "message_sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("message_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_sources_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_sources_message_id"), ["message_id"], unique=False)

    op.create_table(
        "retrievals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("top_score", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("retrievals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retrievals_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_retrievals_hits"), ["hits"], unique=False)
        batch_op.create_index(batch_op.f("ix_retrievals_message_id"), ["message_id"], unique=False)

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finish_reason", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("unverified_numbers", sa.JSON(), nullable=True))

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_VECTOR)
        op.execute(PG_INDEX)
    elif dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("knowledge_fts_au", "knowledge_fts_ad", "knowledge_fts_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS knowledge_fts")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("unverified_numbers")
        batch_op.drop_column("finish_reason")
    op.drop_table("retrievals")
    op.drop_table("message_sources")
    op.drop_table("knowledge_versions")
    op.drop_table("knowledge_entries")  # the PG index and generated column go with it
