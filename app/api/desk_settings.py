"""Operator settings of the support desk: business hours, the unanswered threshold, canned replies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError

from app.api.auth_pages import render
from app.auth.deps import CurrentStaff, SessionDep, SettingsDep, csrf_for, require_operator
from app.decoding.policy import field_errors
from app.inbox.canned import CannedReplyDraft, CannedReplyNotFound, delete_canned, list_canned, save_canned
from app.inbox.hours import DAYS, DeskHours, load_hours, save_hours

router = APIRouter(tags=["operator"], dependencies=[Depends(require_operator)])


def _invalid(exc: ValidationError, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "errors": field_errors(exc)}, status_code=422)


@router.get("/operator/desk", response_class=HTMLResponse)
def desk_page(request: Request, user: CurrentStaff, session: SessionDep, settings: SettingsDep) -> Response:
    """Business hours and canned replies (driven by desk_settings.js)."""
    context = {
        "user": user,
        "csrf_token": csrf_for(request, settings),
        "hours": load_hours(session),
        "days": list(enumerate(DAYS)),
    }
    return render(request, "operator_desk.html", context)


@router.get("/api/operator/desk/hours")
def get_hours(session: SessionDep) -> dict[str, Any]:
    """The business hours and unanswered threshold in force."""
    hours = load_hours(session)
    return {**hours.model_dump(mode="json"), "summary": hours.summary()}


@router.put("/api/operator/desk/hours", response_model=None)
def put_hours(
    session: SessionDep, user: CurrentStaff, body: Any = Body(...)
) -> dict[str, Any] | JSONResponse:
    """Replace the business hours; 422 naming each bad field."""
    try:
        hours = DeskHours.model_validate(body if isinstance(body, dict) else {})
    except ValidationError as exc:
        return _invalid(exc, "invalid business hours")
    save_hours(session, hours, user)
    return {**hours.model_dump(mode="json"), "summary": hours.summary()}


@router.get("/api/operator/canned")
def canned(session: SessionDep) -> dict[str, Any]:
    """Every canned reply."""
    return {"canned": list_canned(session)}


def _save(session: Any, user: Any, body: Any, reply_id: int | None) -> dict[str, Any] | JSONResponse:
    try:
        draft = CannedReplyDraft.model_validate(body if isinstance(body, dict) else {})
    except ValidationError as exc:
        return _invalid(exc, "invalid canned reply")
    try:
        return save_canned(session, draft, user, reply_id)
    except CannedReplyNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        return JSONResponse({"detail": str(exc), "errors": {"shortcut": str(exc)}}, status_code=409)


@router.post("/api/operator/canned", response_model=None)
def create_canned(
    session: SessionDep, user: CurrentStaff, body: Any = Body(...)
) -> dict[str, Any] | JSONResponse:
    """Add a canned reply (409 when the shortcut is taken)."""
    return _save(session, user, body, None)


@router.put("/api/operator/canned/{reply_id}", response_model=None)
def update_canned(
    session: SessionDep, user: CurrentStaff, reply_id: int, body: Any = Body(...)
) -> dict[str, Any] | JSONResponse:
    """Replace a canned reply's shortcut and text."""
    return _save(session, user, body, reply_id)


@router.delete("/api/operator/canned/{reply_id}")
def remove_canned(session: SessionDep, reply_id: int) -> dict[str, Any]:
    """Delete a canned reply."""
    try:
        delete_canned(session, reply_id)
    except CannedReplyNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return {"deleted": reply_id}
