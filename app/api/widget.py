"""The widget's public routes: the one script a site includes, and the site's config it reads."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from app.auth.deps import SessionDep
from app.config import REPO_ROOT
from app.widget.embedding import origin_refusal, widget_config
from app.widget.sites import get_site

router = APIRouter(tags=["widget"])
WIDGET_JS = REPO_ROOT / "web" / "static" / "widget.js"


@router.get("/widget.js")
def widget_script() -> Response:
    """The launcher script: `<script src="https://this-host/widget.js" data-site="KEY" async></script>`."""
    # Short cache: a new release reaches every site within minutes, without a versioned URL to edit.
    headers = {"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"}
    return FileResponse(WIDGET_JS, media_type="text/javascript", headers=headers)


@router.get("/widget/sites/{site_key}.json")
def site_config(request: Request, session: SessionDep, site_key: str) -> Response:
    """The site's name, greeting, colours and embed URL, readable only by pages on allowed origins."""
    site = get_site(session, site_key)
    origin = request.headers.get("origin")
    own = request.app.state.settings.own_origins
    refused = origin_refusal(site, site_key, origin, request.headers.get("host"), own)
    if site is None or not site.enabled:
        raise HTTPException(404, refused or f"no enabled site {site_key!r}")
    if refused:
        return JSONResponse({"detail": refused}, status_code=403, headers={"Vary": "Origin"})
    headers = {"Vary": "Origin", "Cache-Control": "no-cache"}
    if origin:
        headers["Access-Control-Allow-Origin"] = origin  # one allowed origin, never "*"
    return JSONResponse(widget_config(site, str(request.base_url)), headers=headers)
