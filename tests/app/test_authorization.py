"""Who may call what: every staff/operator route refuses anonymous callers and customers, roles
hold, CSRF is required, sessions expire, tampered cookies fail, and logins are rate-limited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.api_keys import create_api_key
from app.auth.sessions import COOKIE_NAME, encode_session, new_session
from app.knowledge.entries import EntryData
from app.knowledge.store import add_entry
from tests.app.console_support import PASSWORD, FakeClock, add_user, console_app, sign_in

PROTECTED = re.compile(r"^/(staff|operator|admin|api/staff|api/inbox|api/operator|api/admin|logout)(/|$)")
OPERATOR_ONLY = re.compile(r"^/(operator|admin|api/operator|api/admin)(/|$)")
PATH_VALUES = {"conversation_id": "0" * 32, "intent": "sales", "key": "policy.returns", "user_id": "999999"}
PATH_VALUES |= {"key_id": "999999", "reply_id": "999999", "label": "refund", "site_key": "shop"}
# Live streams never end on their own: their signed-in answer is tested where they live (test_inbox_events).
STREAMS = {"/api/inbox/events"}
MAX_AGE = 3600


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def app(pg_url: str, clock: FakeClock, db: Session) -> Any:
    return console_app(pg_url, clock=clock, session_max_age_s=MAX_AGE)


@pytest.fixture()
def client(app: Any) -> Iterator[TestClient]:
    # No `with`: the lifespan (engine start-up) is not needed to check who may call what.
    yield TestClient(app, follow_redirects=False)


def protected_calls(app: Any) -> list[tuple[str, str, bool]]:
    """(method, concrete path, operator-only) for every staff/operator route the app serves."""
    calls = []
    # FastAPI keeps included routers nested; iter_route_contexts flattens them as the app serves them.
    for route in iter_route_contexts(app.routes):
        if PROTECTED.match(route.path):
            assert route.methods, f"{route.path} is not an HTTP route: give it an authorization test"
            path = route.path
            for name, value in PATH_VALUES.items():
                path = path.replace("{" + name + "}", value)
            assert "{" not in path, f"add a value for the path parameter in {route.path}"
            for method in sorted(route.methods):
                calls.append((method, path, bool(OPERATOR_ONLY.match(route.path))))
    return calls


def _call(client: TestClient, method: str, path: str, **kwargs: Any) -> Any:
    return client.request(method, path, json={} if method in ("POST", "PUT") else None, **kwargs)


def test_the_route_list_is_complete(app: Any) -> None:
    calls = {(m, p) for m, p, _ in protected_calls(app)}
    cid = PATH_VALUES["conversation_id"]
    expected = {
        ("GET", "/staff"),
        ("GET", f"/staff/conversations/{cid}"),
        ("GET", "/api/staff/conversations"),
        ("GET", "/api/staff/export"),
        ("POST", f"/api/staff/conversations/{cid}/take-over"),
        ("POST", f"/api/staff/conversations/{cid}/reply"),
        ("POST", f"/api/staff/conversations/{cid}/hand-back"),
        ("GET", "/operator"),
        ("PUT", "/api/operator/policies/sales"),
        ("POST", "/api/operator/policies/sales/rollback"),
        ("POST", "/api/operator/try"),
        ("GET", "/api/operator/stats"),
        ("GET", "/operator/knowledge"),
        ("GET", "/api/operator/knowledge"),
        ("POST", "/api/operator/knowledge"),
        ("GET", "/api/operator/knowledge/policy.returns"),
        ("GET", "/api/operator/knowledge/policy.returns/history"),
        ("PUT", "/api/operator/knowledge/policy.returns"),
        ("DELETE", "/api/operator/knowledge/policy.returns"),
        ("POST", "/api/operator/knowledge/policy.returns/rollback"),
        ("GET", "/api/operator/knowledge-report"),
        ("POST", "/logout"),
        ("GET", "/admin"),
        ("GET", "/api/admin/users"),
        ("POST", "/api/admin/users"),
        ("POST", "/api/admin/users/999999/active"),
        ("POST", "/api/admin/users/999999/role"),
        ("POST", "/api/admin/users/999999/reset-password"),
        ("GET", "/api/admin/keys"),
        ("POST", "/api/admin/keys"),
        ("POST", "/api/admin/keys/999999/revoke"),
        ("GET", "/api/admin/retention"),
        ("POST", "/api/admin/retention"),
        ("POST", "/api/admin/customer/export"),
        ("POST", "/api/admin/customer/erase"),
        ("GET", "/api/admin/audit"),
        ("GET", "/staff/inbox"),
        ("GET", "/api/inbox/conversations"),
        ("GET", "/api/inbox/events"),
        ("GET", "/api/inbox/staff"),
        ("GET", "/api/inbox/canned"),
        ("GET", f"/api/inbox/conversations/{cid}"),
        ("POST", f"/api/inbox/conversations/{cid}/read"),
        ("POST", f"/api/inbox/conversations/{cid}/assign"),
        ("POST", f"/api/inbox/conversations/{cid}/resolve"),
        ("POST", f"/api/inbox/conversations/{cid}/notes"),
        ("POST", f"/api/inbox/conversations/{cid}/labels"),
        ("DELETE", f"/api/inbox/conversations/{cid}/labels/refund"),
        ("GET", "/operator/desk"),
        ("GET", "/api/operator/desk/hours"),
        ("PUT", "/api/operator/desk/hours"),
        ("GET", "/api/operator/canned"),
        ("POST", "/api/operator/canned"),
        ("PUT", "/api/operator/canned/999999"),
        ("DELETE", "/api/operator/canned/999999"),
        ("GET", "/api/admin/sites"),
        ("PUT", "/api/admin/sites/shop"),
        ("DELETE", "/api/admin/sites/shop"),
    }
    assert expected <= calls


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_anonymous_callers_are_refused_everywhere(app: Any, client: TestClient, accept: str) -> None:
    for method, path, _ in protected_calls(app):
        response = _call(client, method, path, headers={"Accept": accept})
        if response.status_code == 303:  # pages send browsers to the login form instead
            assert method == "GET" and accept == "text/html" and not path.startswith("/api/")
            assert response.headers["location"].startswith("/login?next=")
        else:
            assert response.status_code == 401, (method, path, response.status_code)


def test_customers_and_api_keys_are_not_staff(app: Any, client: TestClient, db: Session) -> None:
    customer_token = app.state.customer_tokens.issue("0" * 32)
    api_key = create_api_key(db, "crm")
    attempts = [
        {"cookies": {COOKIE_NAME: customer_token}},  # a customer's signed token is no staff session
        {"headers": {"Authorization": f"Bearer {api_key}"}},
        {"headers": {"Authorization": f"Bearer {customer_token}"}},
    ]
    for method, path, _ in protected_calls(app):
        for attempt in attempts:
            client.cookies.clear()
            for name, value in attempt.get("cookies", {}).items():
                client.cookies.set(name, value)
            response = _call(client, method, path, headers=attempt.get("headers"))
            assert response.status_code == 401, (method, path, attempt, response.status_code)


def test_staff_cannot_touch_operator_routes(app: Any, client: TestClient, db: Session) -> None:
    csrf = sign_in(client, add_user(db, "sam", "staff"))
    for method, path, operator_only in protected_calls(app):
        if operator_only:
            response = _call(client, method, path, headers=csrf)
            assert response.status_code == 403, (method, path, response.status_code)
    assert client.get("/staff").status_code == 200


def test_staff_opening_an_operator_page_read_why_not_json(client: TestClient, db: Session) -> None:
    sign_in(client, add_user(db, "sam", "staff"))
    for path in ("/operator", "/operator/knowledge"):
        page = client.get(path, headers={"Accept": "text/html,application/xhtml+xml"})
        assert page.status_code == 403 and page.headers["content-type"].startswith("text/html"), path
        assert "This page is for operators" in page.text and "sam" in page.text
        assert 'href="/staff"' in page.text and "script-src 'self'" in page.headers["content-security-policy"]
    api = client.get("/api/operator/policies", headers={"Accept": "text/html"})  # an API call stays JSON
    assert api.status_code == 403 and api.json() == {"detail": "operator role required"}


def test_operators_can_do_what_staff_do(app: Any, client: TestClient, db: Session) -> None:
    sign_in(client, add_user(db, "olga", "operator"))
    returns = EntryData("policy.returns", "policy", "Returns policy", "30 days to return any item.")
    add_entry(db, returns, "olga")  # so the knowledge entry routes have an entry to show
    for method, path, _ in protected_calls(app):
        if method == "GET" and PATH_VALUES["conversation_id"] not in path and path not in STREAMS:
            assert client.get(path).status_code == 200, path


def test_state_changes_need_the_session_csrf_token(client: TestClient, db: Session) -> None:
    staff_headers = sign_in(client, add_user(db, "sam", "staff"))
    url = f"/api/staff/conversations/{PATH_VALUES['conversation_id']}/take-over"
    assert client.post(url).status_code == 403
    assert client.post(url, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post(url, headers=staff_headers).status_code == 404  # past auth: no such conversation
    old_token = staff_headers
    sign_in(client, add_user(db, "sam2", "staff"))  # a new session gets a new token
    assert client.post(url, headers=old_token).status_code == 403
    operator_headers = sign_in(client, add_user(db, "olga", "operator"))
    assert client.put("/api/operator/policies/sales", json={"policy": {}}).status_code == 403
    ok = client.put("/api/operator/policies/sales", json={"policy": {}}, headers=operator_headers)
    assert ok.status_code == 200


def test_sessions_expire_on_the_server_clock(client: TestClient, clock: FakeClock, db: Session) -> None:
    sign_in(client, add_user(db, "sam"))
    assert client.get("/api/staff/conversations").status_code == 200
    clock.advance(MAX_AGE - 1)
    assert client.get("/api/staff/conversations").status_code == 200
    clock.advance(2)
    assert client.get("/api/staff/conversations").status_code == 401


def test_an_old_crafted_cookie_is_refused(client: TestClient, clock: FakeClock, db: Session) -> None:
    user = add_user(db, "sam")
    settings = client.app.state.settings  # type: ignore[attr-defined]
    old = new_session(user.id, clock.now - MAX_AGE - 1)
    client.cookies.set(COOKIE_NAME, encode_session(old, settings))
    assert client.get("/api/staff/conversations").status_code == 401


def test_tampered_and_disabled_sessions_are_refused(client: TestClient, db: Session) -> None:
    user = add_user(db, "sam")
    sign_in(client, user)
    good = client.cookies.get(COOKIE_NAME)
    assert good is not None
    payload, signature = good.rsplit(".", 1)
    settings = client.app.state.settings  # type: ignore[attr-defined]
    forged_payload = encode_session(new_session(user.id + 1, 0), settings).split(".")[0]
    for value in (payload + "." + signature[::-1], forged_payload + "." + signature, payload, "x"):
        client.cookies.set(COOKIE_NAME, value)
        assert client.get("/api/staff/conversations").status_code == 401, value
    client.cookies.set(COOKIE_NAME, good)
    user.is_active = False
    db.commit()
    assert client.get("/api/staff/conversations").status_code == 401


def _login(client: TestClient, username: str, password: str, next_path: str = "/staff") -> Any:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    data = {"username": username, "password": password, "csrf_token": token.group(1), "next": next_path}
    return client.post("/login", data=data)


def test_login_sets_a_secure_session_and_logout_clears_it(client: TestClient, db: Session) -> None:
    add_user(db, "sam")
    response = _login(client, "sam", PASSWORD, "/staff?q=refund")
    assert response.status_code == 303 and response.headers["location"] == "/staff?q=refund"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and f"Max-Age={MAX_AGE}" in cookie
    assert client.get("/staff").status_code == 200
    assert client.post("/logout").status_code == 403  # logout is a state change: CSRF applies
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/staff").text)
    assert token is not None
    out = client.post("/logout", data={"csrf_token": token.group(1)})
    assert out.status_code == 303 and COOKIE_NAME in out.headers["set-cookie"]
    assert client.get("/api/staff/conversations").status_code == 401


def test_login_refuses_bad_credentials_forms_and_redirects(client: TestClient, db: Session) -> None:
    add_user(db, "sam")
    add_user(db, "gone", active=False)
    assert _login(client, "sam", "wrong-password").status_code == 401
    assert _login(client, "nobody", PASSWORD).status_code == 401
    assert _login(client, "gone", PASSWORD).status_code == 401
    assert _login(client, "sam", PASSWORD, "https://evil.example/").headers["location"] == "/staff"
    client.cookies.clear()
    no_form_token = client.post("/login", data={"username": "sam", "password": PASSWORD})
    assert no_form_token.status_code == 403


def test_login_is_rate_limited_per_username_and_ip(client: TestClient, clock: FakeClock, db: Session) -> None:
    add_user(db, "sam")
    add_user(db, "kim")
    for _ in range(5):
        assert _login(client, "sam", "wrong-password").status_code == 401
    limited = _login(client, "sam", PASSWORD)  # even the right password waits
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "Too many failed attempts" in limited.text
    assert _login(client, "kim", PASSWORD).status_code == 303  # another username is unaffected
    clock.advance(301)
    assert _login(client, "sam", PASSWORD).status_code == 303
