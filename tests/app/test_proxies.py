"""X-Forwarded-For is believed only from configured proxies (rotating it bypassed the login limit)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from sqlalchemy.orm import Session

from app.auth.proxies import uvicorn_proxy_options
from tests.app.console_support import add_user, console_app


@contextmanager
def _serve(app: Any, trusted: str) -> Iterator[str]:
    """``app`` under uvicorn with the proxy options `switchboard serve` uses."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", **uvicorn_proxy_options(trusted)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _echo() -> FastAPI:
    app = FastAPI()

    @app.get("/ip")
    def ip(request: Request) -> dict[str, str | None]:
        return {"ip": request.client.host if request.client else None}

    return app


def test_forwarded_for_is_ignored_unless_the_peer_is_a_configured_proxy() -> None:
    spoof = {"X-Forwarded-For": "203.0.113.50"}
    with _serve(_echo(), "") as url:
        assert httpx.get(f"{url}/ip", headers=spoof).json()["ip"] == "127.0.0.1"
    with _serve(_echo(), "127.0.0.1") as url:  # behind a real proxy on this machine
        assert httpx.get(f"{url}/ip", headers=spoof).json()["ip"] == "203.0.113.50"


def _login(client: httpx.Client, forwarded: str) -> int:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    data = {"username": "sam", "password": "wrong-password", "csrf_token": token.group(1), "next": "/staff"}
    return client.post("/login", data=data, headers={"X-Forwarded-For": forwarded}).status_code


def test_rotating_forwarded_for_does_not_reset_the_login_limit(pg_url: str, db: Session) -> None:
    add_user(db, "sam")
    with _serve(console_app(pg_url), "") as url, httpx.Client(base_url=url) as client:
        codes = [_login(client, f"198.51.100.{i}") for i in range(6)]
    assert codes == [401] * 5 + [429]
