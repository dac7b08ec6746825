"""The widget's routes: the script, a site's config readable only by its allowed origins, the embed
page framable only by them (CSP, no DENY), operators editing sites, and /ws/chat refusing a page on
an origin the site does not allow with a clear close reason (same origin always allowed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnect

from app.db.models import Conversation
from tests.app.console_support import add_user, console_app, sign_in

SHOP = {"business_name": "Acme Audio", "greeting": "Hi, Acme here!", "color": "#aa2200",
        "allowed_origins": ["https://acme.example"]}  # fmt: skip
ALLOWED, EVIL, SELF = "https://acme.example", "https://evil.example", "http://testserver"


@pytest.fixture()
def client(pg_url: str, db: Session) -> Iterator[TestClient]:
    client = TestClient(console_app(pg_url))
    csrf = sign_in(client, add_user(db, "olga", "operator"))
    assert client.put("/api/admin/sites/shop", json=SHOP, headers=csrf).status_code == 200
    client.cookies.clear()  # the rest is what an anonymous visitor's browser does
    yield client


def test_operators_edit_sites_with_field_errors(client: TestClient, db: Session) -> None:
    csrf = sign_in(client, add_user(db, "otto", "operator"))
    bad = client.put(
        "/api/admin/sites/shop", json={**SHOP, "color": "red", "allowed_origins": ["*"]}, headers=csrf
    )
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"color", "allowed_origins"}
    assert client.put("/api/admin/sites/Bad Key", json=SHOP, headers=csrf).json()["errors"].keys() == {"key"}
    assert [s["key"] for s in client.get("/api/admin/sites").json()] == ["shop"]
    assert client.delete("/api/admin/sites/nope", headers=csrf).status_code == 404


def test_script_and_config_for_allowed_origins_only(client: TestClient) -> None:
    script = client.get("/widget.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "data-site" in script.text
    config = client.get("/widget/sites/shop.json", headers={"Origin": ALLOWED})
    assert config.status_code == 200 and config.headers["access-control-allow-origin"] == ALLOWED
    assert config.json()["business_name"] == "Acme Audio" and config.json()["embed_url"].endswith(
        "/embed/shop"
    )
    refused = client.get("/widget/sites/shop.json", headers={"Origin": EVIL})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    assert "not allowed for site 'shop'" in refused.json()["detail"]
    assert client.get("/widget/sites/nope.json", headers={"Origin": ALLOWED}).status_code == 404


def test_embed_page_is_framable_by_the_site_only(client: TestClient) -> None:
    page = client.get("/embed/shop")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://acme.example;" in csp and "script-src 'self'" in csp
    assert "x-frame-options" not in page.headers
    assert 'data-site="shop"' in page.text and "Hi, Acme here!" in page.text and "Acme Audio" in page.text
    assert "--brand: #aa2200" in client.get("/embed/shop/theme.css").text
    for path in ("/", "/login", "/admin", "/embed/nope"):  # every other page keeps DENY
        other = client.get(path, follow_redirects=False)
        assert "frame-ancestors 'none'" in other.headers["content-security-policy"], path
        assert other.headers["x-frame-options"] == "DENY", path


def _hello(client: TestClient, path: str, origin: str | None) -> dict[str, Any]:
    headers = {"origin": origin} if origin else {}
    with client.websocket_connect(path, headers=headers) as ws:
        ws.send_json({"type": "hello", "token": None})
        return ws.receive_json()  # type: ignore[no-any-return]


def _refusal(client: TestClient, path: str, origin: str) -> WebSocketDisconnect:
    with client.websocket_connect(path, headers={"origin": origin}) as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    return closed.value


def test_chat_socket_checks_the_origin(client: TestClient, db: Session) -> None:
    welcome = _hello(client, "/ws/chat?site=shop", ALLOWED)
    assert welcome["type"] == "welcome"
    assert db.get(Conversation, welcome["conversation_id"]).site_key == "shop"  # type: ignore[union-attr]
    assert _hello(client, "/ws/chat?site=shop", SELF)["type"] == "welcome"  # the embed page's own socket
    assert _hello(client, "/ws/chat", SELF)["type"] == "welcome"  # the full chat page
    assert _hello(client, "/ws/chat", None)["type"] == "welcome"  # no browser: no Origin to check
    refused = _refusal(client, "/ws/chat?site=shop", EVIL)
    assert (
        refused.code == 1008
        and refused.reason == "origin https://evil.example is not allowed for site 'shop'"
    )
    assert "embed it through a site" in _refusal(client, "/ws/chat", ALLOWED).reason
    assert "unknown or disabled site 'nope'" in _refusal(client, "/ws/chat?site=nope", SELF).reason
    assert db.scalars(select(Conversation.site_key)).all().count("shop") == 2


def test_a_proxy_that_rewrites_host_names_the_public_origin(pg_url: str, db: Session) -> None:
    proxied = TestClient(console_app(pg_url, public_origins="https://chat.example"))
    # The full chat page, served at https://chat.example through a proxy that sends Host: testserver.
    assert _hello(proxied, "/ws/chat", "https://chat.example")["type"] == "welcome"
    assert _refusal(proxied, "/ws/chat", "https://other.example").code == 1008
