"""Retrieval per message: full-text search over the live entries, product names boosted, a relevance floor.

PostgreSQL ranks with ``ts_rank`` over the weighted tsvector (title A, keywords B, text C) that
migration 0002 keeps in a GIN index; SQLite ranks with FTS5's ``bm25`` over the same three columns.
Both read the database on every call, so an operator's edit is what the very next reply sees on
every node. Each backend's score is squashed to 0..1 so one relevance floor per backend decides
when nothing relevant was found: then no facts go into the prompt and the gap report counts it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from adapters.grounding import FactSnippet
from app.knowledge.query import (
    conversation_query,
    entity_vocabulary,
    matched_terms,
    search_terms,
    term_patterns,
    wanted_kinds,
)
from app.knowledge.store import knowledge_revision

DEFAULT_K = 4
CANDIDATES = 30  # ranked by the database, re-scored here with the name boost
# One matched name is worth more than any text score (< 1), so "EchoMax ..." ranks EchoMax first;
# each further matched word of the key ("pro", "15") breaks ties between a family's members.
NAME_BONUS = 1.0
KEY_WORD_BONUS = 0.25
# Price wording favours products/plans, how-to wording help articles (query.KIND_CUES).
KIND_BONUS = 0.2
# When fewer than half of a question's terms occur in any candidate, the question is about
# something the store does not cover ("write me a poem about love" shares only "write").
MIN_KNOWN_SHARE = 0.5
# Below these squashed scores a text-only match is noise (e.g. one common word). Chosen on the
# labelled set in app/knowledge/eval/ (see docs/benchmarks/retrieval/).
# A hit found by text alone must also contain this share of the question's terms.
MIN_HIT_SHARE = 0.3
RELEVANCE_FLOOR = {"postgresql": 0.12, "sqlite": 0.30}
SQLITE_SCALE = 5.0  # -bm25 of a good single-entry match is ~5..20 with the weights below
SQLITE_WEIGHTS = "10.0, 4.0, 1.0"  # title, keywords, text

SQLITE_SQL = f"""
SELECT e.key, e.version, e.title, e.text, e.kind, e.keywords, -bm25(knowledge_fts, {SQLITE_WEIGHTS}) AS score
FROM knowledge_fts JOIN knowledge_entries e ON e.id = knowledge_fts.rowid
WHERE knowledge_fts MATCH :q AND e.deleted = 0
ORDER BY bm25(knowledge_fts, {SQLITE_WEIGHTS}) LIMIT :n
"""
# Normalisation 32 makes ts_rank rank/(rank+1): already 0..1.
PG_SQL = """
SELECT key, version, title, text, kind, keywords, ts_rank(search_vector, q, 32) AS score
FROM knowledge_entries, to_tsquery('english', :q) AS q
WHERE search_vector @@ q AND NOT deleted
ORDER BY score DESC LIMIT :n
"""
VOCABULARY_SQL = "SELECT key FROM knowledge_entries WHERE kind IN ('product', 'plan') AND NOT deleted"


@dataclass(frozen=True)
class Hit:
    """One retrieved entry at the version that was read, with its score (higher is better)."""

    key: str
    version: int
    title: str
    text: str
    kind: str
    score: float


_vocabularies: dict[tuple[str, int], frozenset[str]] = {}


def names_in_use(session: Session) -> frozenset[str]:
    """The product/plan names of the live entries; cached per knowledge revision (read each call)."""
    cache_key = (str(session.get_bind().engine.url), knowledge_revision(session))
    vocabulary = _vocabularies.get(cache_key)
    if vocabulary is None:
        vocabulary = entity_vocabulary(session.scalars(text(VOCABULARY_SQL)))
        if len(_vocabularies) > 16:
            _vocabularies.clear()
        _vocabularies[cache_key] = vocabulary
    return vocabulary


def _candidates(session: Session, terms: Sequence[str]) -> list[tuple[Hit, set[str], set[str]]]:
    """The database's best matches, each with the query terms its title/keywords and any field hold."""
    dialect = session.get_bind().dialect.name
    # Terms are [a-z0-9]+ only (query.tokens), so quoting them cannot change the query's syntax.
    if dialect == "postgresql":
        rows = list(session.execute(text(PG_SQL), {"q": " | ".join(terms), "n": CANDIDATES}))
        scores = [float(r.score) for r in rows]
    elif dialect == "sqlite":
        query = " OR ".join(f'"{t}"' for t in terms)
        rows = list(session.execute(text(SQLITE_SQL), {"q": query, "n": CANDIDATES}))
        scores = [float(r.score) / (float(r.score) + SQLITE_SCALE) for r in rows]
    else:
        raise RuntimeError(f"no knowledge retrieval for the {dialect} database")
    out = []
    patterns = term_patterns(terms)
    for r, score in zip(rows, scores, strict=True):
        keywords = r.keywords if isinstance(r.keywords, list) else json.loads(r.keywords or "[]")
        heading = matched_terms(patterns, f"{r.title} {' '.join(keywords)}")
        found = heading | matched_terms(patterns, r.text)
        out.append((Hit(r.key, r.version, r.title, r.text, r.kind, score), heading, found))
    return out


