"""What the pages show under a stored bot reply besides its text: was it cut short at the limit,
which knowledge entries it was grounded in (its sources), and does it offer a person."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from app.db.models import KnowledgeVersion, Message, MessageSource, Retrieval
from app.knowledge.handoff_offer import offers_handoff


def cut_short(m: Message) -> bool:
    """True when a finished reply ended at max_new_tokens (the engine's finish_reason "length").

    Rows written before finish_reason was stored still say it another way: the tokens generated
    met the decoding's max_new_tokens.
    """
    if m.role != "assistant" or m.status != "done":
        return False
    if m.finish_reason is not None:
        return m.finish_reason == "length"
    limit = (m.decoding or {}).get("max_new_tokens")
    return bool(m.completion_tokens) and isinstance(limit, int) and (m.completion_tokens or 0) >= limit


def sources_by_message(session: Session, message_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Each reply's sources in rank order, as they read at the version the reply used."""
    ids = list(message_ids)
    if not ids:
        return {}
    version = and_(
        KnowledgeVersion.key == MessageSource.key, KnowledgeVersion.version == MessageSource.version
    )
    rows = session.execute(
        select(
            MessageSource.message_id,
            MessageSource.key,
            MessageSource.version,
            KnowledgeVersion.title,
            KnowledgeVersion.kind,
        )
        .outerjoin(KnowledgeVersion, version)
        .where(MessageSource.message_id.in_(ids))
        .order_by(MessageSource.message_id, MessageSource.rank)
    ).all()
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for message_id, key, ver, title, kind in rows:
        out[message_id].append({"key": key, "version": ver, "title": title or key, "kind": kind})
    return dict(out)


def handoff_offers(session: Session, message_ids: Iterable[int]) -> set[int]:
    """The replies that should offer a person: their retrieval found nothing for a question about
    the customer's own order or account (app.knowledge.handoff_offer)."""
    ids = list(message_ids)
    if not ids:
        return set()
    reply, customer = aliased(Message), aliased(Message)
    rows = session.execute(
        select(Retrieval.message_id, customer.text, Retrieval.hits)
        .join(reply, reply.id == Retrieval.message_id)
        .join(customer, customer.id == reply.reply_to_id)
        .where(Retrieval.message_id.in_(ids))
    ).all()
    return {message_id for message_id, text, hits in rows if offers_handoff(text, hits)}


# A stored reply the model did not write (app.chat.handoff) records this strategy; it always offers a person.
NOTICE = "notice"


def is_notice(m: Message) -> bool:
    """True for a fixed notice stored in place of a generated reply (e.g. the non-English one)."""
    return (m.decoding or {}).get("strategy") == NOTICE


def reply_notes(
    m: Message, sources: list[dict[str, Any]] | None = None, handoff_offer: bool = False
) -> dict[str, Any]:
    """The extra fields a history entry carries for the page (same names as the `done` frame)."""
    return {
        "finish_reason": "length" if cut_short(m) else None,
        "sources": sources or [],
        "handoff_offer": handoff_offer or is_notice(m),
    }


def done_notes(session: Session, message_id: int) -> dict[str, Any]:
    """What a reply's `done` frame adds for the page: its sources ({key, title, kind}) and the offer."""
    sources = sources_by_message(session, [message_id]).get(message_id, [])
    return {
        "sources": [{"key": s["key"], "title": s["title"], "kind": s["kind"]} for s in sources],
        "handoff_offer": message_id in handoff_offers(session, [message_id]),
    }
