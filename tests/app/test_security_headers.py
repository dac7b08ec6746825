"""Pages carry CSP and frame headers; production hides the API schema and guards /metrics;
logout revokes the session on the server, not only in the browser."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.api.security_headers import HEADERS
from app.auth.revocation import SessionRevocations
from app.auth.sessions import COOKIE_NAME
from app.chat.protocol import job_frame
from app.generation.backend import JobEvent
from tests.app.console_support import add_user, console_app, sign_in

PROD = {"environment": "production", "secret_key": "p" * 40, "metrics_token": "scrape-" + "m" * 30}


def test_pages_send_csp_and_frame_headers(pg_url: str, db: Session) -> None:
    client = TestClient(console_app(pg_url))
    for path in ("/", "/login", "/static/chat.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        # A page may send a stricter policy of its own (the consoles do); none goes without one.
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert "script-src 'self'" in response.headers["Content-Security-Policy"], path
        for name in ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
            assert response.headers[name] == HEADERS[name], (path, name)
    assert "frame-ancestors 'none'" in HEADERS["Content-Security-Policy"]


def test_production_hides_docs_and_guards_metrics(pg_url: str, db: Session) -> None:
    client = TestClient(console_app(pg_url, **PROD))
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404, path
    client.app.state.engine = None  # type: ignore[attr-defined]  # no lifespan: the app's own metrics only
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    ok = client.get("/metrics", headers={"Authorization": f"Bearer {PROD['metrics_token']}"})
    assert ok.status_code == 200 and "switchboard" in ok.text
    development = TestClient(console_app(pg_url))
    assert development.get("/openapi.json").status_code == 200


def test_logout_revokes_a_copied_cookie(pg_url: str, db: Session) -> None:
    client = TestClient(console_app(pg_url), follow_redirects=False)
    sign_in(client, add_user(db, "sam"))
    stolen = client.cookies.get(COOKIE_NAME)
    page = client.get("/staff")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None
    assert client.post("/logout", data={"csrf_token": token.group(1)}).status_code == 303
    replay = TestClient(client.app, follow_redirects=False)
    replay.cookies.set(COOKIE_NAME, stolen or "")
    assert replay.get("/api/staff/conversations").status_code == 401


def test_a_logout_on_one_node_is_refused_on_another(redis_url: str) -> None:
    node_a, node_b = SessionRevocations(redis_url, 3600), SessionRevocations(redis_url, 3600)
    assert not node_b.is_revoked("sid-1")
    node_a.revoke("sid-1")
    assert node_b.is_revoked("sid-1") and not node_b.is_revoked("sid-2")


def test_customers_never_see_exception_text() -> None:
    event: Any = JobEvent(
        "j", 3, "error", error="Error 111 connecting to 127.0.0.1:6391. Connection refused."
    )
    frame = job_frame(event, 7)
    assert frame["type"] == "error" and "127.0.0.1" not in frame["message"] and "saved" in frame["message"]