def name_bonus(hit: Hit, heading: set[str], terms: Sequence[str], vocabulary: frozenset[str]) -> float:
    """How strongly the query names this entry: a product/plan name in its key, title or keywords
    (a mention in the text, like a bundle offer's, does not count), then its key's other words."""
    words = set(hit.key.partition(".")[2].split("-"))
    named = {t for t in heading | (words & set(terms)) if t in vocabulary}
    if not named:
        return 0.0
    other = {t for t in terms if t in words} - named
    return NAME_BONUS * len(named) + KEY_WORD_BONUS * len(other)


def retrieve(
    session: Session, query: str, k: int = DEFAULT_K, vocabulary: frozenset[str] | None = None
) -> list[Hit]:
    """The top ``k`` live entries for ``query`` (customer text, any shape), best first; [] if none fit."""
    if k < 1:
        raise ValueError("k must be >= 1")
    if vocabulary is None:
        vocabulary = names_in_use(session)
    terms = search_terms(query, vocabulary)
    if not terms:
        return []
    floor = RELEVANCE_FLOOR.get(session.get_bind().dialect.name, 0.0)
    candidates = _candidates(session, terms)
    known = set().union(*(found for _hit, _heading, found in candidates))
    named = any(t in vocabulary for t in terms)
    if not named and len(known) < MIN_KNOWN_SHARE * len(terms):
        return []
    kinds = wanted_kinds(query)
    scored: list[Hit] = []
    for hit, heading, found in candidates:
        bonus = name_bonus(hit, heading, terms, vocabulary)
        if bonus == 0 and (hit.score < floor or len(found) < MIN_HIT_SHARE * len(terms)):
            continue
        bonus += KIND_BONUS if hit.kind in kinds else 0.0
        scored.append(Hit(hit.key, hit.version, hit.title, hit.text, hit.kind, round(hit.score + bonus, 4)))
    scored.sort(key=lambda h: (-h.score, h.key))
    return scored[:k]


def retrieve_for_message(
    session: Session, message: str, recent_customer_turns: Sequence[str] = (), k: int = DEFAULT_K
) -> tuple[str, list[Hit]]:
    """What the chat path calls per reply: the query it searched (message + context) and the hits."""
    vocabulary = names_in_use(session)
    query = conversation_query(message, recent_customer_turns, vocabulary)
    return query, retrieve(session, query, k, vocabulary)


def hits_to_snippets(hits: Sequence[Hit]) -> list[FactSnippet]:
    """The hits as the grounded prompt's facts (adapters.grounding), in rank order."""
    return [FactSnippet(h.key, h.title, h.text) for h in hits]
