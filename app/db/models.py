"""Database models: one row per message, never one blob per conversation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Timezone-aware now, so SQLite and PostgreSQL rows compare the same way."""
    return datetime.now(UTC)


def new_id() -> str:
    """Random, unguessable id for conversations (customers hold it inside a signed token)."""
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    """Declarative base shared by every model and by Alembic."""


class Conversation(Base):
    """A customer's chat; `status` drives the human hand-off (active -> pending -> human -> closed)."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16), default="web")  # web | api
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    current_intent: Mapped[str | None] = mapped_column(String(32), nullable=True)
    pinned_adapter: Mapped[str | None] = mapped_column(String(64), nullable=True)
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    # The embedding site (sites.key) when the chat came through the widget; None for the full page.
    site_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # The inbox: since when the customer waits for a person (sorts the queue), who resolved it when,
    # and the email a customer left when nobody could answer live.
    pending_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # The OpenAI API request's `user` (the caller's end-user id), shown to staff; None elsewhere.
    api_user: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id", cascade="all, delete-orphan"
    )


class Message(Base):
    """One message: the customer's, the bot's (with how it was produced), or a staff member's."""

    __tablename__ = "messages"
    __table_args__ = (
        # A client retry of the same message (same client id) must not store it twice.
        UniqueConstraint("conversation_id", "client_message_id", name="uq_messages_client_id"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # customer | assistant | staff | system
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="done", index=True)
    # status: received | rate_limited (customer, never answered) | streaming | done | interrupted | error
    client_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The generation job that writes this reply; the column keeps its first name (no migration).
    job_id: Mapped[str | None] = mapped_column("request_id", String(64), nullable=True, unique=True)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    intent: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    router_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    router_scores: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    router_overridden_from: Mapped[str | None] = mapped_column(String(32), nullable=True)
    adapter: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    decoding: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    decoding_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    ttft_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # stop | length | cancelled | error: "length" lets the consoles say a reply was cut off.
    finish_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The number guard's post-check: numbers/emails/phones in the reply that no retrieved fact holds.
    unverified_numbers: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class StaffUser(Base):
    """A support agent (`staff`) or an `operator` (who may also do everything staff can)."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="staff")  # staff | operator
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Sessions issued before this time (epoch seconds, the app clock) are refused: set on disable,
    # password reset and role change, so a copied or open session stops working at once.
    sessions_valid_from: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Refreshed by an open console's live stream: "online" means seen recently, on any node.
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DecodingSetting(Base):
    """One version of an intent's decoding policy; the highest version is live, rollback adds one."""

    __tablename__ = "decoding_settings"
    __table_args__ = (UniqueConstraint("intent", "version", name="uq_decoding_intent_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    intent: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(String(255), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Feedback(Base):
    """A customer's thumbs up (+1) or down (-1) on one bot reply; the latest vote counts."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("message_id", name="uq_feedback_message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """A hashed key for the OpenAI-compatible API; the clear key is shown once at creation."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KnowledgeEntry(Base):
    """The live version of one knowledge entry; `deleted` rows keep their key and history."""

    __tablename__ = "knowledge_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The full-text index lives beside this table and is built by migration 0002 only: a generated
    # tsvector column + GIN index on PostgreSQL, an FTS5 table kept in sync by triggers on SQLite.


class KnowledgeVersion(Base):
    """One version of an entry (add, edit, delete or rollback); history is never rewritten."""

    __tablename__ = "knowledge_versions"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_knowledge_key_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str] = mapped_column(String(255), default="")


class MessageSource(Base):
    """A knowledge entry (at a version) that was put in the prompt of one bot reply."""

    __tablename__ = "message_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)


class Retrieval(Base):
    """One retrieval for one bot reply; hits == 0 rows are the knowledge-gap report."""

    __tablename__ = "retrievals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    query: Mapped[str] = mapped_column(Text)
    hits: Mapped[int] = mapped_column(Integer, index=True)
    top_score: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Site(Base):
    """A website that embeds the chat widget: its look, greeting, name and the origins allowed to embed it."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # the widget's data-site value
    business_name: Mapped[str] = mapped_column(String(80))
    greeting: Mapped[str] = mapped_column(String(500), default="")
    color: Mapped[str] = mapped_column(String(7), default="#1f5eff")  # launcher and header
    text_color: Mapped[str] = mapped_column(String(7), default="#ffffff")
    position: Mapped[str] = mapped_column(String(8), default="right")  # right | left
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditEvent(Base):
    """One administrative action: who (a snapshot of the name survives the account), what, when, to what."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True
    )
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class InboxRead(Base):
    """How far one staff member has read a conversation (the inbox's unread count is what is newer)."""

    __tablename__ = "inbox_reads"
    __table_args__ = (UniqueConstraint("conversation_id", "staff_id", name="uq_inbox_reads"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    last_read_id: Mapped[int] = mapped_column(Integer, default=0)


class ConversationNote(Base):
    """An internal note by staff on a conversation; never part of the customer's history."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConversationLabel(Base):
    """One label on a conversation (lower-case, short; the inbox filters by it)."""

    __tablename__ = "conversation_labels"
    __table_args__ = (UniqueConstraint("conversation_id", "label", name="uq_conversation_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(32), index=True)


class CannedReply(Base):
    """A reply text operators keep ready; staff insert it when answering a taken-over chat."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shortcut: Mapped[str] = mapped_column(String(32), unique=True)
    text: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class CsatRating(Base):
    """The customer's satisfaction (1-5, optional comment) after staff resolved the conversation."""

    __tablename__ = "csat_ratings"
    __table_args__ = (UniqueConstraint("conversation_id", name="uq_csat_conversation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeskSetting(Base):
    """An operator setting of the support desk (business hours, unanswered threshold) as JSON."""

    __tablename__ = "desk_settings"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ConversationEvent(Base):
    """A turn of the hand-off (a person asked for, taken over, handed back): the transcript's event lines."""

    __tablename__ = "conversation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))  # app.staff.events.EVENT_KINDS
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
