"""The admin routes: operators manage accounts, keys, retention and one customer's data over the
API; each change takes effect at once (a disabled user's open session stops working, a revoked
key is refused) and shows in the audit trail; staff get 403."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.api_keys import verify_api_key
from app.db.models import utcnow
from tests.app.console_support import PASSWORD, FakeClock, add_conversation, add_user, console_app, sign_in


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def app(pg_url: str, clock: FakeClock, db: Session) -> Any:
    return console_app(pg_url, clock=clock)


def _client(app: Any) -> TestClient:
    return TestClient(app, follow_redirects=False)  # no lifespan: no engine is needed here


@pytest.fixture()
def operator(app: Any, db: Session) -> Iterator[tuple[TestClient, dict[str, str]]]:
    client = _client(app)
    yield client, sign_in(client, add_user(db, "olga", "operator"))


def _login(client: TestClient, username: str, password: str) -> int:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    data = {"username": username, "password": password, "csrf_token": token.group(1), "next": "/staff"}
    return client.post("/login", data=data).status_code


def test_page_lists_sections_for_operators_only(app: Any, operator: Any, db: Session) -> None:
    client, _ = operator
    page = client.get("/admin")
    assert page.status_code == 200 and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    for section in ('id="users"', 'id="keys"', 'id="retention-form"', 'id="customer-form"', 'id="audit"'):
        assert section in page.text
    staff = _client(app)
    headers = sign_in(staff, add_user(db, "sam"))
    assert staff.get("/admin").status_code == 403
    assert staff.post("/api/admin/users/1/active", json={"active": False}, headers=headers).status_code == 403


def test_disable_ends_the_open_session_and_refuses_login(
    app: Any, operator: Any, db: Session, clock: FakeClock
) -> None:
    client, csrf = operator
    sam_client = _client(app)
    sam = add_user(db, "sam")
    sign_in(sam_client, sam)
    assert sam_client.get("/api/staff/conversations").status_code == 200
    clock.advance(1)
    answer = client.post(f"/api/admin/users/{sam.id}/active", json={"active": False}, headers=csrf)
    assert answer.status_code == 200 and answer.json()["active"] is False
    assert sam_client.get("/api/staff/conversations").status_code == 401
    assert _login(_client(app), "sam", PASSWORD) == 401
    client.post(f"/api/admin/users/{sam.id}/active", json={"active": True}, headers=csrf)
    assert sam_client.get("/api/staff/conversations").status_code == 401  # the old session stays ended
    assert _login(_client(app), "sam", PASSWORD) == 303
    me = db.query(type(sam)).filter_by(username="olga").one()
    refused = client.post(f"/api/admin/users/{me.id}/active", json={"active": False}, headers=csrf)
    assert refused.status_code == 409 and "your own account" in refused.json()["detail"]


def test_create_role_and_password_reset(app: Any, operator: Any, db: Session, clock: FakeClock) -> None:
    client, csrf = operator
    made = client.post(
        "/api/admin/users", json={"username": "ann", "password": "pw-long-enough"}, headers=csrf
    )
    assert made.status_code == 201 and made.json()["role"] == "staff"
    dup = client.post(
        "/api/admin/users", json={"username": "ann", "password": "pw-long-enough"}, headers=csrf
    )
    assert dup.status_code == 422 and "already taken" in dup.json()["detail"]
    bad = client.post(
        "/api/admin/users", json={"username": "bo", "password": "x", "role": "root"}, headers=csrf
    )
    assert bad.status_code == 422
    ann_id = made.json()["id"]
    ann = _client(app)
    assert _login(ann, "ann", "pw-long-enough") == 303
    assert ann.get("/admin").status_code == 403
    clock.advance(1)
    role = client.post(f"/api/admin/users/{ann_id}/role", json={"role": "operator"}, headers=csrf)
    assert role.status_code == 200 and role.json()["role"] == "operator"
    assert ann.get("/api/staff/conversations").status_code == 401  # the role change ended the session
    assert _login(ann, "ann", "pw-long-enough") == 303 and ann.get("/admin").status_code == 200
    clock.advance(1)
    reset = client.post(f"/api/admin/users/{ann_id}/reset-password", headers=csrf)
    new_password = reset.json()["password"]
    assert ann.get("/admin").status_code == 401
    assert _login(_client(app), "ann", "pw-long-enough") == 401
    assert _login(_client(app), "ann", new_password) == 303
    assert [u["username"] for u in client.get("/api/admin/users").json()] == ["olga", "ann"]
    assert (
        client.post("/api/admin/users/999999/role", json={"role": "staff"}, headers=csrf).status_code == 404
    )


def test_keys_retention_customer_data_and_the_audit_trail(operator: Any, db: Session) -> None:
    client, csrf = operator
    made = client.post("/api/admin/keys", json={"name": "crm"}, headers=csrf).json()
    assert verify_api_key(db, made["key"]) is not None
    [listed] = client.get("/api/admin/keys").json()
    assert listed["name"] == "crm" and made["key"] not in str(listed)
    assert client.post(f"/api/admin/keys/{made['id']}/revoke", headers=csrf).json()["revoked"] is True
    db.expire_all()
    assert verify_api_key(db, made["key"]) is None  # the OpenAI API refuses it from now on

    old = add_conversation(db, [("customer", "hi")], created_at=utcnow() - timedelta(days=100))
    add_conversation(db, [("customer", "reach me at ann@example.com")])
    assert client.get("/api/admin/retention", params={"days": 90}).json()["conversations"] == 1
    assert client.post("/api/admin/retention", json={"days": 90}, headers=csrf).json()["deleted"] == 1
    assert client.post("/api/admin/retention", json={"days": 0}, headers=csrf).status_code == 422

    who = {"contains": "ann@example.com"}
    export = client.post("/api/admin/customer/export", json=who, headers=csrf)
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    assert export.json()["conversations"][0]["messages"][0]["text"] == "reach me at ann@example.com"
    unconfirmed = client.post("/api/admin/customer/erase", json=who, headers=csrf)
    assert unconfirmed.status_code == 422 and "confirm" in unconfirmed.json()["detail"]
    assert client.post("/api/admin/customer/erase", json={**who, "confirm": True}, headers=csrf).json() == {
        "erased": 1
    }
    vague = client.post("/api/admin/customer/export", json={"contains": "a"}, headers=csrf)
    assert vague.status_code == 422 and "at least" in vague.json()["detail"]
    trail = client.get("/api/admin/audit").json()
    assert [e["action"] for e in trail] == [
        "customer.erase",
        "customer.export",
        "retention.run",
        "api_key.revoke",
        "api_key.create",
    ]
    assert all(e["actor"] == "olga" and e["at"] for e in trail)
    assert trail[2]["target"] == "older_than:90d" and old.id not in str(trail[0])
