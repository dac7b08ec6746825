"""The staff transcript: hand-off event lines in place, one readable time zone, quiet normal statuses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.conversations import request_handoff
from app.db.models import Message
from app.staff.transcript import utc_time
from tests.app.console_support import add_conversation, add_user, console_app, sign_in


@pytest.fixture()
def client(pg_url: str, db: Session) -> Iterator[TestClient]:
    with TestClient(console_app(pg_url)) as test_client:
        yield test_client


def test_times_read_the_same_from_either_database() -> None:
    naive = datetime(2026, 12, 2, 2, 35, 10, 123456)  # how SQLite hands a UTC time back
    assert utc_time(naive.isoformat()) == "2026-12-02 02:35:10 UTC"
    assert utc_time(naive.replace(tzinfo=UTC).isoformat()) == "2026-12-02 02:35:10 UTC"
    assert utc_time("2026-12-02T03:35:10.5+01:00") == "2026-12-02 02:35:10 UTC"
    assert utc_time(None) == ""


def test_hand_off_take_over_and_hand_back_are_lines_of_the_transcript(
    client: TestClient, db: Session
) -> None:
    headers = sign_in(client, add_user(db, "sam", "staff"))
    conv = add_conversation(db, [("customer", "my order is late"), ("assistant", "Let me check.")])
    for row in db.scalars(select(Message).where(Message.conversation_id == conv.id)):
        row.status = "received" if row.role == "customer" else "done"
        row.created_at -= timedelta(minutes=5)  # the chat came before the hand-off
    db.commit()
    assert request_handoff(db, conv.id) == "pending"
    base = f"/api/staff/conversations/{conv.id}"
    assert client.post(base + "/take-over", headers=headers).status_code == 200
    assert client.post(base + "/hand-back", headers=headers).status_code == 200

    body = client.get(base).json()
    assert [e["kind"] for e in body["events"]] == ["handoff_requested", "taken_over", "handed_back"]
    assert body["events"][1]["text"] == "sam took the conversation over"
    assert all(m["created_at"].endswith("+00:00") for m in body["messages"])  # aware UTC, both databases

    page = client.get(f"/staff/conversations/{conv.id}").text
    lines = re.findall(r'<li class="(msg role-\w+|event)"', page)
    assert lines == ["msg role-customer", "msg role-assistant", "event", "event", "event"]
    assert "Customer asked for a person" in page and "sam handed the conversation back" in page
    shown = re.findall(r"<time datetime=\"[^\"]+\">([^<]*)</time>", page)
    assert len(shown) == 5 and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", s) for s in shown)
    assert '<span class="badge">received</span>' not in page  # a customer's message is just received


def test_an_api_conversation_shows_its_user(client: TestClient, db: Session) -> None:
    sign_in(client, add_user(db, "sam", "staff"))
    conv = add_conversation(db, [("customer", "hi")])
    conv.channel, conv.api_user = "api", "crm-customer-42"
    db.commit()
    assert client.get(f"/api/staff/conversations/{conv.id}").json()["api_user"] == "crm-customer-42"
    page = client.get(f"/staff/conversations/{conv.id}").text
    assert '<code id="api-user">crm-customer-42</code>' in page
    plain = add_conversation(db, [("customer", "hello")])
    assert 'id="api-user"' not in client.get(f"/staff/conversations/{plain.id}").text
