"""Browser-facing hardening: CSP and frame headers on every response, API docs off in production.

The pages load only their own scripts and styles (no inline script; the operator page's JSON
data block is not executed, so CSP does not apply to it), so a strict same-origin policy costs
nothing and turns a stored-XSS slip into a blocked inline script. frame-ancestors/X-Frame-Options
stop the chat or the consoles being framed for click-jacking; only the widget's embed page
(`/embed/<site>`) sets its own frame-ancestors, listing that site's allowed origins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def docs_options(environment: str) -> dict[str, Any]:
    """FastAPI keyword arguments: the schema and docs pages exist only outside production."""
    if environment == "production":
        return {"docs_url": None, "redoc_url": None, "openapi_url": None}
    return {}


def add_security_headers(app: FastAPI) -> None:
    """Set the headers on every HTTP response the app sends (pages, API, static files)."""

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        framable = "frame-ancestors 'none'" not in response.headers.get("content-security-policy", CSP)
        for name, value in HEADERS.items():
            # A page whose own CSP names who may frame it (the widget's embed page) gets no DENY.
            if not (framable and name == "X-Frame-Options"):
                response.headers.setdefault(name, value)
        return response
