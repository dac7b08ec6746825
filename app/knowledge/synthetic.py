"""Synthetic knowledge entries: a 10,000-entry base for the retrieval benchmark, written straight to the DB.

They imitate a large catalogue (products with invented brand names, articles, policies) built from
the seed's own vocabulary, so they compete with the real entries on the common words ("price",
"battery", "reset") the way a big real knowledge base would.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.db.models import KnowledgeEntry, KnowledgeVersion
from app.knowledge.entries import EntryData
from app.knowledge.query import STOP_WORDS, tokens

SYLLABLES = ("zor", "vex", "lin", "tar", "quo", "mip", "dax", "rel", "fen", "gra", "bly", "sut", "kor", "wen")
KINDS = ("product", "product", "product", "article", "article", "policy", "offer")


def vocabulary(entries: Sequence[EntryData]) -> list[str]:
    """The seed's content words, minus product and plan names (synthetic entries must not claim them)."""
    names = {e.key.partition(".")[2].split("-")[0] for e in entries if e.kind in ("product", "plan")}
    words = {w for e in entries for w in tokens(f"{e.title} {e.text}")}
    return sorted(w for w in words if w not in STOP_WORDS and w not in names and not w.isdigit())


def synthetic_entries(count: int, words: Sequence[str], seed: int = 0) -> list[EntryData]:
    """``count`` reproducible entries with invented names and text drawn from ``words``."""
    rng = random.Random(seed)
    out: list[EntryData] = []
    for i in range(count):
        kind = rng.choice(KINDS)
        brand = "".join(rng.choice(SYLLABLES) for _ in range(3))
        topic = rng.sample(list(words), 3)
        body = " ".join(rng.choice(words) for _ in range(rng.randint(25, 60)))
        price = f"${rng.randint(5, 2000)}"
        if kind == "product":
            title = f"{brand.capitalize()} {topic[0]} {i}"
            text = f"{title}: {price}, in stock. {body}."
        else:
            title = f"{topic[0].capitalize()} {topic[1]} {topic[2]} {i}"
            text = f"1. {body[: len(body) // 2]}. 2. {body[len(body) // 2 :]}."
        out.append(EntryData(f"{kind}.{brand}-{i}", kind, title, text, tuple(topic)))
    return out


def bulk_insert(session: Session, entries: Sequence[EntryData], batch: int = 1000) -> None:
    """Insert as version 1 in batches (the store functions' per-entry checks are not what is measured)."""
    for start in range(0, len(entries), batch):
        for e in entries[start : start + batch]:
            data = {
                "key": e.key,
                "kind": e.kind,
                "title": e.title,
                "text": e.text,
                "keywords": list(e.keywords),
            }
            session.add(KnowledgeEntry(**data, version=1, deleted=False, updated_by="bench"))
            session.add(
                KnowledgeVersion(**data, version=1, deleted=False, created_by="bench", note="synthetic")
            )
        session.flush()
    session.commit()
