"""What the pages show under a stored bot reply besides its text: was it cut short at the limit,
and which knowledge entries it was grounded in (its sources)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.db.models import KnowledgeVersion, Message, MessageSource


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


def reply_notes(m: Message, sources: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The extra fields a history entry carries for the page (same names as the `done` frame)."""
    return {"finish_reason": "length" if cut_short(m) else None, "sources": sources or []}
