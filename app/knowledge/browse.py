"""The operator console's view of the knowledge base: search and page through entries, one entry
with its history, and JSON-ready forms of rows (the store's functions do the writing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from app.db.models import KnowledgeEntry, KnowledgeVersion
from app.knowledge.entries import KINDS

MAX_QUERY_CHARS = 200
PAGE_SIZE = 50


def entry_dict(row: KnowledgeEntry) -> dict[str, Any]:
    """A live entry as the console shows it."""
    return {
        "key": row.key,
        "kind": row.kind,
        "title": row.title,
        "text": row.text,
        "keywords": list(row.keywords or []),
        "version": row.version,
        "deleted": row.deleted,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
        "updated_by": row.updated_by,
    }


def version_dict(row: KnowledgeVersion) -> dict[str, Any]:
    """One version of an entry: what it said, who wrote it, when and why."""
    return {
        "key": row.key,
        "version": row.version,
        "kind": row.kind,
        "title": row.title,
        "text": row.text,
        "keywords": list(row.keywords or []),
        "deleted": row.deleted,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "created_by": row.created_by,
        "note": row.note,
    }


@dataclass(frozen=True)
class EntryPage:
    """One page of matching entries and how many match in all."""

    items: list[KnowledgeEntry]
    total: int
    page: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"items": [entry_dict(r) for r in self.items], "total": self.total, "page": self.page}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(stmt: Select[Any], query: str, kind: str | None, include_deleted: bool) -> Select[Any]:
    if kind:
        stmt = stmt.where(KnowledgeEntry.kind == kind)
    if not include_deleted:
        stmt = stmt.where(KnowledgeEntry.deleted.is_(False))
    # Every word must appear somewhere (key, title or text): a console filter, not retrieval, so
    # it is plain substring matching an operator can predict, on PostgreSQL and SQLite alike.
    for word in query.split():
        pattern = _like(word.lower())
        stmt = stmt.where(
            or_(
                func.lower(KnowledgeEntry.key).like(pattern, escape="\\"),
                func.lower(KnowledgeEntry.title).like(pattern, escape="\\"),
                func.lower(KnowledgeEntry.text).like(pattern, escape="\\"),
            )
        )
    return stmt


def find_entries(
    session: Session, query: str = "", kind: str | None = None, include_deleted: bool = False, page: int = 1
) -> EntryPage:
    """Entries whose key, title or text contain every word of ``query``, by kind then key."""
    if len(query) > MAX_QUERY_CHARS:
        raise ValueError(f"q must be at most {MAX_QUERY_CHARS} characters")
    if kind and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    page = max(1, page)
    total = session.scalar(_filtered(select(func.count(KnowledgeEntry.id)), query, kind, include_deleted))
    rows = session.scalars(
        _filtered(select(KnowledgeEntry), query, kind, include_deleted)
        .order_by(KnowledgeEntry.kind, KnowledgeEntry.key)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return EntryPage(list(rows), total or 0, page)
