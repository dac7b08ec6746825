"""Staff console: conversation list and search, transcripts, export, and human take-over."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import ValidationError

from adapters.intents import INTENTS
from app.api.auth_pages import render
from app.api.staff_slots import staff_db_slot
from app.auth.deps import CurrentStaff, SessionDep, SettingsDep, csrf_for, require_staff
from app.chat.service import ChatService
from app.db.models import StaffUser
from app.decoding.policy import field_errors
from app.staff import export
from app.staff.filters import STATUSES, ConversationFilter
from app.staff.handoff import HandoffConflict
from app.staff.search import search_conversations
from app.staff.transcript import ConversationNotFound, load_transcript, require_conversation

# The slot comes first: a request waiting for one holds no database connection yet.
pages = APIRouter(tags=["staff"], dependencies=[Depends(staff_db_slot), Depends(require_staff)])
api = APIRouter(
    prefix="/api/staff", tags=["staff"], dependencies=[Depends(staff_db_slot), Depends(require_staff)]
)
FilterDep = Annotated[ConversationFilter, Query()]


def _chat(request: Request) -> ChatService:
    return request.app.state.chat  # type: ignore[no-any-return]


ChatDep = Annotated[ChatService, Depends(_chat)]


def _context(request: Request, user: StaffUser, settings: Any, **extra: Any) -> dict[str, Any]:
    return {"user": user, "csrf_token": csrf_for(request, settings), **extra}


@pages.get("/staff", response_class=HTMLResponse)
def staff_list_page(
    request: Request, user: CurrentStaff, session: SessionDep, settings: SettingsDep
) -> Response:
    """The conversation list with search and filters (refreshed live by staff.js)."""
    errors: dict[str, str] = {}
    try:
        flt = ConversationFilter.model_validate(dict(request.query_params))
    except ValidationError as exc:
        errors, flt = field_errors(exc), ConversationFilter()
    result = search_conversations(session, flt)
    context = _context(
        request, user, settings, page=result, flt=flt, errors=errors, intents=INTENTS, statuses=STATUSES
    )
    return render(request, "staff_list.html", context, status_code=422 if errors else 200)


@pages.get("/staff/conversations/{conversation_id}", response_class=HTMLResponse)
def transcript_page(
    conversation_id: str, request: Request, user: CurrentStaff, session: SessionDep, settings: SettingsDep
) -> Response:
    """One transcript with how each reply was made, and the take-over controls."""
    transcript = _transcript(session, conversation_id)
    context = _context(request, user, settings, t=transcript.to_dict(), timeline=transcript.timeline())
    return render(request, "staff_transcript.html", context)


def _transcript(session: Any, conversation_id: str, after: int = 0) -> Any:
    try:
        return load_transcript(session, conversation_id, after)
    except ConversationNotFound as exc:
        raise HTTPException(404, str(exc)) from None


@api.get("/conversations")
def list_conversations(session: SessionDep, flt: FilterDep) -> dict[str, Any]:
    """One page of conversations matching the search and filters (polled for live updates)."""
    return search_conversations(session, flt).to_dict()


@api.get("/conversations/{conversation_id}")
def get_transcript(session: SessionDep, conversation_id: str, after: int = Query(0, ge=0)) -> dict[str, Any]:
    """The transcript; with ``after`` only messages newer than that id (live polling)."""
    return _transcript(session, conversation_id, after).to_dict()


def _download(chunks: Any, fmt: str, name: str) -> StreamingResponse:
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    return StreamingResponse(chunks, media_type=media, headers=headers)


@api.get("/conversations/{conversation_id}/export")
def export_one(
    session: SessionDep, conversation_id: str, format: Literal["csv", "json"] = "json"
) -> StreamingResponse:
    """Download one transcript as CSV or JSON."""
    try:
        require_conversation(session, conversation_id)
    except ConversationNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return _download(
        export.render(session, [conversation_id], format), format, f"conversation-{conversation_id}"
    )


@api.get("/export")
def export_filtered(
    session: SessionDep, flt: FilterDep, format: Literal["csv", "json"] = "json"
) -> StreamingResponse:
    """Download every conversation matching the filters (not only this page) as CSV or JSON."""
    ids = export.export_ids(session, flt)
    return _download(export.render(session, ids, format), format, "conversations")


def _handoff_errors(exc: Exception) -> HTTPException:
    if isinstance(exc, ConversationNotFound):
        return HTTPException(404, str(exc))
    return HTTPException(409, str(exc))


@api.post("/conversations/{conversation_id}/take-over")
async def take_over_conversation(conversation_id: str, chat: ChatDep, user: CurrentStaff) -> dict[str, Any]:
    """Assign the conversation to me and silence the bot; the customer is told a person joined."""
    try:
        state = await chat.take_over(conversation_id, user)
    except (ConversationNotFound, HandoffConflict) as exc:
        raise _handoff_errors(exc) from None
    return {"id": state.conversation_id, "status": state.status, "assigned_to": user.username}


@api.post("/conversations/{conversation_id}/reply")
async def reply(
    conversation_id: str,
    chat: ChatDep,
    user: CurrentStaff,
    text: Annotated[str, Body(embed=True, max_length=8000)],
) -> dict[str, Any]:
    """Store my reply (role=staff) and push it into the customer's open chat."""
    try:
        return await chat.staff_reply(conversation_id, user, text)
    except ValueError as exc:
        raise HTTPException(422, {"errors": {"text": str(exc)}}) from None
    except (ConversationNotFound, HandoffConflict) as exc:
        raise _handoff_errors(exc) from None


@api.post("/conversations/{conversation_id}/hand-back")
async def hand_back_conversation(conversation_id: str, chat: ChatDep, user: CurrentStaff) -> dict[str, Any]:
    """Give the conversation back to the bot."""
    try:
        state = await chat.hand_back(conversation_id, user)
    except (ConversationNotFound, HandoffConflict) as exc:
        raise _handoff_errors(exc) from None
    return {"id": state.conversation_id, "status": state.status}


router = APIRouter()
router.include_router(pages)
router.include_router(api)
