"""Under a stored reply: "cut short" (finish_reason, or the budget used up on older rows) and its
sources as they read at the version the reply used, in the chat history and the staff transcript."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.chat.conversations import history
from app.chat.reply_notes import cut_short, done_notes
from app.db.models import Message, MessageSource, Retrieval
from app.knowledge.entries import EntryData
from app.knowledge.store import add_entry, update_entry
from app.staff.transcript import load_transcript
from tests.app.console_support import add_conversation, add_user, console_app, sign_in


@pytest.mark.parametrize(
    ("status", "reason", "tokens", "expected"),
    [
        ("done", "length", 3, True),
        ("done", "stop", 5, False),  # stopped exactly at the limit: not cut
        ("done", None, 5, True),  # a row from before finish_reason was stored
        ("done", None, 4, False),
        ("interrupted", None, 5, False),
        ("done", None, None, False),
    ],
)
def test_cut_short(status: str, reason: str | None, tokens: int | None, expected: bool) -> None:
    row = Message(
        role="assistant",
        status=status,
        finish_reason=reason,
        completion_tokens=tokens,
        decoding={"max_new_tokens": 5},
    )
    assert cut_short(row) is expected
    assert cut_short(Message(role="customer", status="done", finish_reason="length")) is False


def test_sources_in_history_and_transcript(pg_url: str, db: Session) -> None:
    echo = EntryData("product.echomax-anc", "product", "EchoMax ANC headphones", "EchoMax: $299.")
    add_entry(db, echo, "olga")
    add_entry(db, EntryData("policy.returns", "policy", "Returns policy", "30 days."), "olga")
    conv = add_conversation(db, [("customer", "EchoMax price?"), ("assistant", "It is $299.")])
    reply = max(conv.messages, key=lambda m: m.id)
    db.add_all(
        [
            MessageSource(message_id=reply.id, key="policy.returns", version=1, rank=1, score=0.4),
            MessageSource(message_id=reply.id, key="product.echomax-anc", version=1, rank=0, score=0.9),
        ]
    )
    db.commit()
    renamed = EntryData(echo.key, echo.kind, "EchoMax ANC (2027 model)", echo.text)
    update_entry(db, echo.key, renamed, "olga")  # later edits do not rewrite what the reply used
    expected = [
        {"key": "product.echomax-anc", "version": 1, "title": "EchoMax ANC headphones", "kind": "product"},
        {"key": "policy.returns", "version": 1, "title": "Returns policy", "kind": "policy"},
    ]
    shown = history(db, conv.id)
    assert [m["sources"] for m in shown] == [[], expected]
    assert [m["finish_reason"] for m in shown] == [None, None]
    records = load_transcript(db, conv.id).messages
    assert [r["sources"] for r in records] == [[], expected]
    client = TestClient(console_app(pg_url))
    sign_in(client, add_user(db, "sam", "staff"))
    page = client.get(f"/staff/conversations/{conv.id}").text
    assert (
        '<a href="/kb/product.echomax-anc" title="product.echomax-anc v1">EchoMax ANC headphones</a>' in page
    )
    assert "Returns policy" in page and "cut short" not in page


def test_history_offers_a_person_when_no_entry_can_answer_an_order_question(db: Session) -> None:
    conv = add_conversation(
        db,
        [
            ("customer", "Where is my order #4411?"),
            ("assistant", "I can't see orders."),
            ("customer", "What is the returns policy?"),
            ("assistant", "No idea."),
            ("customer", "Has my refund gone through?"),
            ("assistant", "Refunds take 5 days."),
            ("customer", "Has my order #5512 shipped?"),
            ("assistant", "Orders ship in 2 days."),
        ],
    )
    rows = sorted(conv.messages, key=lambda m: m.id)
    for customer, reply, hits in zip(rows[0::2], rows[1::2], (0, 0, 2, 3), strict=True):
        reply.reply_to_id = customer.id
        db.add(Retrieval(message_id=reply.id, query=customer.text, hits=hits, top_score=0.0))
    db.commit()
    # The order question nothing answered, and the one naming an order (entries cannot know it);
    # not the policy question (no personal case) nor the refund question that found entries.
    offers = [m["handoff_offer"] for m in history(db, conv.id)]
    assert offers == [False, True, False, False, False, False, False, True]
    assert [r["handoff_offer"] for r in load_transcript(db, conv.id).messages] == offers


def test_done_notes_for_one_reply(db: Session) -> None:
    add_entry(db, EntryData("policy.returns", "policy", "Returns policy", "30 days."), "olga")
    conv = add_conversation(db, [("customer", "Where is my order #4411?"), ("assistant", "Sorry.")])
    customer, reply = sorted(conv.messages, key=lambda m: m.id)
    reply.reply_to_id = customer.id
    db.add(Retrieval(message_id=reply.id, query=customer.text, hits=0, top_score=0.0))
    db.commit()
    assert done_notes(db, reply.id) == {"sources": [], "handoff_offer": True}
    db.add(MessageSource(message_id=reply.id, key="policy.returns", version=1, rank=1, score=0.5))
    db.commit()
    source = {"key": "policy.returns", "title": "Returns policy", "kind": "policy"}
    assert done_notes(db, reply.id) == {"sources": [source], "handoff_offer": True}
