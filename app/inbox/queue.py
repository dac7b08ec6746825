"""The inbox queue: who waits for a person, for how long, what each staff member has not read yet."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import (
    Conversation,
    ConversationLabel,
    CsatRating,
    InboxRead,
    Message,
    StaffUser,
    utcnow,
)

VIEWS = ("waiting", "mine", "open", "resolved")
CHANNELS = ("web", "api")
MAX_ITEMS = 200
PREVIEW_CHARS = 120


class InboxFilter(BaseModel):
    """Which part of the inbox: a view, optionally one channel and one label; blank fields mean any."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    view: Literal["waiting", "mine", "open", "resolved"] = "open"
    channel: Literal["web", "api"] | None = None
    label: str | None = Field(default=None, max_length=32)

    @field_validator("channel", "label", mode="before")
    @classmethod
    def _blank_is_any(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


def customer_label(conv: Conversation) -> str:
    """A name staff can say aloud: the email the customer left, the API caller's `user`, else
    channel + a short id."""
    if conv.contact_email:
        return conv.contact_email
    if conv.api_user:
        return f"API user {conv.api_user}"
    kind = "API client" if conv.channel == "api" else "Web visitor"
    return f"{kind} {conv.id[:6].upper()}"


@dataclass(frozen=True)
class InboxItem:
    """One row of the inbox."""

    id: str
    customer: str
    channel: str
    status: str
    assigned_to: str | None
    assigned_staff_id: int | None
    waiting_since: datetime | None
    overdue: bool
    unread: int
    last_message: str
    last_role: str | None
    last_activity: datetime
    labels: list[str]
    csat: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        for key in ("waiting_since", "last_activity"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data


def _conditions(flt: InboxFilter, me: StaffUser) -> list[Any]:
    conds: list[Any] = []
    if flt.view == "waiting":
        conds.append(Conversation.status == "pending")
    elif flt.view == "mine":
        conds += [Conversation.status == "human", Conversation.assigned_staff_id == me.id]
    elif flt.view == "open":
        conds.append(Conversation.status.in_(("pending", "human")))
    else:
        conds.append(Conversation.status == "closed")
    if flt.channel:
        conds.append(Conversation.channel == flt.channel)
    if flt.label:
        labelled = select(ConversationLabel.id).where(
            ConversationLabel.conversation_id == Conversation.id, ConversationLabel.label == flt.label.lower()
        )
        conds.append(labelled.exists())
    return conds


def _by_conversation(session: Session, stmt: Any) -> dict[str, Any]:
    return dict(session.execute(stmt).tuples().all())


def list_inbox(
    session: Session, flt: InboxFilter, me: StaffUser, unanswered_minutes: int, now: datetime | None = None
) -> list[InboxItem]:
    """The view's conversations: pending first and longest wait first, then the rest by activity."""
    now = now or utcnow()
    # The SQL order already puts the longest pending waits first, so the page cut never drops them.
    order = (
        [Conversation.resolved_at.desc()]
        if flt.view == "resolved"
        else [
            Conversation.status != "pending",
            Conversation.pending_since.is_(None),
            Conversation.pending_since,
            Conversation.updated_at.desc(),
        ]
    )
    rows = session.execute(
        select(Conversation, StaffUser.username)
        .outerjoin(StaffUser, StaffUser.id == Conversation.assigned_staff_id)
        .where(*_conditions(flt, me))
        .order_by(*order, Conversation.id)
        .limit(MAX_ITEMS)
    ).all()
    ids = [conv.id for conv, _ in rows]
    if not ids:
        return []
    in_ids = Message.conversation_id.in_(ids)
    newest = select(Message.conversation_id, func.max(Message.id)).where(in_ids)
    last_staff = _by_conversation(
        session, newest.where(Message.role == "staff").group_by(Message.conversation_id)
    )
    last_ids = _by_conversation(session, newest.group_by(Message.conversation_id))
    last_msgs = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(last_ids.values())))}
    read = _by_conversation(
        session,
        select(InboxRead.conversation_id, InboxRead.last_read_id).where(
            InboxRead.conversation_id.in_(ids), InboxRead.staff_id == me.id
        ),
    )
    customer = select(Message.conversation_id, Message.id, Message.created_at)
    customer_rows = session.execute(customer.where(in_ids, Message.role == "customer")).tuples()
    unread: dict[str, int] = {}
    first_unanswered: dict[str, datetime] = {}
    for cid, mid, at in customer_rows:
        if mid > read.get(cid, 0):
            unread[cid] = unread.get(cid, 0) + 1
        if mid > last_staff.get(cid, 0) and (cid not in first_unanswered or at < first_unanswered[cid]):
            first_unanswered[cid] = at
    labels: dict[str, list[str]] = {}
    for cid, label in session.execute(
        select(ConversationLabel.conversation_id, ConversationLabel.label)
        .where(ConversationLabel.conversation_id.in_(ids))
        .order_by(ConversationLabel.label)
    ).tuples():
        labels.setdefault(cid, []).append(label)
    csat = select(CsatRating.conversation_id, CsatRating.score)
    scores = _by_conversation(session, csat.where(CsatRating.conversation_id.in_(ids)))
    limit = timedelta(minutes=unanswered_minutes)
    items = []
    for conv, username in rows:
        waiting = _waiting_since(conv, first_unanswered.get(conv.id))
        last = last_msgs.get(last_ids.get(conv.id, -1))
        items.append(
            InboxItem(
                id=conv.id,
                customer=customer_label(conv),
                channel=conv.channel,
                status=conv.status,
                assigned_to=username,
                assigned_staff_id=conv.assigned_staff_id,
                waiting_since=waiting,
                overdue=waiting is not None and now - waiting >= limit,
                unread=unread.get(conv.id, 0),
                last_message=last.text[:PREVIEW_CHARS] if last else "",
                last_role=last.role if last else None,
                last_activity=aware(last.created_at if last else conv.created_at) or now,
                labels=labels.get(conv.id, []),
                csat=scores.get(conv.id),
            )
        )
    return sorted(items, key=_queue_order) if flt.view != "resolved" else items


