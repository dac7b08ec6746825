"""Staff traffic cannot starve customers: console database work queues for a few slots per node."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from websockets.sync.client import connect

from app.api.staff_slots import BUSY
from app.auth.sessions import COOKIE_NAME
from tests.app.chat_support import live_server, make_engine
from tests.app.console_support import add_conversation, add_user, console_app, sign_in


def test_staff_exports_queue_for_slots_while_customers_are_served(
    pg_url: str, tokenizer: Any, db: Session
) -> None:
    for i in range(30):
        add_conversation(db, [("customer", f"refund please {i}"), ("assistant", "Sure.")])
    # A pool far smaller than the flood: without the slots the exports took every connection.
    app = console_app(
        pg_url, engine=make_engine(tokenizer, {}), staff_db_concurrency=2, staff_slot_wait_s=30.0
    )
    with TestClient(app) as local:
        sign_in(local, add_user(db, "sam"))
        cookie = local.cookies.get(COOKIE_NAME) or ""
    with live_server(app) as url:

        def export(_: int) -> int:
            response = httpx.get(f"{url}/api/staff/export", cookies={COOKIE_NAME: cookie}, timeout=120)
            return response.status_code

        with ThreadPoolExecutor(max_workers=24) as pool:
            staff = pool.map(export, range(48))
            with connect(url.replace("http", "ws") + "/ws/chat", open_timeout=60) as ws:
                ws.send('{"type": "hello", "token": null}')
                welcome = ws.recv(timeout=60)
            codes = list(staff)
    assert '"welcome"' in str(welcome)  # a new customer got its conversation during the flood
    assert set(codes) <= {200, 503} and codes.count(200) > 0  # queued or told to retry, never a 500


def test_a_full_console_answers_busy_not_a_database_error(pg_url: str, db: Session) -> None:
    import asyncio

    client = TestClient(console_app(pg_url, staff_slot_wait_s=0.05))
    sign_in(client, add_user(db, "sam"))
    client.app.state.staff_slots = asyncio.Semaphore(0)  # type: ignore[attr-defined]  # every slot taken
    busy = client.get("/api/staff/conversations")
    assert busy.status_code == 503 and busy.json()["detail"] == BUSY and busy.headers["retry-after"] == "2"
    client.app.state.staff_slots = asyncio.Semaphore(1)  # type: ignore[attr-defined]
    assert client.get("/api/staff/conversations").status_code == 200


def test_operator_and_knowledge_routes_queue_for_the_same_slots(pg_url: str, db: Session) -> None:
    import asyncio

    client = TestClient(console_app(pg_url, staff_slot_wait_s=0.05))
    sign_in(client, add_user(db, "olga", "operator"))
    routes = ("/operator", "/api/operator/policies", "/operator/knowledge", "/api/operator/knowledge")
    for path in routes:
        # Every slot taken; a fresh semaphore each time because each request runs on its own loop.
        client.app.state.staff_slots = asyncio.Semaphore(0)  # type: ignore[attr-defined]
        busy = client.get(path)
        assert busy.status_code == 503 and busy.json()["detail"] == BUSY, path
    client.app.state.staff_slots = asyncio.Semaphore(1)  # type: ignore[attr-defined]
    assert [client.get(path).status_code for path in routes] == [200] * len(routes)
