"""The customer chat page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse)
async def chat_page(request: Request) -> HTMLResponse:
    """The chat page; everything else happens over /ws/chat."""
    templates = request.app.state.templates
    limit = request.app.state.settings.max_message_chars
    return templates.TemplateResponse(
        request, "chat.html", {"title": "Chat with Voltline", "max_chars": limit}
    )
