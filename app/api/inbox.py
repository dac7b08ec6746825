"""Staff inbox: the queue page and JSON, assign, resolve, read marks, notes, labels, canned replies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.api.auth_pages import render
from app.api.staff_slots import staff_db_slot
from app.auth.deps import CurrentStaff, SessionDep, SettingsDep, csrf_for, require_staff
from app.inbox import actions
from app.inbox.availability import availability
from app.inbox.canned import list_canned
from app.inbox.desk import InboxDesk
from app.inbox.presence import staff_directory
from app.inbox.queue import CHANNELS, InboxFilter, customer_label, list_inbox, mark_read, view_counts
from app.staff.handoff import HandoffConflict
from app.staff.transcript import ConversationNotFound, require_conversation

deps = [Depends(staff_db_slot), Depends(require_staff)]
pages = APIRouter(tags=["inbox"], dependencies=deps)
api = APIRouter(prefix="/api/inbox", tags=["inbox"], dependencies=deps)
InboxQuery = Annotated[InboxFilter, Query()]


def _desk(request: Request) -> InboxDesk:
    return InboxDesk(request.app.state.chat)


DeskDep = Annotated[InboxDesk, Depends(_desk)]


def _conversation(session: Any, conversation_id: str) -> Any:
    try:
        return require_conversation(session, conversation_id)
    except ConversationNotFound as exc:
        raise HTTPException(404, str(exc)) from None


def _problem(exc: Exception) -> HTTPException:
    if isinstance(exc, ConversationNotFound):
        return HTTPException(404, str(exc))
    if isinstance(exc, HandoffConflict):
        return HTTPException(409, str(exc))
    return HTTPException(422, {"errors": {"text": str(exc)}})


def desk_status(session: Any) -> dict[str, Any]:
    """Business hours, whether a person can answer now, and the unanswered threshold (for the page)."""
    found = availability(session)
    return {
        "live": found.live,
        "reason": found.reason,
        "hours": found.hours.summary(),
        "unanswered_minutes": found.hours.unanswered_minutes,
    }


@pages.get("/staff/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, user: CurrentStaff, session: SessionDep, settings: SettingsDep) -> Response:
    """The inbox: waiting customers first, live updates over server-sent events (inbox.js)."""
    context = {"user": user, "csrf_token": csrf_for(request, settings), "channels": CHANNELS}
    return render(request, "staff_inbox.html", context)


@api.get("/conversations")
def inbox(session: SessionDep, user: CurrentStaff, flt: InboxQuery) -> dict[str, Any]:
    """One view of the inbox (waiting, mine, open, resolved), optionally one channel and label."""
    desk = desk_status(session)
    items = list_inbox(session, flt, user, desk["unanswered_minutes"])
    counts = view_counts(session, user)
    return {"items": [i.to_dict() for i in items], "desk": desk, "counts": counts}


@api.get("/staff")
def staff(session: SessionDep) -> dict[str, Any]:
    """Everyone who can be assigned a conversation, with who is online now."""
    return {"staff": staff_directory(session)}


@api.get("/canned")
def canned(session: SessionDep) -> dict[str, Any]:
    """The canned replies staff may insert (operators manage them on /operator/desk)."""
    return {"canned": list_canned(session)}


@api.get("/conversations/{conversation_id}")
def panel(session: SessionDep, conversation_id: str) -> dict[str, Any]:
    """The transcript's side panel: customer label, email, labels, internal notes."""
    conv = _conversation(session, conversation_id)
    return {
        "id": conv.id,
        "customer": customer_label(conv),
        "channel": conv.channel,
        "status": conv.status,
        "contact_email": conv.contact_email,
        "assigned_staff_id": conv.assigned_staff_id,
        "labels": actions.labels(session, conv.id),
        "notes": actions.notes(session, conv.id),
    }


@api.post("/conversations/{conversation_id}/read")
def read(session: SessionDep, user: CurrentStaff, conversation_id: str) -> dict[str, Any]:
    """Everything in the conversation so far counts as read by me (clears my unread count)."""
    _conversation(session, conversation_id)
    mark_read(session, conversation_id, user.id)
    return {"id": conversation_id, "unread": 0}


@api.post("/conversations/{conversation_id}/assign")
async def assign(
    conversation_id: str,
    desk: DeskDep,
    user: CurrentStaff,
    staff_id: Annotated[int | None, Body(embed=True)] = None,
) -> dict[str, Any]:
    """Assign the conversation to a staff member (default: me); the bot goes quiet."""
    try:
        return await desk.assign(conversation_id, staff_id if staff_id is not None else user.id)
    except (ConversationNotFound, HandoffConflict, ValueError) as exc:
        raise _problem(exc) from None


@api.post("/conversations/{conversation_id}/resolve")
async def resolve(conversation_id: str, desk: DeskDep, user: CurrentStaff) -> dict[str, Any]:
    """Close the conversation as solved; the customer's chat asks for a 1-5 rating."""
    try:
        return await desk.resolve(conversation_id, user)
    except ConversationNotFound as exc:
        raise _problem(exc) from None


@api.post("/conversations/{conversation_id}/notes")
def add_note(
    session: SessionDep,
    user: CurrentStaff,
    conversation_id: str,
    text: Annotated[str, Body(embed=True, max_length=8000)],
) -> dict[str, Any]:
    """Add an internal note (seen by staff only, never by the customer)."""
    try:
        actions.add_note(session, conversation_id, user, text)
    except (ConversationNotFound, ValueError) as exc:
        raise _problem(exc) from None
    return {"notes": actions.notes(session, conversation_id)}


@api.post("/conversations/{conversation_id}/labels")
def add_label(
    session: SessionDep, conversation_id: str, label: Annotated[str, Body(embed=True, max_length=64)]
) -> dict[str, Any]:
    """Add a label to the conversation."""
    try:
        return {"labels": actions.add_label(session, conversation_id, label)}
    except ConversationNotFound as exc:
        raise _problem(exc) from None
    except ValueError as exc:
        raise HTTPException(422, {"errors": {"label": str(exc)}}) from None


@api.delete("/conversations/{conversation_id}/labels/{label}")
def remove_label(session: SessionDep, conversation_id: str, label: str) -> dict[str, Any]:
    """Remove a label from the conversation."""
    _conversation(session, conversation_id)
    return {"labels": actions.remove_label(session, conversation_id, label)}


router = APIRouter()
router.include_router(pages)
router.include_router(api)
