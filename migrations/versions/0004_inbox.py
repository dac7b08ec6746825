"""inbox: reads, notes, labels, canned replies, CSAT, desk settings; hand-off columns and presence

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def _fk_staff(column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["staff_users.id"])


def _fk_conversation() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE")


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_since", WHEN, nullable=True))
        batch_op.add_column(sa.Column("resolved_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("resolved_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))
        batch_op.create_foreign_key("fk_conversations_resolved_by", "staff_users", ["resolved_by_id"], ["id"])
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", WHEN, nullable=True))

    op.create_table(
        "inbox_reads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("last_read_id", sa.Integer(), nullable=False),
        _fk_conversation(),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "staff_id", name="uq_inbox_reads"),
    )
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        _fk_conversation(),
        _fk_staff("staff_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("conversation_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_notes_conversation_id"), ["conversation_id"])
    op.create_table(
        "conversation_labels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        _fk_conversation(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "label", name="uq_conversation_label"),
    )
    with op.batch_alter_table("conversation_labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_labels_label"), ["label"])
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shortcut", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        _fk_staff("updated_by_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shortcut"),
    )
    op.create_table(
        "csat_ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        _fk_conversation(),
        _fk_staff("resolved_by_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", name="uq_csat_conversation"),
    )
    op.create_table(
        "desk_settings",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        _fk_staff("updated_by_id"),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    for table in ("desk_settings", "csat_ratings", "canned_replies", "conversation_labels"):
        op.drop_table(table)
    op.drop_table("conversation_notes")
    op.drop_table("inbox_reads")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_constraint("fk_conversations_resolved_by", type_="foreignkey")
        batch_op.drop_column("contact_email")
        batch_op.drop_column("resolved_by_id")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("pending_since")