def aware(value: datetime | None) -> datetime | None:
    """``value`` with its time zone (SQLite hands back naive datetimes, stored as UTC)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _waiting_since(conv: Conversation, first_unanswered: datetime | None) -> datetime | None:
    # Pending: since the customer asked for a person. Human: since the oldest message no staff reply follows.
    if conv.status == "pending":
        return aware(conv.pending_since or first_unanswered or conv.updated_at)
    if conv.status == "human":
        return aware(first_unanswered)
    return None


def _queue_order(item: InboxItem) -> tuple[int, float]:
    if item.waiting_since is not None:
        return (0 if item.status == "pending" else 1, item.waiting_since.timestamp())
    return (2, -item.last_activity.timestamp())


def mark_read(session: Session, conversation_id: str, staff_id: int) -> None:
    """Everything in the conversation so far counts as read by this staff member."""
    newest = (
        session.scalar(select(func.max(Message.id)).where(Message.conversation_id == conversation_id)) or 0
    )
    row = session.scalar(
        select(InboxRead).where(InboxRead.conversation_id == conversation_id, InboxRead.staff_id == staff_id)
    )
    if row is None:
        session.add(InboxRead(conversation_id=conversation_id, staff_id=staff_id, last_read_id=newest))
    elif row.last_read_id < newest:
        row.last_read_id = newest
    session.commit()


def view_counts(session: Session, me: StaffUser) -> dict[str, int]:
    """How many conversations each open view holds (the inbox's tab badges)."""
    counts = {}
    for view in ("waiting", "mine", "open"):
        flt = InboxFilter(view=view)  # type: ignore[arg-type]
        stmt = select(func.count()).select_from(Conversation).where(*_conditions(flt, me))
        counts[view] = session.scalar(stmt) or 0
    return counts
