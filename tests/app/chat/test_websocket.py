"""The customer websocket end to end: real Postgres, the tiny random Llama with three LoRAs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.intents import INTENTS
from app.db.models import Conversation, Feedback, Message
from app.decoding.policy import DecodingPolicy
from app.decoding.store import save_policy
from app.main import create_app
from tests.app.chat_support import (
    KeywordRouter,
    make_adapters,
    make_engine,
    read_until,
    settings_for,
    wait_for,
)
from tests.app.console_support import staff_on_duty


@pytest.fixture(scope="module")
def adapters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_adapters(tmp_path_factory.mktemp("chat-adapters"))


@pytest.fixture()
def client(pg_url: str, tokenizer: Any, adapters: dict[str, Path], db: Session) -> Iterator[TestClient]:
    engine = make_engine(tokenizer, adapters)
    app = create_app(
        settings_for(pg_url, messages_per_minute=1000),
        engine=engine,
        router=KeywordRouter(),
        resume_grace_s=0.2,
    )
    with TestClient(app) as test_client:
        yield test_client


def _long_replies(db: Session, tokens: int = 1500) -> None:
    """Greedy, long replies for every intent, so there is time to stop or drop mid-stream."""
    for intent in INTENTS:
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=tokens), None)


def _hello(ws: Any, **extra: Any) -> dict[str, Any]:
    ws.send_json({"type": "hello", "token": None, **extra})
    frame = ws.receive_json()
    assert frame["type"] == "welcome", frame
    return frame


def _rows(db: Session, conversation_id: str) -> list[Message]:
    db.expire_all()
    return list(
        db.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
    )


def test_message_is_stored_routed_streamed_and_recorded(client: TestClient, db: Session) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        welcome = _hello(ws)
        cid = welcome["conversation_id"]
        assert welcome["token"] and welcome["history"] == []
        ws.send_json({"type": "message", "text": "My laptop will not boot", "client_id": "c-1"})
        stored = ws.receive_json()
        assert stored["type"] == "stored" and stored["seq"] == 0 and stored["client_id"] == "c-1"
        # Committed before generation starts: visible to another session right now.
        customer = _rows(db, cid)[0]
        assert (customer.id, customer.role, customer.text) == (
            stored["message_id"],
            "customer",
            "My laptop will not boot",
        )
        route = ws.receive_json()
        assert route["type"] == "route" and route["seq"] == 1
        assert (route["intent"], route["adapter"], route["confidence"]) == (
            "tech_support",
            "tech_support",
            0.9,
        )
        assert _rows(db, cid)[1].status == "streaming"
        frames = read_until(ws, "done", stored["job_id"])
    tokens = [f for f in frames if f["type"] == "token"]
    assert tokens and [f["seq"] for f in frames] == list(range(2, 2 + len(frames)))
    done = frames[-1]
    customer, reply = _rows(db, cid)
    assert reply.id == route["message_id"] == done["message_id"]
    assert reply.text == "".join(f["text"] for f in tokens + [done]) and reply.status == "done"
    assert reply.reply_to_id == customer.id and reply.job_id == stored["job_id"]
    assert (reply.intent, reply.adapter, reply.router_confidence) == ("tech_support", "tech_support", 0.9)
    assert reply.router_scores == {"general": 0.05, "tech_support": 0.9, "sales": 0.05}
    assert reply.decoding["strategy"] == "greedy" and reply.decoding["params"]["temperature"] == 0.0
    assert reply.decoding_version == 0
    assert reply.prompt_tokens and reply.completion_tokens == done["tokens"] > 0
    assert reply.ttft_ms is not None and reply.latency_ms is not None and reply.latency_ms >= reply.ttft_ms
    db.expire_all()
    assert db.get(Conversation, cid).current_intent == "tech_support"


def test_live_policy_and_sticky_intent_reach_the_reply(client: TestClient, db: Session) -> None:
    save_policy(
        db, "sales", DecodingPolicy(strategy="nucleus", temperature=0.9, top_p=0.8, max_new_tokens=5), None
    )
    with client.websocket_connect("/ws/chat") as ws:
        cid = _hello(ws)["conversation_id"]
        ws.send_json({"type": "message", "text": "What is the price of the Plus plan?"})
        read_until(ws, "done")
        ws.send_json({"type": "message", "text": "thanks"})
        read_until(ws, "done")
    first, second = [r for r in _rows(db, cid) if r.role == "assistant"]
    assert first.decoding_version == 1 and first.decoding["strategy"] == "nucleus"
    assert first.decoding["params"]["top_p"] == 0.8 and first.completion_tokens == 5


def test_stop_cancels_generation_and_keeps_partial_text(client: TestClient, db: Session) -> None:
    _long_replies(db)
    with client.websocket_connect("/ws/chat") as ws:
        cid = _hello(ws)["conversation_id"]
        ws.send_json({"type": "message", "text": "hello there"})
        frames = read_until(ws, "token")
        ws.send_json({"type": "stop"})
        frames += read_until(ws, "done")
    done = frames[-1]
    assert done["finish_reason"] == "cancelled" and done["tokens"] < 1500
    reply = _rows(db, cid)[1]
    text = "".join(f.get("text", "") for f in frames if f["type"] in ("token", "done"))
    assert reply.status == "interrupted" and reply.text == text and reply.text
    backend = client.app.state.backend
    assert backend.active_jobs() == 0 and client.app.state.engine.core.pool.num_used == 0


def test_disconnect_cancels_generation_and_frees_kv(client: TestClient, db: Session) -> None:
    _long_replies(db)
    engine = client.app.state.engine.core
    with client.websocket_connect("/ws/chat") as ws:
        cid = _hello(ws)["conversation_id"]
        ws.send_json({"type": "message", "text": "hello there"})
        read_until(ws, "token")
        assert engine.pool.num_used > 0
    # Nobody resumed within the grace period: the job is aborted in the engine.
    reply = wait_for(lambda: next((r for r in _rows(db, cid) if r.status == "interrupted"), None))
    assert reply.completion_tokens < 1500
    assert engine.pool.num_used == 0 and client.app.state.backend.active_jobs() == 0
    metrics = client.get("/metrics").text
    assert 'switchboard_replies_total{adapter="general",status="interrupted"} 1.0' in metrics


def test_resume_after_drop_sends_the_rest_once(client: TestClient, db: Session) -> None:
    _long_replies(db, tokens=300)
    client.app.state.chat.resume_grace_s = 30.0
    with client.websocket_connect("/ws/chat") as ws:
        welcome = _hello(ws)
        ws.send_json({"type": "message", "text": "hello there"})
        first = read_until(ws, "token")
        first.append(ws.receive_json())
    job_id = first[0]["job_id"]
    last = first[-1]["seq"]
    with client.websocket_connect("/ws/chat") as ws:
        again = _hello(ws, token=welcome["token"], last_seq={job_id: last})
        assert again["conversation_id"] == welcome["conversation_id"]
        streaming = [m for m in again["history"] if m["status"] == "streaming"]
        assert [m["job_id"] for m in streaming] == [job_id]
        rest = read_until(ws, "done", job_id)
    seqs = [f["seq"] for f in first + rest]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap, nothing twice
    text = "".join(f["text"] for f in first + rest if f["type"] in ("token", "done"))
    reply = _rows(db, welcome["conversation_id"])[1]
    assert reply.status == "done" and reply.text == text and reply.completion_tokens == 300


def test_token_opens_only_its_own_conversation(client: TestClient) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        a = _hello(ws)
    with client.websocket_connect("/ws/chat") as ws:
        b = _hello(ws)
        ws.send_json({"type": "hello", "token": a["token"], "conversation_id": b["conversation_id"]})
        assert "does not open" in ws.receive_json()["message"]
        ws.send_json({"type": "hello", "token": a["token"] + "x"})
        assert "invalid" in ws.receive_json()["message"]
        ws.send_json({"type": "hello", "token": None, "conversation_id": a["conversation_id"]})
        assert "token" in ws.receive_json()["message"]
        reopened = _hello(ws, token=a["token"])
        assert reopened["conversation_id"] == a["conversation_id"]


BAD_FRAMES: list[tuple[Any, str]] = [
    (b"\x00\x01", "binary"),
    ("not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"type": "message", "text": "' + "x" * 20000 + '"}', "too large"),
    ('{"type": "hello", "a": ' + "[" * 3000 + "]" * 3000 + "}", "nested"),
    ('{"type": "hello", "a": [[[[[1]]]]]}', "nested too deeply"),
    ('{"type": "warp"}', "unknown frame type"),
    ('{"type": "message", "text": 5}', "'text' must be a string"),
    ('{"type": "message", "text": "   \\n "}', "empty"),
    ('{"type": "message", "text": "' + "y" * 4001 + '"}', "too long"),
    ('{"type": "message", "text": "hi\\u0007there"}', "control characters"),
    ('{"type": "feedback", "message_id": "1", "rating": 1}', "'message_id' must be an integer"),
    ('{"type": "feedback", "message_id": 1, "rating": 5}', "'rating' must be 1 or -1"),
    ('{"type": "resume", "after": 1}', "'job_id' is required"),
]


def test_bad_frames_get_clear_errors_and_the_socket_stays_usable(client: TestClient, db: Session) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "message", "text": "before hello"})
        assert "hello" in ws.receive_json()["message"]
        cid = _hello(ws)["conversation_id"]
        for raw, expected in BAD_FRAMES:
            if isinstance(raw, bytes):
                ws.send_bytes(raw)
            else:
                ws.send_text(raw)
            frame = ws.receive_json()
            assert frame["type"] == "error" and expected in frame["message"], (raw[:40], frame)
        ws.send_json({"type": "feedback", "message_id": 999999, "rating": 1})
        assert "bot reply in this conversation" in ws.receive_json()["message"]
        ws.send_json({"type": "message", "text": "still here?"})
        assert read_until(ws, "done")[-1]["type"] == "done"
    assert [r.role for r in _rows(db, cid)] == ["customer", "assistant"]


def test_rate_limit_is_per_client_with_a_clear_error(client: TestClient, db: Session) -> None:
    from app.limits.chat_limits import ChatLimitConfig, ChatLimits
    from app.limits.window import MemoryWindow

    # A frozen clock: minute-aligned windows would otherwise reset if the test crossed a minute.
    frozen = MemoryWindow(clock=lambda: 1_800_000_030.0)
    client.app.state.chat_limits = ChatLimits(frozen, ChatLimitConfig(per_conversation=2))
    with client.websocket_connect("/ws/chat") as ws:
        _hello(ws)
        for _ in range(2):
            ws.send_json({"type": "message", "text": "hi"})
            read_until(ws, "done")
        ws.send_json({"type": "message", "text": "hi again"})
        assert ws.receive_json()["status"] == "rate_limited"  # stored, marked, not answered
        frame = ws.receive_json()
        assert frame["type"] == "error" and "faster than we can answer" in frame["message"]
    with client.websocket_connect("/ws/chat") as ws:  # another customer is not limited
        _hello(ws)
        ws.send_json({"type": "message", "text": "hi"})
        assert read_until(ws, "done")[-1]["type"] == "done"


def test_feedback_handoff_and_staff_reply(client: TestClient, db: Session) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        cid = _hello(ws)["conversation_id"]
        ws.send_json({"type": "message", "text": "hi"})
        done = read_until(ws, "done")[-1]
        ws.send_json({"type": "feedback", "message_id": done["message_id"], "rating": -1})
        assert ws.receive_json()["status"] == "feedback_saved"
        ws.send_json({"type": "feedback", "message_id": done["message_id"], "rating": 1})
        assert ws.receive_json()["status"] == "feedback_saved"
        staff_on_duty(db)  # a person can answer, so the plain "will answer here" frames
        ws.send_json({"type": "handoff"})
        status = ws.receive_json()
        assert status["type"] == "status" and status["status"] == "pending"
        ws.send_json({"type": "message", "text": "are you a person?", "client_id": "h-1"})
        stored = ws.receive_json()
        waiting = ws.receive_json()
        assert stored["type"] == "stored" and waiting == {
            "type": "status",
            "status": "pending",
            "text": "A member of our team will answer here.",
        }
        ws.send_json({"type": "message", "text": "are you a person?", "client_id": "h-1"})
        assert ws.receive_json()["duplicate"] is True  # a retried send is stored once
        portal = client.portal  # type: ignore[attr-defined]
        event = {"type": "staff_message", "message_id": 1, "text": "Hi, I am Sam from Voltline."}
        portal.call(client.app.state.hub.publish, cid, event)
        assert ws.receive_json() == event
    db.expire_all()
    assert db.scalar(select(Feedback.rating).where(Feedback.message_id == done["message_id"])) == 1
    assert db.get(Conversation, cid).status == "pending"
    assert [r.role for r in _rows(db, cid)] == ["customer", "assistant", "customer"]
