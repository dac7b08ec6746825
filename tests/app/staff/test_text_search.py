"""The staff search syntax, parsed once and run the same on PostgreSQL and SQLite (FTS5)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.db.models import Message
from app.staff.filters import ConversationFilter
from app.staff.search import search_conversations
from app.staff.text_search import Term, parse
from tests.app.console_support import add_conversation


def test_parse_words_phrases_and_exclusions() -> None:
    q = parse('laptop "Cloud Backups" -Voltbook -"out of stock" 3-pack the "unclosed phrase')
    assert q.include == (
        Term("laptop", ("laptop",)),
        Term("Cloud Backups", ("cloud", "backups")),
        Term("3-pack", ("3", "pack")),  # inner punctuation: a phrase, as PostgreSQL reads it
        Term("unclosed phrase", ("unclosed", "phrase")),
    )  # "the" is a stop word: dropped, as PostgreSQL drops it
    assert q.exclude == (Term("Voltbook", ("voltbook",)), Term("out of stock", ("out", "of", "stock")))
    assert Term('x"y', ("x", "y")).fts5() == '"x y"'  # only words reach FTS5: no syntax gets in
    for junk in ("%", "-", '""', "&|!:*", "the of", "- -"):
        assert parse(junk).empty, junk


CONVERSATIONS = {
    "pack": [("customer", "Do you sell the Voltline 3-pack of USB-C cables?"), ("assistant", "Yes: $12.99.")],
    "voltbook": [("customer", "My laptop will not boot"), ("assistant", "Which Voltbook laptop is it?")],
    "screen": [("customer", "laptop screen flickers"), ("assistant", "Update the display driver.")],
    "backup": [("customer", "My cloud backups keep failing")],
}
SEARCHES = [
    ('"3-pack"', {"pack"}),
    ("3-pack", {"pack"}),
    ("laptop -Voltbook", {"screen"}),  # excluded from the whole conversation, not just one message
    ("laptop", {"voltbook", "screen"}),
    ("LAPTOP the", {"voltbook", "screen"}),
    ('"cloud backups"', {"backup"}),
    ('"backups cloud"', set()),  # a phrase keeps its order
    ("backup failed", {"backup"}),  # stemmed on both: backups/failing
    ("backup -cloud", set()),
    ("12.99", {"pack"}),
    ("-laptop", {"pack", "backup"}),
    ('"display driver"', {"screen"}),
    ('"display driver" -flickering', set()),
    ("laptop boot", {"voltbook"}),  # every word in one message
    ("laptop driver", set()),  # ... not spread over two
    ("%", set()),  # no searchable word: a substring match, where % is itself
]


@pytest.mark.parametrize(("q", "expected"), SEARCHES)
def test_the_same_results_on_both_databases(any_db: Session, q: str, expected: set[str]) -> None:
    ids = {name: add_conversation(any_db, texts).id for name, texts in CONVERSATIONS.items()}
    found = search_conversations(any_db, ConversationFilter(q=q, per_page=100)).items
    assert {c.id for c in found} == {ids[name] for name in expected}, q


def test_edited_and_new_messages_are_searchable(any_db: Session) -> None:
    conv = add_conversation(any_db, [("assistant", "drafting a reply")])
    row = any_db.query(Message).filter_by(conversation_id=conv.id).one()
    row.text = "your refund is on its way"  # a reply's row gets its final text when it finishes
    any_db.commit()
    assert search_conversations(any_db, ConversationFilter(q="refund")).total == 1
    assert search_conversations(any_db, ConversationFilter(q="drafting")).total == 0
    any_db.delete(row)
    any_db.commit()
    assert search_conversations(any_db, ConversationFilter(q="refund")).total == 0
