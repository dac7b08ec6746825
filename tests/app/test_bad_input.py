"""Bad input on the customer websocket: every kind gets a clear error, valid text is stored verbatim."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from adapters.intents import INTENTS
from app.db.models import Message
from app.decoding.policy import DecodingPolicy
from app.decoding.store import save_policy
from app.main import create_app
from tests.app.chat_support import KeywordRouter, make_engine, read_until, settings_for

MAX_FRAME = 16384
MAX_CHARS = 4000
# A character from each plane in use: BMP, SMP (emoji), SIP, TIP, SSP (tag), both private-use planes.
PLANES = "\u00e9\U0001f600\U00020000\U00030000\U000e0041\U000f0000\U00100000"


@pytest.fixture(scope="module")
def engine(tokenizer: Any) -> Any:
    return make_engine(tokenizer, {})


def _app(pg_url: str, engine: Any, **overrides: Any) -> Any:
    values = {"messages_per_minute": 100_000, "max_frame_bytes": MAX_FRAME, "max_message_chars": MAX_CHARS}
    return create_app(settings_for(pg_url, **{**values, **overrides}), engine=engine, router=KeywordRouter())


@pytest.fixture()
def client(pg_url: str, engine: Any, db: Session) -> Iterator[TestClient]:
    for intent in INTENTS:
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=3), None)
    with TestClient(_app(pg_url, engine)) as test_client:
        yield test_client


def _hello(ws: Any) -> dict[str, Any]:
    ws.send_json({"type": "hello", "token": None})
    frame = ws.receive_json()
    assert frame["type"] == "welcome", frame
    return dict(frame)


def _send(ws: Any, raw: str | bytes) -> dict[str, Any]:
    if isinstance(raw, bytes):
        ws.send_bytes(raw)
    else:
        ws.send_text(raw)
    return dict(ws.receive_json())


def _message(text: Any) -> str:
    return json.dumps({"type": "message", "text": text})


BAD = [
    ("not json", "{not json", "not valid JSON"),
    ("binary", b"\x00\x01binary", "binary frames are not supported"),
    ("huge", _message("x" * (MAX_FRAME + 1)), "frame is too large"),
    ("deep", '{"type": "message", "text": "hi", "x": ' + "[" * 60 + "]" * 60 + "}", "nested too deeply"),
    ("very deep", "[" * 100_00 + "]" * 100_00, "too large"),
    ("array", "[1, 2]", "must be a JSON object"),
    ("number text", _message(42), "'text' must be a string"),
    ("null text", _message(None), "'text' must be a string"),
    ("list text", _message(["a"]), "'text' must be a string"),
    ("type int", '{"type": 7}', "unknown frame type"),
    ("empty", _message(""), "message is empty"),
    ("whitespace", _message(" \t\n  "), "message is empty"),
    ("control", _message("bell\x07 and nul\x00"), "control characters"),
    ("c1 control", _message("next line\x85"), "control characters"),
    ("lone surrogate", '{"type": "message", "text": "half \\ud800 pair"}', "unpaired surrogate"),
    (
        "surrogate client id",
        '{"type": "message", "text": "ok", "client_id": "\\udfff"}',
        "unpaired surrogate",
    ),
    ("too long", _message("y" * (MAX_CHARS + 1)), "message is too long"),
]


@pytest.mark.parametrize(("raw", "expected"), [(raw, exp) for _, raw, exp in BAD], ids=[n for n, _, _ in BAD])
def test_bad_frames_get_a_clear_error_and_nothing_is_stored(
    client: TestClient, db: Session, raw: str | bytes, expected: str
) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        cid = _hello(ws)["conversation_id"]
        frame = _send(ws, raw)
        assert frame["type"] == "error" and expected in frame["message"], frame
        ws.send_json({"type": "message", "text": "still listening?"})  # the socket stays usable
        assert read_until(ws, "done")[-1]["type"] == "done"
    db.expire_all()
    texts = list(
        db.scalars(select(Message.text).where(Message.conversation_id == cid, Message.role == "customer"))
    )
    assert texts == ["still listening?"]


def test_every_unicode_plane_is_stored_and_echoed_intact(client: TestClient, db: Session) -> None:
    text = f"plane check {PLANES} tab\tand newline\nkept"
    with client.websocket_connect("/ws/chat") as ws:
        welcome = _hello(ws)
        ws.send_text(_message(text))
        stored = read_until(ws, "stored")[-1]
        read_until(ws, "done")
    row = db.get(Message, stored["message_id"])
    assert row is not None and row.text == text
    with client.websocket_connect("/ws/chat") as ws:  # echoed back in the history on reconnect
        ws.send_json({"type": "hello", "token": welcome["token"]})
        history = ws.receive_json()["history"]
    assert history[0]["text"] == text


@pytest.mark.parametrize(
    "text",
    ["'; DROP TABLE messages; --", "100% off_ \\ \" ' %s %(x)s $$ $1 ?", "x' OR '1'='1", "a\\'b /* c */ --"],
)
def test_sql_metacharacters_are_stored_verbatim(client: TestClient, db: Session, text: str) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        _hello(ws)
        ws.send_json({"type": "message", "text": text})
        stored = read_until(ws, "stored")[-1]
        read_until(ws, "done")
    db.expire_all()
    row = db.get(Message, stored["message_id"])
    assert row is not None and row.text == text
    assert "messages" in inspect(db.get_bind()).get_table_names()


def test_a_prompt_longer_than_the_context_is_truncated_and_answered(
    pg_url: str, engine: Any, db: Session
) -> None:
    """Policy: the stored message is kept whole; the prompt keeps its beginning and is cut to fit."""
    for intent in INTENTS:
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=3), None)
    context = engine.core.max_positions
    text = " ".join(f"word{i}" for i in range(context * 2))  # well over the context in tokens
    app = _app(pg_url, engine, max_message_chars=len(text) + 1, max_frame_bytes=len(text) + 1024)
    with TestClient(app) as client, client.websocket_connect("/ws/chat") as ws:
        _hello(ws)
        ws.send_json({"type": "message", "text": text})
        frames = read_until(ws, "done")
        stored = frames[0]
        backend = client.app.state.backend  # type: ignore[attr-defined]
        first = backend._logs[frames[-1]["job_id"]].events[0]
    assert first.extra["prompt_truncated"] is True
    assert first.prompt_tokens <= context
    db.expire_all()
    row = db.get(Message, stored["message_id"])
    assert row is not None and row.text == text


def test_per_client_rate_limit_gives_a_clear_error(pg_url: str, engine: Any, db: Session) -> None:
    for intent in INTENTS:
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=2), None)
    with TestClient(_app(pg_url, engine, messages_per_minute=3)) as client:
        with client.websocket_connect("/ws/chat") as ws:
            _hello(ws)
            for i in range(3):
                ws.send_json({"type": "message", "text": f"message {i}"})
                read_until(ws, "done")
            stored = _send(ws, _message("one too many"))
            assert stored["type"] == "stored" and stored["status"] == "rate_limited"
            frame = ws.receive_json()
            assert frame["type"] == "error" and "please wait" in frame["message"]
        with client.websocket_connect("/ws/chat") as ws:  # another customer has their own budget
            _hello(ws)
            ws.send_json({"type": "message", "text": "hello"})
            assert read_until(ws, "done")[-1]["type"] == "done"


VALID_TYPES = {"hello", "message", "stop", "feedback", "handoff", "resume"}
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
_invalid = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64).map(lambda t: "#" + t),  # never JSON
    st.builds(
        lambda kind, body: json.dumps({**body, "type": kind}),
        st.text(max_size=12).filter(lambda k: k not in VALID_TYPES),
        st.dictionaries(st.text(max_size=5), _json_values, max_size=3),
    ),
    _json_values.filter(lambda v: not isinstance(v, dict)).map(json.dumps),
    (st.integers() | st.lists(st.integers(), max_size=2) | st.none()).map(_message),
)
_valid_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=60).filter(
    str.strip
)
_frames = st.lists(
    st.one_of(_invalid.map(lambda raw: ("bad", raw)), _valid_text.map(lambda t: ("ok", t))), max_size=6
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=_frames)
def test_random_frames_never_break_the_server_and_valid_messages_are_stored(
    client: TestClient, db: Session, frames: list[tuple[str, Any]]
) -> None:
    expected: dict[int, str] = {}
    with client.websocket_connect("/ws/chat") as ws:
        _hello(ws)
        for kind, raw in frames:
            if kind == "bad":
                assert _send(ws, raw)["type"] == "error"
                continue
            ws.send_text(_message(raw))
            stored = read_until(ws, "stored")[-1]
            expected[stored["message_id"]] = raw.strip()
            assert read_until(ws, "done", stored["job_id"])[-1]["type"] == "done"
        assert _hello(ws)["type"] == "welcome"  # still serving after all of it
    db.expire_all()
    for message_id, text in expected.items():
        row = db.get(Message, message_id)
        assert row is not None and row.text == text
