"""Operators set business hours and manage canned replies; staff may read canned replies, not edit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.app.chat_support import make_engine
from tests.app.console_support import add_user, console_app, sign_in


@pytest.fixture()
def client(pg_url: str, db: Session, tokenizer: Any) -> Iterator[TestClient]:
    with TestClient(console_app(pg_url, engine=make_engine(tokenizer, {}))) as test_client:
        yield test_client


def test_business_hours_are_validated_and_stored(client: TestClient, db: Session) -> None:
    csrf = sign_in(client, add_user(db, "olga", "operator"))
    assert client.get("/api/operator/desk/hours").json()["summary"] == "Mon–Fri 09:00–17:00 (UTC)"
    bad = client.put(
        "/api/operator/desk/hours",
        json={"timezone": "Nowhere/Land", "opens": "18:00", "closes": "08:00"},
        headers=csrf,
    )
    assert bad.status_code == 422 and "timezone" in bad.json()["errors"]
    hours = {"timezone": "Europe/Berlin", "days": [0, 1, 2, 3, 4, 5], "opens": "08:00", "closes": "20:00",
             "unanswered_minutes": 3, "always_open": False}  # fmt: skip
    saved = client.put("/api/operator/desk/hours", json=hours, headers=csrf)
    assert saved.status_code == 200 and saved.json()["summary"] == "Mon–Sat 08:00–20:00 (Europe/Berlin)"
    assert client.get("/api/operator/desk/hours").json()["unanswered_minutes"] == 3
    assert client.get("/api/inbox/conversations").json()["desk"]["unanswered_minutes"] == 3
    page = client.get("/operator/desk")
    assert page.status_code == 200 and 'value="Europe/Berlin"' in page.text


def test_canned_replies_are_managed_by_operators(client: TestClient, db: Session) -> None:
    csrf = sign_in(client, add_user(db, "olga", "operator"))
    made = client.post(
        "/api/operator/canned", json={"shortcut": "Refund", "text": "Refunds take 5 days."}, headers=csrf
    )
    assert made.status_code == 200 and made.json()["shortcut"] == "refund"
    dup = client.post("/api/operator/canned", json={"shortcut": "refund", "text": "again"}, headers=csrf)
    assert dup.status_code == 409 and "already taken" in dup.text
    empty = client.post("/api/operator/canned", json={"shortcut": "x", "text": " "}, headers=csrf)
    assert empty.status_code == 422 and "text" in empty.json()["errors"]
    rid = made.json()["id"]
    edited = client.put(
        f"/api/operator/canned/{rid}", json={"shortcut": "refund", "text": "Refunds: 3 days."}, headers=csrf
    )
    assert edited.json()["text"] == "Refunds: 3 days."
    assert (
        client.put("/api/operator/canned/9999", json={"shortcut": "a", "text": "b"}, headers=csrf).status_code
        == 404
    )

    staff_csrf = sign_in(client, add_user(db, "sam", "staff"))
    assert [c["shortcut"] for c in client.get("/api/inbox/canned").json()["canned"]] == ["refund"]
    forbidden = client.post(
        "/api/operator/canned", json={"shortcut": "hi", "text": "Hello"}, headers=staff_csrf
    )
    assert forbidden.status_code == 403
    assert client.delete(f"/api/operator/canned/{rid}", headers=staff_csrf).status_code == 403
    assert (
        client.put("/api/operator/desk/hours", json={"always_open": True}, headers=staff_csrf).status_code
        == 403
    )

    ops_csrf = sign_in(client, add_user(db, "ops2", "operator"))
    assert client.delete(f"/api/operator/canned/{rid}", headers=ops_csrf).json() == {"deleted": rid}
    assert client.get("/api/operator/canned").json()["canned"] == []
