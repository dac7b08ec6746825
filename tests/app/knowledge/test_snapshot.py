"""One knowledge revision's names, catalogue and term counts are read once, and again after an edit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.knowledge import store
from app.knowledge.entries import EntryData
from app.knowledge.importer import import_path
from app.knowledge.retrieval import retrieve_for_message
from app.knowledge.snapshot import snapshot


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL the session's engine runs inside the block (a listener on the real engine)."""
    seen: list[str] = []
    engine = session.get_bind().engine

    def record(conn, cursor, sql, params, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_term_counts_are_read_once_per_revision(any_db: Session) -> None:
    import_path(any_db)
    view = snapshot(any_db)
    first = view.term_counts(any_db, ["echomax", "price"], cap=1000)
    with statements(any_db) as seen:
        again = view.term_counts(any_db, ["price", "echomax"], cap=1000)
    assert again == first[::-1] and first[0] > 0 and seen == []
    with statements(any_db) as seen:
        retrieve_for_message(any_db, "EchoMax price")
        retrieve_for_message(any_db, "EchoMax price")
    counted = [s for s in seen if "count(*)" in s]
    assert len(counted) <= 1  # the second message counts nothing


def test_an_edit_is_a_new_snapshot_with_fresh_counts_and_names(any_db: Session) -> None:
    import_path(any_db)
    before = snapshot(any_db)
    (n,) = before.term_counts(any_db, ["echomax"], cap=1000)
    assert "zorblax" not in before.names
    store.add_entry(
        any_db,
        EntryData("product.zorblax-1", "product", "Zorblax 1 speaker", "Zorblax 1 pairs with EchoMax.", ()),
        actor="olga",
    )
    after = snapshot(any_db)
    assert after is not before and "zorblax" in after.names
    assert after.term_counts(any_db, ["echomax"], cap=1000) == [n + 1]
    assert "zorblax" in after.catalogue(any_db)


def test_the_spelling_words_are_the_live_entries_words_read_once_per_revision(any_db: Session) -> None:
    import_path(any_db)
    before = snapshot(any_db)
    words = before.words(any_db)
    assert "warranty" in words and "soundbar" not in words
    with statements(any_db) as seen:
        assert before.words(any_db) is words
    assert seen == []
    store.add_entry(
        any_db,
        EntryData("product.zorblax-1", "product", "Zorblax 1 soundbar", "A soundbar.", ("speakers",)),
        actor="olga",
    )
    assert {"soundbar", "speakers"} <= snapshot(any_db).words(any_db)
