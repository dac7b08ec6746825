"""PostgreSQL retrieval switches sequential scans off for its own queries and always puts them back."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.knowledge.fulltext import best_matches, index_scans
from app.knowledge.importer import import_path
from app.knowledge.retrieval import retrieve


@pytest.fixture()
def seeded_pg(db: Session) -> Session:
    import_path(db)
    return db


def _seqscan(session: Session) -> str:
    return str(session.scalar(text("SELECT current_setting('enable_seqscan')")))


def test_the_ranked_query_puts_the_setting_back_itself(seeded_pg: Session) -> None:
    with index_scans(seeded_pg) as scans:
        assert _seqscan(seeded_pg) == "off" and scans.previous == "on"
        hits = best_matches(seeded_pg, ["echomax"], 5, scans)
        assert hits and scans.previous is None  # restored by that query: nothing left to do
        assert _seqscan(seeded_pg) == "on"
    assert _seqscan(seeded_pg) == "on"


def test_a_ranked_query_that_matches_nothing_still_puts_it_back(seeded_pg: Session) -> None:
    with index_scans(seeded_pg) as scans:
        assert best_matches(seeded_pg, ["zzqxj"], 5, scans) == []
        assert _seqscan(seeded_pg) == "on"


def test_a_non_default_setting_survives_retrieval(seeded_pg: Session) -> None:
    seeded_pg.execute(text("SET LOCAL enable_seqscan = off"))
    assert retrieve(seeded_pg, "EchoMax price")
    assert _seqscan(seeded_pg) == "off"
    seeded_pg.execute(text("SET LOCAL enable_seqscan = on"))


@pytest.mark.parametrize("question", ["EchoMax price", "tell me a joke about wifi", "zzqxj"])
def test_retrieval_leaves_the_setting_as_it_found_it(seeded_pg: Session, question: str) -> None:
    retrieve(seeded_pg, question)  # a ranked query, a question the gates turn away, no known term
    assert _seqscan(seeded_pg) == "on"
