"""A reply cut at max_new_tokens: the `done` frame and the history say so, and a `continue` frame
asks for the rest in the same conversation (stored as a customer message, like any other)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.protocol import CONTINUE_TEXT, SendMessage, parse_frame
from app.db.models import Message
from app.decoding.policy import DecodingPolicy
from app.decoding.store import save_policy
from app.main import create_app
from tests.app.chat_support import KeywordRouter, make_adapters, make_engine, read_until, settings_for


@pytest.fixture(scope="module")
def adapters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_adapters(tmp_path_factory.mktemp("limit-adapters"))


@pytest.fixture()
def client(pg_url: str, tokenizer: Any, adapters: dict[str, Path], db: Session) -> Iterator[TestClient]:
    app = create_app(
        settings_for(pg_url, messages_per_minute=1000),
        engine=make_engine(tokenizer, adapters),
        router=KeywordRouter(),
    )
    with TestClient(app) as test_client:
        yield test_client


def test_continue_frame_is_a_customer_message_with_fixed_text() -> None:
    frame = parse_frame('{"type": "continue", "client_id": "k-1"}', 16384, 4000)
    assert frame == SendMessage(CONTINUE_TEXT, "k-1")
    assert parse_frame('{"type": "continue"}', 16384, 4000) == SendMessage(CONTINUE_TEXT, None)


def test_a_cut_reply_says_so_and_continue_carries_on(client: TestClient, db: Session) -> None:
    for intent in ("general", "tech_support", "sales"):
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=6), None)
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        welcome = ws.receive_json()
        ws.send_json({"type": "message", "text": "My laptop will not boot"})
        first = read_until(ws, "done")[-1]
        assert first["finish_reason"] == "length" and first["tokens"] == 6
        ws.send_json({"type": "continue", "client_id": "k-1"})
        frames = read_until(ws, "done")
    stored = frames[0]
    assert stored["type"] == "stored" and stored["client_id"] == "k-1"
    route = next(f for f in frames if f["type"] == "route")
    assert route["intent"] == "tech_support"  # sticky: "Please continue." names no intent of its own
    db.expire_all()
    rows = list(
        db.scalars(
            select(Message).where(Message.conversation_id == welcome["conversation_id"]).order_by(Message.id)
        )
    )
    assert [(r.role, r.text if r.role == "customer" else "") for r in rows] == [
        ("customer", "My laptop will not boot"),
        ("assistant", ""),
        ("customer", CONTINUE_TEXT),
        ("assistant", ""),
    ]
    # The continuation's prompt holds the first exchange, the cut reply included.
    assert rows[3].prompt_tokens is not None and rows[1].prompt_tokens is not None
    assert rows[3].prompt_tokens > rows[1].prompt_tokens + rows[1].completion_tokens
    assert [r.finish_reason for r in rows] == [None, "length", None, "length"]
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": welcome["token"]})
        history = ws.receive_json()["history"]
    assert [m["finish_reason"] for m in history] == [None, "length", None, "length"]
