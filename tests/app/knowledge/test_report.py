"""The knowledge-gap report: unanswered questions (retrievals with no hit), most-used entries
(message_sources) and 👎 by entry (feedback joined through message_sources), over a time window."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.chat.protocol import CONTINUE_TEXT
from app.db.models import Feedback, MessageSource, Retrieval, utcnow
from app.knowledge.entries import EntryData
from app.knowledge.report import gap_report
from app.knowledge.store import add_entry, delete_entry
from tests.app.console_support import add_conversation, add_user, console_app, sign_in

ENTRIES = [
    EntryData("product.echomax-anc", "product", "EchoMax ANC headphones", "EchoMax: $299."),
    EntryData("policy.returns", "policy", "Returns policy", "30 days to return any item."),
    EntryData("plan.shieldguard-plus", "plan", "ShieldGuard Plus", "ShieldGuard Plus: $49.99/year."),
]


def _exchange(
    db: Session,
    question: str,
    sources: list[str],
    hits: int | None = None,
    rating: int | None = None,
    days_ago: int = 0,
) -> str:
    """A conversation where the bot answered ``question`` using ``sources`` (hits defaults to their count)."""
    when = utcnow() - timedelta(days=days_ago)
    conv = add_conversation(db, [("customer", question), ("assistant", "an answer")], created_at=when)
    customer, reply = sorted(conv.messages, key=lambda m: m.id)
    reply.reply_to_id = customer.id
    db.add(
        Retrieval(
            message_id=reply.id,
            query=question + " (with earlier turns)",
            hits=len(sources) if hits is None else hits,
            top_score=0.0,
            created_at=when,
        )
    )
    for rank, key in enumerate(sources):
        db.add(MessageSource(message_id=reply.id, key=key, version=1, rank=rank, score=1.0 / (rank + 1)))
    if rating is not None:
        db.add(Feedback(message_id=reply.id, rating=rating))
    db.commit()
    return conv.id


def _seed(db: Session) -> str:
    for entry in ENTRIES:
        add_entry(db, entry, "olga")
    _exchange(db, "Where is my order #4411?", [])
    last = _exchange(db, "where is my order #4411? ", [])  # same words, other case and spacing
    _exchange(db, "Do you sell drones?", [], rating=-1)
    _exchange(db, CONTINUE_TEXT, [])  # the Continue button: no topic, so no knowledge gap
    _exchange(db, "EchoMax price?", ["product.echomax-anc", "policy.returns"], rating=-1)
    _exchange(db, "Can I return the EchoMax?", ["policy.returns", "product.echomax-anc"], rating=-1)
    _exchange(db, "How long do returns take?", ["policy.returns"], rating=1)
    _exchange(db, "Plus price?", ["plan.shieldguard-plus"])
    _exchange(db, "Old question", [], days_ago=40)  # outside a 30-day window
    _exchange(db, "Old EchoMax question", ["product.echomax-anc"], rating=-1, days_ago=40)
    delete_entry(db, "plan.shieldguard-plus", "olga")
    return last


def test_the_three_lists(any_db: Session) -> None:
    db = any_db  # the same SQL on PostgreSQL and SQLite
    last = _seed(db)
    report = gap_report(db, utcnow() - timedelta(days=30))
    unanswered = [(q["question"].lower().strip(), q["count"]) for q in report.unanswered]
    assert unanswered == [("where is my order #4411?", 2), ("do you sell drones?", 1)]
    assert report.unanswered[0]["conversation_id"] == last  # the newest one, to read it
    used = [(u["key"], u["replies"]) for u in report.most_used]
    assert used == [("policy.returns", 3), ("product.echomax-anc", 2), ("plan.shieldguard-plus", 1)]
    assert report.most_used[2]["deleted"] is True and report.most_used[0]["title"] == "Returns policy"
    down = [(d["key"], d["thumbs_down"], d["thumbs_up"]) for d in report.thumbs_down]
    assert down == [("policy.returns", 2, 1), ("product.echomax-anc", 2, 0)]
    wider = gap_report(db, utcnow() - timedelta(days=60))
    assert {q["question"] for q in wider.unanswered} >= {"Old question"}
    assert wider.thumbs_down[0] == {
        "key": "product.echomax-anc",
        "thumbs_down": 3,
        "thumbs_up": 0,
        "title": "EchoMax ANC headphones",
        "deleted": False,
    }


def test_the_report_route(pg_url: str, db: Session) -> None:
    _seed(db)
    client = TestClient(console_app(pg_url))
    headers = sign_in(client, add_user(db, "olga", "operator"))
    body = client.get(
        "/api/operator/knowledge-report", params={"days": 30, "limit": 1}, headers=headers
    ).json()
    assert [len(body[k]) for k in ("unanswered", "most_used", "thumbs_down")] == [1, 1, 1]
    assert body["most_used"][0]["key"] == "policy.returns"
    assert client.get("/api/operator/knowledge-report", params={"days": 0}).status_code == 422
