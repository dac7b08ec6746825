"""What one knowledge revision looks like to retrieval, read once per process and revision.

Every reply reads the knowledge revision (one indexed query), so an operator's edit is what the very
next reply sees on every node. Everything that depends only on the entries is then taken from a
cache under that revision instead of being read again: the product/plan names, the catalogue the
not-sold note checks, and how many entries each search term occurs in. The term counts were a
round trip of one index lookup per term on every message (PostgreSQL: a heap visit per counted
row); a term's count can only change with an edit, and an edit is a new revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.knowledge.fulltext import term_counts
from app.knowledge.not_sold import CatalogueItem, families_of
from app.knowledge.query import (
    Categories,
    category_nouns,
    designates,
    entity_vocabulary,
    lone_model_words,
    model_words,
)
from app.knowledge.spelling import known_words
from app.knowledge.store import knowledge_revision

VOCABULARY_SQL = "SELECT key FROM knowledge_entries WHERE kind IN ('product', 'plan') AND NOT deleted"
WORDS_SQL = "SELECT title, keywords, text FROM knowledge_entries WHERE NOT deleted"
CATALOGUE_SQL = (
    "SELECT key, title, text FROM knowledge_entries WHERE kind IN ('product', 'plan') AND NOT deleted"
)
MAX_SNAPSHOTS = 16  # databases x revisions a process keeps (tests open many; a server one or two)
MAX_CACHED_TERMS = 50_000  # past this a revision's new terms are counted each time, not kept


@dataclass
class Snapshot:
    """The cached view of one (database, revision): names, catalogue and term counts."""

    names: frozenset[str]
    counts: dict[tuple[str, int], int] = field(default_factory=dict)  # (term, cap) -> count
    families: dict[str, list[CatalogueItem]] | None = None
    items: list[CatalogueItem] | None = None  # every live product and plan, brandless ones too
    spellings: frozenset[str] | None = None
    nouns: Categories | None = None
    lone: dict[str, str] | None = None
    models: frozenset[str] | None = None
    designations: dict[str, tuple[frozenset[str], ...]] | None = None

    def term_counts(self, session: Session, terms: Sequence[str], cap: int) -> list[int]:
        """How many entries each term occurs in (up to ``cap``); only terms not seen yet are counted."""
        missing = [t for t in dict.fromkeys(terms) if (t, cap) not in self.counts]
        counted = term_counts(session, missing, cap) if missing else []
        fresh = {(t, cap): n for t, n in zip(missing, counted, strict=True)}
        if len(self.counts) + len(fresh) <= MAX_CACHED_TERMS:
            self.counts.update(fresh)
        return [fresh.get((t, cap), self.counts.get((t, cap), 0)) for t in terms]

    def catalogue(self, session: Session) -> dict[str, list[CatalogueItem]]:
        """The live products and plans by brand (read on first use within this revision)."""
        if self.families is None:
            self.families = families_of(self.catalogue_items(session))
        return self.families

    def catalogue_items(self, session: Session) -> list[CatalogueItem]:
        """Every live product and plan, including those whose key names no brand (the store's own
        "Voltline USB-C Dock"): a category noun names them as it names the others."""
        if self.items is None:
            rows = session.execute(text(CATALOGUE_SQL))
            self.items = [CatalogueItem(r.key, r.title, r.text) for r in rows]
        return self.items

    def category_nouns(self, session: Session) -> Categories:
        """The products' unique category nouns (query.category_nouns), from the catalogue."""
        if self.nouns is None:
            self.nouns = category_nouns((item.key, item.title) for item in self.catalogue_items(session))
        return self.nouns

    def lone_models(self, session: Session) -> dict[str, str]:
        """Model words of one product each (query.lone_model_words), from the catalogue."""
        if self.lone is None:
            items = [item for family in self.catalogue(session).values() for item in family]
            self.lone = lone_model_words((item.key, item.title) for item in items)
        return self.lone

    def model_vocabulary(self, session: Session) -> frozenset[str]:
        """Every product's and plan's model words (query.model_words: "pro", "15", "x2", "air")."""
        if self.models is None:
            items = [item for family in self.catalogue(session).values() for item in family]
            self.models = frozenset(w for item in items for w in model_words(item.key))
        return self.models

    def designated_models(self, session: Session) -> dict[str, tuple[frozenset[str], ...]]:
        """The model designations (query.designates) of the catalogue, each under its first word in
        sorted order: a message is checked against the few sharing one of its words, not all
        10,000 entries of a large catalogue (that scan cost ~10 ms a message)."""
        if self.designations is None:
            index: dict[str, list[frozenset[str]]] = {}
            for family in self.catalogue(session).values():
                for item in family:
                    if designates(item.key, model_words(item.key)):
                        words = model_words(item.key)
                        index.setdefault(min(words), []).append(words)
            self.designations = {w: tuple(sets) for w, sets in index.items()}
        return self.designations

    def words(self, session: Session) -> frozenset[str]:
        """Every word of the live entries (app.knowledge.spelling), read on first use in this revision."""
        if self.spellings is None:
            rows = session.execute(text(WORDS_SQL))
            self.spellings = known_words(f"{r.title} {r.keywords} {r.text}" for r in rows)
        return self.spellings


_snapshots: dict[tuple[str, int], Snapshot] = {}


def snapshot(session: Session) -> Snapshot:
    """The snapshot of the revision this session sees now (one revision read; the rest cached)."""
    cache_key = (str(session.get_bind().engine.url), knowledge_revision(session))
    found = _snapshots.get(cache_key)
    if found is None:
        found = Snapshot(entity_vocabulary(session.scalars(text(VOCABULARY_SQL))))
        if len(_snapshots) >= MAX_SNAPSHOTS:
            _snapshots.clear()
        _snapshots[cache_key] = found
    return found
