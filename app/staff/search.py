"""Conversation search for staff: the search box (app/staff/text_search.py) and the filters."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from app.db.models import Conversation, Feedback, Message, StaffUser
from app.staff.events import as_utc
from app.staff.filters import ConversationFilter
from app.staff.text_search import conversation_match

PREVIEW_CHARS = 160
CONVERSATION_ID = re.compile(r"[0-9a-f]{32}")


def _rated(sign: int) -> ColumnElement[bool]:
    rating = Feedback.rating > 0 if sign > 0 else Feedback.rating < 0
    return exists(
        select(Feedback.id)
        .join(Message, Message.id == Feedback.message_id)
        .where(Message.conversation_id == Conversation.id, rating)
    )


def conditions(session: Session, flt: ConversationFilter) -> list[ColumnElement[bool]]:
    """SQL conditions on Conversation for every filter that is set."""
    conds: list[ColumnElement[bool]] = []
    in_messages = Message.conversation_id == Conversation.id
    if flt.q:
        matches = conversation_match(session, flt.q)
        # Staff paste conversation ids from tickets and exports: an id finds its conversation.
        conds.append(or_(Conversation.id == flt.q, matches) if CONVERSATION_ID.fullmatch(flt.q) else matches)
    if flt.intent:
        conds.append(
            or_(
                Conversation.current_intent == flt.intent,
                exists(select(Message.id).where(in_messages, Message.intent == flt.intent)),
            )
        )
    if flt.adapter:
        conds.append(exists(select(Message.id).where(in_messages, Message.adapter == flt.adapter)))
    if flt.status:
        conds.append(Conversation.status == flt.status)
    if flt.start:
        conds.append(Conversation.created_at >= flt.start)
    if flt.end:
        conds.append(Conversation.created_at < flt.end)
    if flt.feedback == "up":
        conds.append(_rated(+1))
    elif flt.feedback == "down":
        conds.append(_rated(-1))
    elif flt.feedback == "none":
        conds.append(not_(or_(_rated(+1), _rated(-1))))
    return conds


@dataclass(frozen=True)
class ConversationSummary:
    """One row of the staff list."""

    id: str
    status: str
    channel: str
    intent: str | None
    assigned_to: str | None
    created_at: datetime
    last_activity: datetime
    message_count: int
    last_message: str
    last_role: str | None
    thumbs_up: int
    thumbs_down: int
    api_user: str | None = None  # the OpenAI API request's `user`, for API conversations

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        # Aware UTC on both databases: a naive time (SQLite) would be read as local time by a browser.
        data["created_at"] = as_utc(self.created_at).isoformat()
        data["last_activity"] = as_utc(self.last_activity).isoformat()
        return data


@dataclass(frozen=True)
class ConversationPage:
    """A page of summaries and the total that matched."""

    items: list[ConversationSummary]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "items": [i.to_dict() for i in self.items],
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
        }


def _activity() -> Any:
    return (
        select(
            Message.conversation_id.label("cid"),
            func.count(Message.id).label("n"),
            func.max(Message.id).label("last_id"),
            func.max(Message.created_at).label("last_at"),
        )
        .group_by(Message.conversation_id)
        .subquery()
    )


def matching_ids(session: Session, flt: ConversationFilter, limit: int | None = None) -> list[str]:
    """Ids of every conversation matching the filter, most recently active first."""
    act = _activity()
    stmt = (
        select(Conversation.id)
        .outerjoin(act, act.c.cid == Conversation.id)
        .where(*conditions(session, flt))
        .order_by(func.coalesce(act.c.last_at, Conversation.created_at).desc(), Conversation.id)
    )
    return list(session.scalars(stmt.limit(limit) if limit else stmt))


def search_conversations(session: Session, flt: ConversationFilter) -> ConversationPage:
    """One page of conversations matching ``flt``, most recently active first."""
    conds = conditions(session, flt)
    total = session.scalar(select(func.count()).select_from(Conversation).where(*conds)) or 0
    act = _activity()
    last_activity = func.coalesce(act.c.last_at, Conversation.created_at)
    stmt = (
        select(Conversation, act.c.n, act.c.last_id, last_activity, StaffUser.username)
        .outerjoin(act, act.c.cid == Conversation.id)
        .outerjoin(StaffUser, StaffUser.id == Conversation.assigned_staff_id)
        .where(*conds)
        .order_by(last_activity.desc(), Conversation.id)
        .offset((flt.page - 1) * flt.per_page)
        .limit(flt.per_page)
    )
    rows = session.execute(stmt).all()
    last_ids = [r[2] for r in rows if r[2] is not None]
    last_msgs = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(last_ids)))}
    votes = _votes(session, [r[0].id for r in rows])
    items = []
    for conv, count, last_id, last_at, username in rows:
        last = last_msgs.get(last_id)
        up, down = votes.get(conv.id, (0, 0))
        items.append(
            ConversationSummary(
                id=conv.id,
                status=conv.status,
                channel=conv.channel,
                intent=conv.current_intent,
                assigned_to=username,
                created_at=conv.created_at,
                last_activity=last_at,
                message_count=count or 0,
                last_message=(last.text[:PREVIEW_CHARS] if last else ""),
                last_role=last.role if last else None,
                thumbs_up=up,
                thumbs_down=down,
                api_user=conv.api_user,
            )
        )
    return ConversationPage(items=items, total=total, page=flt.page, per_page=flt.per_page)


def _votes(session: Session, ids: list[str]) -> dict[str, tuple[int, int]]:
    if not ids:
        return {}
    stmt = (
        select(
            Message.conversation_id,
            func.sum(case((Feedback.rating > 0, 1), else_=0)),
            func.sum(case((Feedback.rating < 0, 1), else_=0)),
        )
        .join(Feedback, Feedback.message_id == Message.id)
        .where(Message.conversation_id.in_(ids))
        .group_by(Message.conversation_id)
    )
    return {cid: (int(up or 0), int(down or 0)) for cid, up, down in session.execute(stmt)}
