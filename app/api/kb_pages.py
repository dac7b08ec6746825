"""Public, read-only pages for knowledge entries: where a reply's source links lead a customer."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from app.auth.deps import SessionDep
from app.knowledge import store

router = APIRouter(tags=["pages"])
# Strict: the page shows operator-written text and needs no script at all.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


@router.get("/kb/{key}", response_class=HTMLResponse)
def knowledge_entry_page(request: Request, session: SessionDep, key: str) -> HTMLResponse:
    """The live entry's title and text (escaped by the template); 404 for unknown or deleted keys."""
    row = store.get_entry(session, key)
    if row is None or row.deleted:
        raise HTTPException(404, "no such article")
    templates = request.app.state.templates
    context = {"title": f"{row.title} · {request.app.state.settings.business_name}", "entry": row}
    response: HTMLResponse = templates.TemplateResponse(request, "kb_entry.html", context)
    response.headers.update(PAGE_HEADERS)
    return response
