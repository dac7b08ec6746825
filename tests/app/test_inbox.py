"""Staff inbox over the API on PostgreSQL: queue order, unread counts, assign/mine, notes, labels,
channels, the unanswered flag; resolve -> the customer's CSAT; a hand-off nobody can take -> email."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Conversation, CsatRating, Message, StaffUser, utcnow
from app.inbox.hours import DeskHours, save_hours
from tests.app.chat_support import make_engine, read_until
from tests.app.console_support import add_conversation, add_user, console_app, sign_in


@pytest.fixture()
def client(pg_url: str, db: Session, tokenizer: Any) -> Iterator[TestClient]:
    app = console_app(pg_url, engine=make_engine(tokenizer, {}), messages_per_minute=1000)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture()
def sam(db: Session) -> StaffUser:
    return add_user(db, "sam", "staff")


@pytest.fixture()
def csrf(client: TestClient, sam: StaffUser) -> dict[str, str]:
    return sign_in(client, sam)


def _inbox(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/inbox/conversations", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _pending(db: Session, minutes_ago: float, text: str = "help", channel: str = "web") -> Conversation:
    conv = add_conversation(db, [("customer", text)], status="pending")
    conv.pending_since, conv.channel = utcnow() - timedelta(minutes=minutes_ago), channel
    db.commit()
    return conv


def test_waiting_customers_come_first_longest_wait_first(
    client: TestClient, csrf: dict, db: Session, sam: StaffUser
) -> None:
    recent, oldest = _pending(db, 1), _pending(db, 30)
    mine = add_conversation(db, [("staff", "hi"), ("customer", "still there?")], status="human")
    mine.assigned_staff_id = sam.id
    add_conversation(db, [("customer", "bot is fine")], status="active")  # the bot has it: not in the inbox
    db.commit()
    items = _inbox(client)
    assert [i["id"] for i in items] == [oldest.id, recent.id, mine.id]
    assert items[0]["customer"] == f"Web visitor {oldest.id[:6].upper()}" and items[0]["channel"] == "web"
    assert [i["id"] for i in _inbox(client, view="waiting")] == [oldest.id, recent.id]
    assert [i["id"] for i in _inbox(client, view="mine")] == [mine.id]
    assert items[2]["waiting_since"] is not None and items[2]["assigned_to"] == "sam"


def test_unread_counts_are_per_staff_member_and_clear_when_read(
    client: TestClient, csrf: dict, db: Session
) -> None:
    conv = add_conversation(
        db, [("customer", "one"), ("assistant", "bot"), ("customer", "two")], status="pending"
    )
    assert _inbox(client)[0]["unread"] == 2
    assert client.post(f"/api/inbox/conversations/{conv.id}/read", headers=csrf).json()["unread"] == 0
    assert _inbox(client)[0]["unread"] == 0
    db.add(Message(conversation_id=conv.id, role="customer", text="three", status="received"))
    db.commit()
    assert _inbox(client)[0]["unread"] == 1
    kim_csrf = sign_in(client, add_user(db, "kim"))  # a colleague has read nothing yet
    assert _inbox(client)[0]["unread"] == 3
    assert client.post("/api/inbox/conversations/nope/read", headers=kim_csrf).status_code == 404


def test_assign_to_me_or_a_colleague_tells_the_customer_who_answers(
    client: TestClient, csrf: dict, db: Session, sam: StaffUser
) -> None:
    kim = add_user(db, "kim")
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        cid = ws.receive_json()["conversation_id"]
        ws.send_json({"type": "handoff"})
        assert ws.receive_json()["status"] == "pending"
        body = client.post(f"/api/inbox/conversations/{cid}/assign", headers=csrf).json()
        assert (body["status"], body["assigned_to"]) == ("human", "sam")
        assert ws.receive_json() == {
            "type": "status",
            "status": "human",
            "text": "sam from our team will answer you here.",
        }
        assert [i["id"] for i in _inbox(client, view="mine")] == [cid]
        reassigned = client.post(
            f"/api/inbox/conversations/{cid}/assign", json={"staff_id": kim.id}, headers=csrf
        )
        assert reassigned.json()["assigned_to"] == "kim"
        assert "kim from our team" in ws.receive_json()["text"]
    assert _inbox(client, view="mine") == []
    assert client.get("/api/inbox/staff").json()["staff"][0]["username"] == "kim"
    bad = client.post(f"/api/inbox/conversations/{cid}/assign", json={"staff_id": 99999}, headers=csrf)
    assert bad.status_code == 422 and "active staff member" in bad.text
    assert client.post("/api/inbox/conversations/nope/assign", headers=csrf).status_code == 404
    client.post(f"/api/inbox/conversations/{cid}/resolve", headers=csrf)
    assert client.post(f"/api/inbox/conversations/{cid}/assign", headers=csrf).status_code == 409
    events = client.get(f"/api/staff/conversations/{cid}").json()["events"]
    assert [e["text"] for e in events if e["kind"] in ("assigned", "resolved")] == [
        "Assigned to sam",
        "Assigned to kim",
        "sam resolved the conversation; the customer was asked for a rating",
    ]


def test_internal_notes_never_reach_the_customer(client: TestClient, csrf: dict, db: Session) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        welcome = ws.receive_json()
        cid, token = welcome["conversation_id"], welcome["token"]
        ws.send_json({"type": "handoff"})
        ws.receive_json()
        url = f"/api/inbox/conversations/{cid}/notes"
        notes = client.post(url, json={"text": "VIP: refund approved by Ana"}, headers=csrf).json()["notes"]
        assert [(n["text"], n["staff"]) for n in notes] == [("VIP: refund approved by Ana", "sam")]
        assert client.post(url, json={"text": "   "}, headers=csrf).status_code == 422
    with client.websocket_connect("/ws/chat") as ws:  # a reload: the history the customer sees
        ws.send_json({"type": "hello", "token": token})
        history = ws.receive_json()["history"]
    assert all("refund approved" not in m["text"] for m in history)
    assert all(
        "refund approved" not in m["text"]
        for m in client.get(f"/api/staff/conversations/{cid}").json()["messages"]
    )
    assert client.get(f"/api/inbox/conversations/{cid}").json()["notes"][0]["text"].startswith("VIP")


def test_labels_and_channel_filter(client: TestClient, csrf: dict, db: Session) -> None:
    web, api = _pending(db, 3), _pending(db, 2, channel="api")
    url = f"/api/inbox/conversations/{api.id}/labels"
    assert client.post(url, json={"label": " Refund "}, headers=csrf).json()["labels"] == ["refund"]
    assert client.post(url, json={"label": "refund"}, headers=csrf).json()["labels"] == ["refund"]
    bad = client.post(url, json={"label": "<b>"}, headers=csrf)
    assert bad.status_code == 422 and "label must be" in bad.text
    assert [i["id"] for i in _inbox(client, label="refund")] == [api.id]
    only_api = _inbox(client, channel="api")
    assert [i["id"] for i in only_api] == [api.id] and only_api[0]["customer"].startswith("API client ")
    assert [i["id"] for i in _inbox(client, channel="web")] == [web.id]
    assert len(_inbox(client, channel="")) == 2  # a blank select means any channel
    assert client.delete(f"{url}/refund", headers=csrf).json()["labels"] == []
    assert client.get("/api/inbox/conversations", params={"channel": "fax"}).status_code == 422


def test_a_wait_past_the_operator_threshold_is_flagged(
    client: TestClient, csrf: dict, db: Session, sam: StaffUser
) -> None:
    save_hours(db, DeskHours(unanswered_minutes=10), sam)
    late, fresh = _pending(db, 12), _pending(db, 2)
    flags = {i["id"]: i["overdue"] for i in _inbox(client)}
    assert flags == {late.id: True, fresh.id: False}
    body = client.get("/api/inbox/conversations").json()
    assert body["desk"]["unanswered_minutes"] == 10


def test_resolve_asks_for_a_rating_which_is_stored(
    client: TestClient, csrf: dict, db: Session, sam: StaffUser
) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        welcome = ws.receive_json()
        cid, token = welcome["conversation_id"], welcome["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        early = client.post("/api/chat/csat", json={"score": 5}, headers=bearer)
        assert early.status_code == 409  # nobody resolved it: nothing to rate
        ws.send_json({"type": "handoff"})
        ws.receive_json()
        client.post(f"/api/staff/conversations/{cid}/take-over", headers=csrf)
        ws.receive_json()
        assert (
            client.post(f"/api/inbox/conversations/{cid}/resolve", headers=csrf).json()["status"] == "closed"
        )
        prompt = ws.receive_json()
        assert (prompt["status"], prompt["csat"]) == ("closed", True) and "How did we do" in prompt["text"]
        assert client.get("/api/chat/desk", headers=bearer).json() == {"csat": True, "ask_email": False}
        assert client.post("/api/chat/csat", json={"score": 6}, headers=bearer).status_code == 422
        assert client.post("/api/chat/csat", json={"score": 4}).status_code == 401
        assert (
            client.post(
                "/api/chat/csat", json={"score": 4}, headers={"Authorization": "Bearer x"}
            ).status_code
            == 401
        )
        saved = client.post("/api/chat/csat", json={"score": 4, "comment": " quick, thanks "}, headers=bearer)
        assert saved.json() == {"score": 4, "comment": "quick, thanks"}
        client.post("/api/chat/csat", json={"score": 5, "comment": ""}, headers=bearer)  # changed their mind
        assert client.get("/api/chat/desk", headers=bearer).json()["csat"] is False  # asked once, answered
        ws.send_json({"type": "message", "text": "one more question"})  # writing again reopens with the bot
        assert read_until(ws, "done")[-1]["type"] == "done"
    db.expire_all()
    rating = db.scalar(select(CsatRating).where(CsatRating.conversation_id == cid))
    assert rating is not None and (rating.score, rating.resolved_by_id) == (5, sam.id)
    assert db.get(Conversation, cid).status == "active"  # type: ignore[union-attr]


def test_a_handoff_nobody_can_take_says_when_and_takes_an_email(
    client: TestClient, csrf: dict, db: Session, sam: StaffUser
) -> None:
    save_hours(db, DeskHours(always_open=True), sam)  # open, but sam's console is not connected
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        welcome = ws.receive_json()
        cid, bearer = welcome["conversation_id"], {"Authorization": f"Bearer {welcome['token']}"}
        ws.send_json({"type": "handoff"})
        status = ws.receive_json()
        assert status["away"] and status["ask_email"] and "Nobody from our team is online" in status["text"]
        ws.send_json({"type": "message", "text": "hello?"})
        assert ws.receive_json()["type"] == "stored"
        assert ws.receive_json()["ask_email"] is True  # still nobody: still the email offer
    assert client.get("/api/chat/desk", headers=bearer).json() == {"csat": False, "ask_email": True}
    assert client.get("/api/chat/desk").status_code == 401
    bad = client.post("/api/chat/contact", json={"email": "not an email"}, headers=bearer)
    assert bad.status_code == 422 and "email" in bad.json()["errors"]
    assert (
        client.post("/api/chat/contact", json={"email": "ana@example.com"}, headers=bearer).status_code == 200
    )
    db.expire_all()
    assert db.get(Conversation, cid).contact_email == "ana@example.com"  # type: ignore[union-attr]
    assert client.get("/api/chat/desk", headers=bearer).json()["ask_email"] is False  # left: not asked again
    assert _inbox(client, view="waiting")[0]["customer"] == "ana@example.com"


def test_the_inbox_needs_a_login(client: TestClient) -> None:
    assert client.get("/api/inbox/conversations").status_code == 401
    assert client.get("/api/inbox/events").status_code == 401
    page = client.get("/staff/inbox", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_the_longest_waits_survive_the_page_cut(
    client: TestClient, csrf: dict, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.inbox import queue

    monkeypatch.setattr(queue, "MAX_ITEMS", 2)
    oldest, middle = _pending(db, 50), _pending(db, 20)
    _pending(db, 1)  # touched last, waiting least: the one left off
    assert [i["id"] for i in _inbox(client, view="waiting")] == [oldest.id, middle.id]
