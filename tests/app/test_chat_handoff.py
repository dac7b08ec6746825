"""Hand-off and non-English turns through the customer websocket, routed by the committed router model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.handoff import (
    ACCOUNT_LOOKUP,
    ACCOUNT_LOOKUP_TEXT,
    HANDOFF_TEXT,
    NON_ENGLISH,
    NON_ENGLISH_TEXT,
    POLICY_BRIDGE,
    notice_text,
)
from app.db.models import Conversation, Message, MessageSource
from app.main import create_app
from app.router import IntentRouter
from app.staff.filters import ConversationFilter
from app.staff.search import matching_ids
from tests.app.chat_support import make_adapters, make_engine, read_until, settings_for
from tests.app.console_support import staff_on_duty

MODEL = Path(__file__).resolve().parents[2] / "app" / "router_model.json"


@pytest.fixture(scope="module")
def adapters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_adapters(tmp_path_factory.mktemp("handoff-adapters"))


@pytest.fixture()
def client(pg_url: str, tokenizer: Any, adapters: dict[str, Path], db: Session) -> Iterator[TestClient]:
    app = create_app(
        settings_for(pg_url, messages_per_minute=1000),
        engine=make_engine(tokenizer, adapters),
        router=IntentRouter.load(MODEL),
    )
    with TestClient(app) as test_client:
        yield test_client


def _hello(ws: Any) -> str:
    ws.send_json({"type": "hello", "token": None})
    frame = ws.receive_json()
    assert frame["type"] == "welcome", frame
    return str(frame["conversation_id"])


def _rows(db: Session, cid: str) -> list[Message]:
    db.expire_all()
    return list(db.scalars(select(Message).where(Message.conversation_id == cid).order_by(Message.id)))


@pytest.mark.parametrize("text", ["I want to talk to a real person", "agent please"])
def test_asking_for_a_person_starts_the_handoff_instead_of_a_reply(
    client: TestClient, db: Session, text: str
) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        cid = _hello(ws)
        ws.send_json({"type": "message", "text": "my wifi router keeps disconnecting"})
        read_until(ws, "done")  # a normal bot reply first: the conversation is tech_support now
        staff_on_duty(db)  # someone can answer: they join shortly (tests/app/test_inbox.py: nobody)
        ws.send_json({"type": "message", "text": text, "client_id": "p-1"})
        stored = ws.receive_json()
        status = ws.receive_json()  # published on the hub, like the page's "talk to a human" link
        assert stored["type"] == "stored"
        assert (status["type"], status["status"], status["text"]) == ("status", "pending", HANDOFF_TEXT)
        assert status["route"]["intent"] == "handoff" and status["route"]["confidence"] > 0.5
        ws.send_json({"type": "message", "text": "hello?"})  # while pending the bot stays silent
        assert ws.receive_json()["type"] == "stored"
        assert ws.receive_json()["text"] == "A member of our team will answer here."
    db.expire_all()
    conv = db.get(Conversation, cid)
    assert conv is not None and conv.status == "pending" and conv.current_intent == "tech_support"
    rows = _rows(db, cid)
    assert [r.role for r in rows] == ["customer", "assistant", "customer", "customer"]  # no bot reply
    asked = rows[2]
    assert (asked.text, asked.intent) == (text, "handoff") and asked.router_scores
    # Staff see it where they look for hand-offs: the pending conversations.
    assert cid in matching_ids(db, ConversationFilter(status="pending"))


def test_a_non_english_message_gets_the_english_notice_and_the_offer(client: TestClient, db: Session) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        welcome = ws.receive_json()
        cid, token = welcome["conversation_id"], welcome["token"]
        ws.send_json({"type": "message", "text": "¿Dónde está mi pedido? Lo compré hace una semana"})
        assert ws.receive_json()["type"] == "stored"
        route = ws.receive_json()
        done = ws.receive_json()
    assert (route["type"], route["intent"], route["reason"], route["adapter"]) == (
        "route", "general", "non_english", None
    )  # fmt: skip
    assert (done["type"], done["text"], done["handoff_offer"]) == ("done", NON_ENGLISH_TEXT, True)
    assert done["seq"] == route["seq"] + 1 and done["message_id"] == route["message_id"]
    customer, reply = _rows(db, cid)
    assert (reply.role, reply.text, reply.status, reply.intent) == (
        "assistant",
        NON_ENGLISH_TEXT,
        "done",
        "general",
    )
    assert reply.reply_to_id == customer.id and reply.adapter is None and reply.router_confidence is not None
    assert reply.decoding == {"strategy": "notice", "reason": "non_english"}
    db.expire_all()
    assert db.get(Conversation, cid).status == "active"  # only offered: the customer decides
    with client.websocket_connect("/ws/chat") as ws:  # a reloaded page shows the offer again
        ws.send_json({"type": "hello", "token": token})
        history = ws.receive_json()["history"]
    assert [m["handoff_offer"] for m in history] == [False, True]


def test_the_page_link_still_starts_the_same_handoff(client: TestClient, db: Session) -> None:
    staff_on_duty(db)
    with client.websocket_connect("/ws/chat") as ws:
        cid = _hello(ws)
        ws.send_json({"type": "handoff"})
        assert ws.receive_json() == {"type": "status", "status": "pending", "text": HANDOFF_TEXT}
    db.expire_all()
    assert db.get(Conversation, cid).status == "pending"


def test_a_question_about_the_customers_own_records_gets_the_honest_notice(
    client: TestClient, db: Session
) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        cid = ws.receive_json()["conversation_id"]
        ws.send_json({"type": "message", "text": "where is my order 60412?"})
        assert ws.receive_json()["type"] == "stored"
        assert ws.receive_json()["type"] == "route"
        done = ws.receive_json()
    assert (done["type"], done["text"], done["handoff_offer"]) == ("done", ACCOUNT_LOOKUP_TEXT, True)
    assert done["sources"] == []  # no policy answers where one order is
    customer, reply = _rows(db, cid)
    assert (reply.text, reply.status, reply.adapter) == (ACCOUNT_LOOKUP_TEXT, "done", None)
    assert reply.decoding == {"strategy": "notice", "reason": "account_lookup"}
    assert customer.text == "where is my order 60412?"  # the message is kept as sent


def test_a_lookup_that_a_policy_answers_in_general_quotes_it_in_the_notice(
    client: TestClient, db: Session
) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        cid = _hello(ws)
        ws.send_json({"type": "message", "text": "did my refund for order 60412 come through?"})
        done = read_until(ws, "done")[-1]
    expected = notice_text(ACCOUNT_LOOKUP, done["text"].split(POLICY_BRIDGE)[1].split(" Choose ")[0])
    assert done["text"] == expected and "within 5-7 business days" in done["text"]
    assert done["text"].endswith("a member of our team will look it up for you.") and done["handoff_offer"]
    assert [s["key"] for s in done["sources"]][:1] == ["policy.refunds"]
    _customer, reply = _rows(db, cid)
    assert reply.text == done["text"] and reply.decoding == {"strategy": "notice", "reason": "account_lookup"}
    used = db.scalars(
        select(MessageSource.key).where(MessageSource.message_id == reply.id).order_by(MessageSource.rank)
    )
    assert list(used)[:1] == ["policy.refunds"]  # staff and the gap report see what it quoted


def test_the_notice_text_carries_a_policy_between_its_two_sentences() -> None:
    assert notice_text(ACCOUNT_LOOKUP) == ACCOUNT_LOOKUP_TEXT
    assert notice_text(NON_ENGLISH, "Refunds: 5 days.") == NON_ENGLISH_TEXT  # only lookups quote
    text = notice_text(ACCOUNT_LOOKUP, "Refunds: 5 days.")
    assert text.startswith(ACCOUNT_LOOKUP_TEXT.split(" Choose ")[0] + f" {POLICY_BRIDGE}Refunds: 5 days.")
    assert text.endswith(" Choose Talk to a person and a member of our team will look it up for you.")
