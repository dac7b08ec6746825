"""The customer chat page, and the same chat as the widget's embed page for one site."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.auth.deps import SessionDep
from app.widget.embedding import embed_headers, theme_css
from app.widget.sites import get_site

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse)
async def chat_page(request: Request) -> Response:
    """The chat page; everything else happens over /ws/chat."""
    settings = request.app.state.settings
    context = {"title": f"Chat with {settings.business_name}", "max_chars": settings.max_message_chars}
    return request.app.state.templates.TemplateResponse(request, "chat.html", context)  # type: ignore[no-any-return]


@router.get("/embed/{site_key}", response_class=HTMLResponse)
def embed_page(request: Request, session: SessionDep, site_key: str) -> Response:
    """The chat in the widget's iframe, in the site's colours, frameable only by the site's origins."""
    site = get_site(session, site_key)
    if site is None or not site.enabled:
        raise HTTPException(404, f"no enabled site {site_key!r}")
    settings = request.app.state.settings
    context = {
        "title": f"Chat with {site.business_name}",
        "max_chars": settings.max_message_chars,
        "site": site,
        "business_name": site.business_name,
    }
    response: Response = request.app.state.templates.TemplateResponse(request, "chat.html", context)
    response.headers.update(embed_headers(site))
    return response


@router.get("/embed/{site_key}/theme.css")
def embed_theme(session: SessionDep, site_key: str) -> Response:
    """The site's colours as CSS variables (the page's CSP allows no inline style)."""
    site = get_site(session, site_key)
    if site is None:
        raise HTTPException(404, f"no site {site_key!r}")
    return Response(theme_css(site), media_type="text/css", headers={"Cache-Control": "no-cache"})
