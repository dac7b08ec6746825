"""Calls naming one thread share one stored conversation holding every message; the per-key limit."""

from __future__ import annotations

import openai
import pytest
from sqlalchemy.orm import Session

from app.auth.api_keys import create_api_key
from app.db.models import Conversation
from app.limits.api_limits import ApiKeyLimits
from app.limits.window import MemoryWindow
from tests.app.openai.support import Live, api_rows


def _ask(client: openai.OpenAI, messages: list[dict[str, str]], **kwargs: object) -> tuple[str, str]:
    raw = client.chat.completions.with_raw_response.create(
        model="general", messages=messages, max_tokens=3, **kwargs
    )
    return raw.parse().choices[0].message.content or "", raw.headers["x-switchboard-conversation-id"]


def test_same_user_shares_one_conversation_and_resent_history_is_stored_once(
    client: openai.OpenAI, db: Session
) -> None:
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]
    first, conv = _ask(client, chat, user="customer-42")
    chat += [{"role": "assistant", "content": first}, {"role": "user", "content": "And then?"}]
    second, again = _ask(client, chat, user="customer-42")
    assert again == conv
    rows = api_rows(db)
    assert {r.conversation_id for r in rows} == {conv}
    assert [(r.role, r.text) for r in rows] == [
        ("system", "Be brief."),
        ("customer", "Hello there"),
        ("assistant", first),
        ("customer", "And then?"),
        ("assistant", second),
    ]


def test_the_conversation_header_wins_and_threads_are_per_key(
    client: openai.OpenAI, server: str, db: Session
) -> None:
    _, by_header = _ask(client, [{"role": "user", "content": "hi"}], user="u1",
                        extra_headers={"x-switchboard-conversation": "ticket-7"})  # fmt: skip
    _, by_user = _ask(client, [{"role": "user", "content": "hi"}], user="u1")
    _, header_again = _ask(client, [{"role": "user", "content": "more"}],
                           extra_headers={"x-switchboard-conversation": "ticket-7"})  # fmt: skip
    other_key = openai.OpenAI(base_url=server, api_key=create_api_key(db, "other"), max_retries=0)
    _, other = _ask(other_key, [{"role": "user", "content": "hi"}], user="u1")
    assert header_again == by_header and len({by_header, by_user, other}) == 3


def test_without_a_thread_every_call_is_its_own_conversation_with_all_it_sent(
    client: openai.OpenAI, db: Session
) -> None:
    chat = [
        {"role": "user", "content": "I bought a phone"},
        {"role": "assistant", "content": "Great, how can I help?"},
        {"role": "user", "content": "It will not charge"},
    ]
    _, one = _ask(client, chat)
    _, two = _ask(client, chat)
    assert one != two
    first = [(r.role, r.text) for r in api_rows(db) if r.conversation_id == one]
    assert first[:3] == [(m["role"].replace("user", "customer"), m["content"]) for m in chat]


def test_per_key_rate_limit_is_a_429_with_retry_after_and_the_message_is_kept(
    live: Live, client: openai.OpenAI, db: Session
) -> None:
    now = [1000.0]
    saved = live.app.state.api_limits
    live.app.state.api_limits = ApiKeyLimits(MemoryWindow(clock=lambda: now[0]), per_minute=2)
    try:
        for _ in range(2):
            _ask(client, [{"role": "user", "content": "hi"}])
        chat = [{"role": "user", "content": "one more"}]
        with pytest.raises(openai.RateLimitError, match="2 requests per minute") as info:
            _ask(client, chat, user="busy")
        assert int(info.value.response.headers["retry-after"]) == 20  # the window ends at t=1020
        body = info.value.body
        assert isinstance(body, dict) and body["code"] == "rate_limit_exceeded" and body["type"] == "requests"
        kept = api_rows(db)[-1]
        assert (kept.role, kept.text, kept.status) == ("customer", "one more", "rate_limited")
        now[0] += 60  # next window: the retry is answered, and reuses the kept row
        _ask(client, chat, user="busy")
        rows = [r for r in api_rows(db) if r.conversation_id == kept.conversation_id]
        assert [(r.role, r.status) for r in rows] == [("customer", "received"), ("assistant", "done")]
        assert rows[0].id == kept.id
    finally:
        live.app.state.api_limits = saved


def test_a_conversation_staff_hold_is_stored_and_answered_409(client: openai.OpenAI, db: Session) -> None:
    _, conv_id = _ask(client, [{"role": "user", "content": "hi"}], user="to-staff")
    conv = db.get(Conversation, conv_id)
    assert conv is not None
    conv.status = "human"  # a member of staff took it over
    db.commit()
    with pytest.raises(openai.ConflictError, match="staff") as info:
        _ask(client, [{"role": "user", "content": "are you a person?"}], user="to-staff")
    assert info.value.response.headers["x-switchboard-conversation-id"] == conv_id
    rows = [(r.role, r.text) for r in api_rows(db) if r.conversation_id == conv_id]
    assert rows[-1] == ("customer", "are you a person?") and len(rows) == 3  # no bot reply row


def test_auto_routing_in_a_thread_sticks_to_its_intent(client: openai.OpenAI) -> None:
    def route(text: str) -> str:
        raw = client.chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": text}], max_tokens=2, user="sticky"
        )
        return raw.headers["x-switchboard-route"]

    assert route("What is the price of the plan?").startswith("intent=sales")
    assert route("ok, and for two?") == "intent=sales; confidence=0.200; adapter=sales; reason=sticky"
    stateless = client.chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "ok, and for two?"}], max_tokens=2
    )
    assert stateless.model == "general"  # no thread, nothing to stick to


def test_the_user_is_kept_on_the_conversation_for_staff(client: openai.OpenAI, db: Session) -> None:
    _, conv = _ask(client, [{"role": "user", "content": "hi"}], user="customer-77")
    db.expire_all()
    assert db.get(Conversation, conv).api_user == "customer-77"  # type: ignore[union-attr]
    header = {"x-switchboard-conversation": "ticket-77"}
    _, again = _ask(client, [{"role": "user", "content": "hi"}], extra_headers=header, user="customer-78")
    db.expire_all()
    assert db.get(Conversation, again).api_user == "customer-78"  # type: ignore[union-attr]
