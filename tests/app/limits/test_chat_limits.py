"""Anonymous sockets cannot starve other customers: limits per IP, system-wide and on new conversations.

The attack from issue 14: one client opened 12 conversations and sent 30 messages in each, filling
the queue. Here one address opening conversations and sending in each is stopped by its own
budgets, its over-limit messages are still stored (marked, unanswered), and another address is
served. The limits are counted in the real Redis when nodes share one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.intents import INTENTS
from app.db.models import Message
from app.decoding.policy import DecodingPolicy
from app.decoding.store import save_policy
from app.limits.chat_limits import ChatLimitConfig, ChatLimits, NewConversationLimited, RateLimited
from app.limits.window import RedisWindow
from app.main import create_app
from tests.app.chat_support import KeywordRouter, make_engine, read_until, settings_for

LIMITS = {
    "messages_per_minute": 1000,
    "ip_messages_per_minute": 4,
    "ip_conversations_per_minute": 2,
}


@pytest.fixture()
def app(pg_url: str, tokenizer: Any, db: Session) -> Iterator[Any]:
    for intent in INTENTS:
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=2), None)
    yield create_app(
        settings_for(pg_url, **LIMITS), engine=make_engine(tokenizer, {}), router=KeywordRouter()
    )


def _hello(ws: Any) -> dict[str, Any]:
    ws.send_json({"type": "hello", "token": None})
    return dict(ws.receive_json())


def _peer(app: Any) -> Any:
    """The app, seeing each socket come from the address in its x-test-peer header."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        peer = dict(scope.get("headers") or []).get(b"x-test-peer")
        if peer is not None:
            scope = {**scope, "client": (peer.decode(), 4000)}
        await app(scope, receive, send)

    asgi.state = app.state  # type: ignore[attr-defined]
    return asgi


def _from(client: TestClient, address: str) -> Any:
    return client.websocket_connect("/ws/chat", headers={"x-test-peer": address})


def test_one_address_cannot_open_conversations_and_flood(app: Any, db: Session) -> None:
    with TestClient(_peer(app)) as client:
        sockets = [_from(client, "198.51.100.7") for _ in range(3)]
        opened = [_hello(ws.__enter__()) for ws in sockets]
        assert [f["type"] for f in opened] == ["welcome", "welcome", "error"]
        assert "too many new conversations" in opened[2]["message"]
        first, second = sockets[0], sockets[1]
        for i in range(2):
            for ws in (first, second):
                ws.send_json({"type": "message", "text": f"spam {i}", "client_id": f"{id(ws)}-{i}"})
                read_until(ws, "done")
        first.send_json({"type": "message", "text": "over the address budget", "client_id": "over"})
        stored = first.receive_json()
        assert stored["type"] == "stored" and stored["status"] == "rate_limited"
        notice = first.receive_json()
        assert notice["type"] == "error" and "saved" in notice["message"] and "wait" in notice["message"]
        for ws in sockets:
            ws.__exit__(None, None, None)
        with _from(client, "203.0.113.20") as ws:  # another address is served at once
            cid = _hello(ws)["conversation_id"]
            ws.send_json({"type": "message", "text": "where is my order?"})
            assert read_until(ws, "done")[-1]["type"] == "done"
            ws.send_json({"type": "hello", "token": None})  # a second new conversation is still allowed
            assert ws.receive_json()["type"] == "welcome"
    db.expire_all()
    over = db.scalars(select(Message).where(Message.client_message_id == "over")).one()
    assert over.status == "rate_limited" and over.text == "over the address budget"
    assert db.scalar(select(Message).where(Message.reply_to_id == over.id)) is None  # no bot reply
    assert db.scalars(select(Message).where(Message.conversation_id == cid)).all()


def test_history_shows_the_real_state_of_an_over_limit_message(
    pg_url: str, tokenizer: Any, db: Session
) -> None:
    app = create_app(
        settings_for(pg_url, messages_per_minute=1), engine=make_engine(tokenizer, {}), router=KeywordRouter()
    )
    for intent in INTENTS:
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=2), None)
    with TestClient(app) as client, client.websocket_connect("/ws/chat") as ws:
        token = _hello(ws)["token"]
        ws.send_json({"type": "message", "text": "first"})
        read_until(ws, "done")
        ws.send_json({"type": "message", "text": "second, too soon"})
        read_until(ws, "error")
        ws.send_json({"type": "hello", "token": token})
        history = ws.receive_json()["history"]
    assert [(m["role"], m["status"]) for m in history] == [
        ("customer", "received"),
        ("assistant", "done"),
        ("customer", "rate_limited"),
    ]


def test_limits_are_shared_across_nodes_through_redis(redis_url: str) -> None:
    config = ChatLimitConfig(per_conversation=100, per_ip=3, conversations_per_ip=1)
    node_a = ChatLimits(RedisWindow(redis_url), config)
    node_b = ChatLimits(RedisWindow(redis_url), config)
    node_a.new_conversation("198.51.100.7")
    with pytest.raises(NewConversationLimited):
        node_b.new_conversation("198.51.100.7")
    node_a.message("c1", "198.51.100.7")
    node_b.message("c2", "198.51.100.7")
    node_a.message("c3", "198.51.100.7")
    with pytest.raises(RateLimited):
        node_b.message("c4", "198.51.100.7")
    node_b.message("c5", "203.0.113.20")  # another address keeps its own budget


def test_the_system_wide_budget_caps_many_addresses(redis_url: str) -> None:
    limits = ChatLimits(RedisWindow(redis_url), ChatLimitConfig(per_ip=100, system_messages=5))
    for i in range(5):
        limits.message(f"c{i}", f"10.0.0.{i}")
    with pytest.raises(RateLimited):
        limits.message("c9", "10.0.0.99")


def test_limit_config_refuses_zero_budgets() -> None:
    with pytest.raises(ValueError, match="per_ip must be >= 1"):
        ChatLimitConfig(per_ip=0)


def test_rate_limited_says_the_limit_and_the_wait() -> None:
    exc = RateLimited(2, 59.6)
    assert "at most 2 per minute" in str(exc) and "try again in 60 s" in str(exc)
    assert exc.retry_after == pytest.approx(59.6)
