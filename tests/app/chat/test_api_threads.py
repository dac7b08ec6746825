"""API threads: the id is the key's and the label's; only messages not yet stored are added."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.api_threads import open_thread, store_sent, thread_id, unstored_from
from app.db.models import Message


def test_thread_ids_are_per_key_and_label_and_depend_on_the_secret() -> None:
    one = thread_id("secret", 1, "alice")
    assert one == thread_id("secret", 1, "alice") and len(one) == 32
    assert len({one, thread_id("secret", 2, "alice"), thread_id("secret", 1, "bob"),
                thread_id("other", 1, "alice")}) == 4  # fmt: skip


def test_unstored_from_finds_the_resent_history() -> None:
    u1, a1, u2 = ("customer", "hi"), ("assistant", "hello"), ("customer", "more")
    assert unstored_from([u1, a1], [u1, a1, u2]) == 2  # history resent: only the new turn
    assert unstored_from([u1, a1], [u2]) == 0  # only the new turn sent
    assert unstored_from([], [u1, a1, u2]) == 0  # a new conversation keeps everything
    assert unstored_from([u1, a1], [u1, ("assistant", "edited"), u2]) == 0  # history changed
    assert unstored_from([u1], [u1]) == 0  # the newest message is always new (asked twice)


def test_store_sent_adds_only_what_is_missing(db: Session) -> None:
    conv = open_thread(db, thread_id("s", 1, "t"), "api")
    assert open_thread(db, conv.id, "api").id == conv.id
    store_sent(db, conv.id, [{"role": "user", "content": "hi"}])
    db.add(Message(conversation_id=conv.id, role="assistant", text="hello", status="done"))
    db.commit()
    chat = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "more"}]  # fmt: skip
    last = store_sent(db, conv.id, chat)
    texts = list(
        db.scalars(select(Message.text).where(Message.conversation_id == conv.id).order_by(Message.id))
    )
    assert texts == ["hi", "hello", "more"] and last.text == "more" and last.status == "received"
