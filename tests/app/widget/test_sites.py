"""Site settings are validated (safe colours, real origins), stored, replaced and deleted with an
audit row that says what changed; the embed CSP and the origin checks follow them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent
from app.widget.embedding import embed_headers, origin_refusal, theme_css
from app.widget.sites import SiteSettings, delete_site, get_site, list_sites, save_site
from tests.app.console_support import add_user

SHOP = {
    "key": "shop",
    "business_name": "Acme Audio",
    "greeting": "Hi!",
    "allowed_origins": ["https://Acme.example/"],
}


def test_invalid_settings_are_refused() -> None:
    for field, value in [
        ("key", "Bad Key"),
        ("color", "red;}body{display:none"),
        ("allowed_origins", ["https://acme.example/path"]),
        ("business_name", ""),
        ("greeting", "x" * 501),
        ("position", "middle"),
    ]:
        with pytest.raises(ValidationError) as caught:
            SiteSettings.model_validate({**SHOP, field: value})
        assert caught.value.errors()[0]["loc"][0] == field


def test_save_replace_delete_audited(db: Session) -> None:
    olga = add_user(db, "olga", "operator")
    save_site(db, SiteSettings.model_validate(SHOP), olga)
    site = get_site(db, "shop")
    assert site is not None and site.allowed_origins == ["https://acme.example"]
    save_site(db, SiteSettings.model_validate({**SHOP, "color": "#112233"}), olga)
    assert [s["color"] for s in list_sites(db)] == ["#112233"]
    delete_site(db, "shop", olga)
    assert get_site(db, "shop") is None
    with pytest.raises(LookupError):
        delete_site(db, "shop", olga)
    events = list(db.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [(e.action, e.target) for e in events] == [
        ("site.create", "site:shop"),
        ("site.update", "site:shop"),
        ("site.delete", "site:shop"),
    ]
    assert events[1].details == {"color": "#112233"}


def test_embed_csp_and_origin_rules() -> None:
    site = SiteSettings.model_validate(SHOP)
    headers = embed_headers(site)
    assert "frame-ancestors 'self' https://acme.example;" in headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in headers and "--brand: #1f5eff" in theme_css(site)
    host = "chat.example"
    assert origin_refusal(site, "shop", "https://acme.example", host) is None
    assert origin_refusal(site, "shop", "https://chat.example", host) is None  # the embed page itself
    assert origin_refusal(site, "shop", None, host) is None  # no browser page
    assert "not allowed for site 'shop'" in (origin_refusal(site, "shop", "https://evil.example", host) or "")
    assert "embed it through a site" in (origin_refusal(None, None, "https://acme.example", host) or "")
    assert "unknown or disabled" in (origin_refusal(None, "nope", None, host) or "")
    assert origin_refusal(None, None, "https://chat.example", "app:8000", ("https://chat.example",)) is None
    off = site.model_copy(update={"enabled": False})
    assert "unknown or disabled" in (origin_refusal(off, "shop", "https://acme.example", host) or "")
