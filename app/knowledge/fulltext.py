"""The two full-text backends behind retrieval: PostgreSQL (tsvector + GIN) and SQLite (FTS5).

Both take terms that are ``[a-z0-9]+`` only (app.knowledge.query.tokens) and build the query syntax
themselves — OR of quoted terms — so customer text can never act as a query language. Scores are
squashed to 0..1 so one relevance floor per backend means the same thing at any base size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

SQLITE_SCALE = 5.0  # -bm25 of a good single-entry match is ~5..20 with the weights below
SQLITE_WEIGHTS = "10.0, 4.0, 1.0"  # title, keywords, text

# Ranked inside FTS5 first and joined after (half the time of joining every match); deleted
# entries are still indexed, so twice the candidates are ranked to leave room for them.
SQLITE_SQL = f"""
SELECT e.key, e.version, e.title, e.text, e.kind, e.keywords, f.score FROM (
  SELECT rowid, -bm25(knowledge_fts, {SQLITE_WEIGHTS}) AS score FROM knowledge_fts
  WHERE knowledge_fts MATCH :q ORDER BY bm25(knowledge_fts, {SQLITE_WEIGHTS}) LIMIT :n * 2
) AS f JOIN knowledge_entries e ON e.id = f.rowid
WHERE e.deleted = 0 ORDER BY f.score DESC LIMIT :n
"""
# Normalisation 32 makes ts_rank rank/(rank+1): already 0..1.
PG_SQL = """
SELECT key, version, title, text, kind, keywords, ts_rank(search_vector, q, 32) AS score
FROM knowledge_entries, to_tsquery('english', :q) AS q
WHERE search_vector @@ q AND NOT deleted
ORDER BY score DESC LIMIT :n
"""
# The same, also putting ``enable_seqscan`` back: a statement is planned before any of it runs, so
# the ranked scan is planned with the setting off, and the one-row left side makes set_config run
# exactly once even when nothing matches (that row then has no key).
PG_SQL_RESTORING = f"""
SELECT m.* FROM (SELECT set_config('enable_seqscan', :restore, true) AS restored) AS r
LEFT JOIN LATERAL ({PG_SQL}) AS m ON true
"""
# Counted only up to :cap: past it a term is "common" whatever its exact count, and on PostgreSQL
# every counted row is a heap visit (GIN has no index-only scans).
SQLITE_COUNT = (
    "(SELECT count(*) FROM (SELECT 1 FROM knowledge_fts WHERE knowledge_fts MATCH :t{i} LIMIT :cap))"
)
PG_COUNT = (
    "(SELECT count(*) FROM (SELECT 1 FROM knowledge_entries "
    "WHERE search_vector @@ to_tsquery('english', :t{i}) LIMIT :cap) AS c{i})"
)


@dataclass(frozen=True)
class Match:
    """One live entry the database matched, its squashed score, and its keywords."""

    key: str
    version: int
    title: str
    text: str
    kind: str
    keywords: tuple[str, ...]
    score: float


def dialect_of(session: Session) -> str:
    """``postgresql`` or ``sqlite``; anything else has no full-text backend here."""
    name = session.get_bind().dialect.name
    if name not in ("postgresql", "sqlite"):
        raise RuntimeError(f"no knowledge retrieval for the {name} database")
    return name


# Select-list items run left to right: the old value is read before it is switched off.
SWITCH_OFF_SQL = (
    "SELECT current_setting('enable_seqscan') || left(set_config('enable_seqscan', 'off', true), 0)"
)


@dataclass
class ScanSetting:
    """The caller's ``enable_seqscan`` while retrieval has it off; None once put back (or on SQLite)."""

    previous: str | None


@contextmanager
def index_scans(session: Session) -> Iterator[ScanSetting]:
    """On PostgreSQL, use the GIN index even where the planner guesses a sequential scan is cheaper.

    At 10,000 entries a term in ~10 % of them made the default cost model pick a sequential scan
    that re-checks every tsvector (24 ms here) over the bitmap index scan (1.6 ms). Set for this
    transaction only and put back afterwards: by the ranked query itself (``best_matches``), which
    saves a round trip per message, or here if no ranked query ran.
    """
    if dialect_of(session) != "postgresql":
        yield ScanSetting(None)
        return
    setting = ScanSetting(session.scalar(text(SWITCH_OFF_SQL)))
    try:
        yield setting
    finally:
        if setting.previous is not None:
            session.execute(text("SELECT set_config('enable_seqscan', :v, true)"), {"v": setting.previous})


def term_counts(session: Session, terms: Sequence[str], cap: int) -> list[int]:
    """How many entries each term occurs in, up to ``cap`` (one round trip, index lookups)."""
    sqlite = dialect_of(session) == "sqlite"
    template = SQLITE_COUNT if sqlite else PG_COUNT
    sql = "SELECT " + ", ".join(template.format(i=i) for i in range(len(terms)))
    values: dict[str, object] = {f"t{i}": f'"{t}"' if sqlite else t for i, t in enumerate(terms)}
    values["cap"] = cap
    return [int(n) for n in session.execute(text(sql), values).one()]


def best_matches(
    session: Session, terms: Sequence[str], limit: int, scans: ScanSetting | None = None
) -> list[Match]:
    """The ``limit`` live entries ranking best for any of ``terms``, best first (on PostgreSQL inside
    ``index_scans``, pass its setting to have this query put ``enable_seqscan`` back)."""
    if dialect_of(session) == "postgresql":
        values: dict[str, object] = {"q": " | ".join(terms), "n": limit}
        if scans is not None and scans.previous is not None:
            values["restore"], scans.previous = scans.previous, None
            rows = [r for r in session.execute(text(PG_SQL_RESTORING), values) if r.key is not None]
        else:
            rows = list(session.execute(text(PG_SQL), values))
        scores = [float(r.score) for r in rows]
    else:
        query = " OR ".join(f'"{t}"' for t in terms)
        rows = list(session.execute(text(SQLITE_SQL), {"q": query, "n": limit}))
        scores = [float(r.score) / (float(r.score) + SQLITE_SCALE) for r in rows]
    out = []
    for r, score in zip(rows, scores, strict=True):
        keywords = r.keywords if isinstance(r.keywords, list) else json.loads(r.keywords or "[]")
        out.append(Match(r.key, r.version, r.title, r.text, r.kind, tuple(keywords), score))
    return out
