"""The staff search box's syntax — words, "exact phrases", -exclusions — parsed once here and run
the same way on PostgreSQL (tsvector, GIN index) and SQLite (the FTS5 table of migration 0005).

A conversation matches when one of its messages holds every word and phrase, and none of its
messages holds an excluded one. Both databases stem English words (PostgreSQL's snowball, FTS5's
porter) and skip the same stop words, so "backup failed" finds "backups keep failing" on either.
A query with no searchable word at all ("%", "c++") is matched as plain substrings instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from app.db.models import Conversation, Message

WORD = re.compile(r"[^\W_]+")  # what both full-text tokenizers keep: letters and digits
TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')  # -"quoted phrase" (closing quote optional) or a bare token
# PostgreSQL's english stop words (tsearch_data/english.stop): a bare one is dropped on both
# databases, as PostgreSQL would ignore it and SQLite would otherwise demand it.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
    hers herself it its itself they them their theirs themselves what which who whom this that these those
    am is are was were be been being have has had having do does did doing a an the and but if or because
    as until while of at by for with about against between into through during before after above below to
    from up down in out on off over under again further then once here there when where why how all any
    both each few more most other some such no nor not only own same so than too very s t can will just
    don should now""".split()
)
# The literal must match the index expression `to_tsvector('english', text)` for the planner to use it.
_ENGLISH: ColumnElement[str] = literal_column("'english'", String())


@dataclass(frozen=True)
class Term:
    """One word or phrase: as typed (PostgreSQL parses that itself) and as its words (for FTS5)."""

    text: str
    words: tuple[str, ...]

    def fts5(self) -> str:
        """The term as an FTS5 phrase string: its words only, so no FTS5 syntax can get in."""
        return '"' + " ".join(self.words) + '"'


@dataclass(frozen=True)
class SearchQuery:
    """What a staff search asks for: terms a message must hold, terms no message may hold."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...]

    @property
    def empty(self) -> bool:
        """Nothing searchable (only punctuation or stop words)."""
        return not self.include and not self.exclude


def parse(q: str) -> SearchQuery:
    """Split a search into terms; a bare token with inner punctuation (3-pack, 4.99) is a phrase."""
    include: list[Term] = []
    exclude: list[Term] = []
    for match in TOKEN.finditer(q):
        negated, quoted, bare = match.group(1), match.group(2), match.group(3)
        raw = quoted if quoted is not None else bare
        if quoted is None and bare.startswith("-") and len(bare) > 1:
            negated, raw = "-", bare[1:]
        words = tuple(w.lower() for w in WORD.findall(raw))
        if not words or all(w in STOP_WORDS for w in words):
            continue
        (exclude if negated else include).append(Term(raw, words))
    return SearchQuery(tuple(include), tuple(exclude))


def escape_like(term: str) -> str:
    """Escape LIKE wildcards so '%' and '_' in a search match themselves."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _substring_match(q: str) -> ColumnElement[bool]:
    terms = q.split() or [q]
    return and_(*(Message.text.ilike(f"%{escape_like(t)}%", escape="\\") for t in terms))


def _pg(term: Term) -> ColumnElement[bool]:
    vector = func.to_tsvector(_ENGLISH, Message.text)
    return vector.op("@@")(func.phraseto_tsquery(_ENGLISH, term.text))


def _fts5(terms: tuple[Term, ...], joiner: str) -> ColumnElement[bool]:
    rows = text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :q")
    query = f" {joiner} ".join(t.fts5() for t in terms)
    matching = rows.bindparams(bindparam("q", query, unique=True)).columns(column("rowid", Integer))
    return Message.id.in_(matching)


def _messages_with(session: Session, terms: tuple[Term, ...], every: bool) -> ColumnElement[bool]:
    """Messages that hold every term (``every``) or any of them; bound parameters only."""
    if session.get_bind().dialect.name == "postgresql":
        matches = [_pg(t) for t in terms]
        return and_(*matches) if every else or_(*matches)
    return _fts5(terms, "AND" if every else "OR")


def conversation_match(session: Session, q: str) -> ColumnElement[bool]:
    """Condition on Conversation rows whose messages match the search ``q``."""
    in_messages = Message.conversation_id == Conversation.id
    query = parse(q)
    if query.empty:
        return exists(select(Message.id).where(in_messages, _substring_match(q)))
    conds: list[ColumnElement[bool]] = []
    if query.include:
        hit = _messages_with(session, query.include, True)
        conds.append(exists(select(Message.id).where(in_messages, hit)))
    if query.exclude:
        hit = _messages_with(session, query.exclude, False)
        conds.append(not_(exists(select(Message.id).where(in_messages, hit))))
    return and_(*conds)
