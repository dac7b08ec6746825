"""What the embed page and the widget's config say: the CSP naming the origins that may frame the chat,
the site's colours as CSS, and the config widget.js reads (answered only to allowed origins)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.api.security_headers import CSP
from app.widget.origins import normalize_origin, same_origin
from app.widget.sites import SiteSettings


def frame_ancestors(site: SiteSettings) -> str:
    """The CSP frame-ancestors source list: this host and the site's allowed origins only."""
    return " ".join(["'self'", *site.allowed_origins])


def embed_headers(site: SiteSettings) -> dict[str, str]:
    """The embed page's headers: the app's CSP with frame-ancestors opened to the site's origins.

    No X-Frame-Options: it cannot name a list of origins, and DENY would forbid what the CSP allows.
    """
    csp = CSP.replace("frame-ancestors 'none'", f"frame-ancestors {frame_ancestors(site)}")
    return {"Content-Security-Policy": csp, "Cache-Control": "no-cache"}


def theme_css(site: SiteSettings) -> str:
    """CSS variables from the site's colours (validated #rrggbb, so nothing else can be injected)."""
    return f":root {{ --brand: {site.color}; --brand-ink: {site.text_color}; --me: {site.color}; }}\n"


def widget_config(site: SiteSettings, base_url: str) -> dict[str, Any]:
    """What widget.js needs to draw the launcher and open the chat."""
    return {
        "site": site.key,
        "business_name": site.business_name,
        "greeting": site.greeting,
        "color": site.color,
        "text_color": site.text_color,
        "position": site.position,
        "embed_url": f"{base_url.rstrip('/')}/embed/{site.key}",
    }


def origin_refusal(
    site: SiteSettings | None,
    site_key: str | None,
    origin: str | None,
    host: str | None,
    own_origins: Sequence[str] = (),
) -> str | None:
    """Why a browser page on ``origin`` may not use the chat of ``site_key``; None when it may.

    A request without an Origin header is no browser page (a script, a test) and is let through;
    this host itself is always allowed (the full chat page and the widget's own iframe): the Host
    the request names, or one of ``own_origins`` (the public origins, for a proxy that rewrites Host).
    """
    if site_key and (site is None or not site.enabled):
        return f"unknown or disabled site {site_key!r}"
    if not origin or same_origin(origin, host) or _listed(origin, own_origins):
        return None
    if site is None:
        return f"origin {origin} may not open this chat (embed it through a site's widget)"
    if not site.allows(origin):
        return f"origin {origin} is not allowed for site {site.key!r}"
    return None


def _listed(origin: str, origins: Sequence[str]) -> bool:
    try:
        return normalize_origin(origin) in origins
    except ValueError:
        return False
