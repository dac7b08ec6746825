"""The operators' knowledge-gap report: what customers asked that no entry answered, which entries
replies lean on most, and which entries sit under the replies customers marked unhelpful."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from app.chat.protocol import CONTINUE_TEXT
from app.db.models import Feedback, KnowledgeEntry, Message, MessageSource, Retrieval

DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class GapReport:
    """Three ranked lists over one time window, JSON-ready through ``to_dict``."""

    since: datetime
    unanswered: list[dict[str, Any]]
    most_used: list[dict[str, Any]]
    thumbs_down: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "since": self.since.isoformat(),
            "unanswered": self.unanswered,
            "most_used": self.most_used,
            "thumbs_down": self.thumbs_down,
        }


def unanswered_questions(
    session: Session, since: datetime, limit: int = DEFAULT_LIMIT
) -> list[dict[str, Any]]:
    """Customer questions whose retrieval found nothing, most frequent first (same words = same row).

    The question shown is the customer's message the reply answered (the retrieval query may also
    hold earlier turns); the newest reply's conversation lets an operator read the exchange.
    """
    reply, customer = aliased(Message), aliased(Message)
    asked = func.coalesce(customer.text, Retrieval.query)
    group = func.lower(func.trim(asked))
    stmt = (
        select(func.min(asked), func.count(Retrieval.id), func.max(Retrieval.created_at), func.max(reply.id))
        .join(reply, reply.id == Retrieval.message_id)
        .outerjoin(customer, customer.id == reply.reply_to_id)
        # "Please continue." (the Continue button) asks for more of a reply, not about a topic.
        .where(
            Retrieval.hits == 0,
            Retrieval.created_at >= since,
            func.coalesce(customer.text, "") != CONTINUE_TEXT,
        )
        .group_by(group)
        .order_by(func.count(Retrieval.id).desc(), func.max(Retrieval.created_at).desc())
        .limit(limit)
    )
    rows = session.execute(stmt).all()
    conversations = dict(
        session.execute(
            select(Message.id, Message.conversation_id).where(Message.id.in_([r[3] for r in rows]))
        ).all()
    )
    return [
        {
            "question": question,
            "count": count,
            "last_asked": last.isoformat() if last else None,
            "conversation_id": conversations.get(message_id),
        }
        for question, count, last, message_id in rows
    ]


def _titles(session: Session, keys: list[str]) -> dict[str, tuple[str, bool]]:
    rows = session.execute(
        select(KnowledgeEntry.key, KnowledgeEntry.title, KnowledgeEntry.deleted).where(
            KnowledgeEntry.key.in_(keys)
        )
    ).all()
    return {key: (title, deleted) for key, title, deleted in rows}


def _with_titles(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    titles = _titles(session, [r["key"] for r in rows])
    for row in rows:
        title, deleted = titles.get(row["key"], (None, True))
        row["title"], row["deleted"] = title, deleted
    return rows


def most_used_entries(session: Session, since: datetime, limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    """Entries by how many replies carried them in their prompt."""
    uses = func.count(MessageSource.id)
    stmt = (
        select(MessageSource.key, uses)
        .join(Message, Message.id == MessageSource.message_id)
        .where(Message.created_at >= since)
        .group_by(MessageSource.key)
        .order_by(uses.desc(), MessageSource.key)
        .limit(limit)
    )
    rows = [{"key": key, "replies": count} for key, count in session.execute(stmt).all()]
    return _with_titles(session, rows)


def thumbs_down_by_entry(
    session: Session, since: datetime, limit: int = DEFAULT_LIMIT
) -> list[dict[str, Any]]:
    """Entries under replies rated 👎, most 👎 first, with their 👍 count beside."""
    down = func.sum(case((Feedback.rating < 0, 1), else_=0))
    up = func.sum(case((Feedback.rating > 0, 1), else_=0))
    stmt = (
        select(MessageSource.key, down, up)
        .join(Feedback, Feedback.message_id == MessageSource.message_id)
        .join(Message, Message.id == MessageSource.message_id)
        .where(Message.created_at >= since)
        .group_by(MessageSource.key)
        .having(down > 0)
        .order_by(down.desc(), MessageSource.key)
        .limit(limit)
    )
    rows = [
        {"key": key, "thumbs_down": int(d), "thumbs_up": int(u)} for key, d, u in session.execute(stmt).all()
    ]
    return _with_titles(session, rows)


def gap_report(session: Session, since: datetime, limit: int = DEFAULT_LIMIT) -> GapReport:
    """The three lists since ``since``."""
    return GapReport(
        since=since,
        unanswered=unanswered_questions(session, since, limit),
        most_used=most_used_entries(session, since, limit),
        thumbs_down=thumbs_down_by_entry(session, since, limit),
    )
