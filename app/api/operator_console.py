"""Operator console: per-intent decoding editor with history and rollback, "try it", live figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError

from adapters.intents import INTENTS
from app.api.auth_pages import render
from app.api.staff_slots import staff_db_slot
from app.auth.deps import CurrentStaff, SessionDep, SettingsDep, csrf_for, require_operator
from app.chat.service import ChatService
from app.decoding.policy import DEFAULT_POLICIES, DecodingPolicy, field_errors
from app.decoding.store import history, live_policy, rollback, save_policy
from app.operator.stats import intent_figures
from app.operator.try_it import MAX_TRY_CHARS

router = APIRouter(tags=["operator"], dependencies=[Depends(staff_db_slot), Depends(require_operator)])
FIELDS = list(DecodingPolicy.model_fields)


def _intent(intent: str) -> str:
    if intent not in INTENTS:
        raise HTTPException(404, f"unknown intent {intent!r}; expected one of {', '.join(INTENTS)}")
    return intent


def _policy_or_422(data: Any) -> DecodingPolicy | JSONResponse:
    try:
        return DecodingPolicy.model_validate(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        errors = field_errors(exc)
        return JSONResponse({"detail": "invalid decoding policy", "errors": errors}, status_code=422)


@router.get("/operator", response_class=HTMLResponse)
def operator_page(
    request: Request, user: CurrentStaff, session: SessionDep, settings: SettingsDep
) -> Response:
    """The per-intent editor, history, try-it panel and live charts (driven by operator.js)."""
    live = {intent: live_policy(session, intent) for intent in INTENTS}
    context = {
        "user": user,
        "csrf_token": csrf_for(request, settings),
        "intents": INTENTS,
        "live": {i: {"version": v, "policy": p.model_dump(mode="json")} for i, (p, v) in live.items()},
        "fields": FIELDS,
    }
    return render(request, "operator.html", context)


@router.get("/api/operator/policies")
def list_policies(session: SessionDep) -> dict[str, Any]:
    """Every intent's live policy and version, and the built-in defaults."""
    out = {}
    for intent in INTENTS:
        policy, version = live_policy(session, intent)
        out[intent] = {
            "version": version,
            "policy": policy.model_dump(mode="json"),
            "default": DEFAULT_POLICIES[intent].model_dump(mode="json"),
        }
    return out


@router.get("/api/operator/policies/{intent}/history")
def policy_history(session: SessionDep, intent: str, limit: int = Query(50, ge=1, le=500)) -> list[Any]:
    """The intent's versions, newest first: who, when, what, why."""
    return [v.to_dict() for v in history(session, _intent(intent), limit)]


@router.put("/api/operator/policies/{intent}", response_model=None)
def update_policy(
    intent: str,
    user: CurrentStaff,
    session: SessionDep,
    policy: Annotated[dict[str, Any], Body()],
    comment: Annotated[str, Body(max_length=255)] = "",
) -> dict[str, Any] | JSONResponse:
    """Save a new version; it applies to the next message. 422 with {field: message} when invalid."""
    checked = _policy_or_422(policy)
    if isinstance(checked, JSONResponse):
        return checked
    row = save_policy(session, _intent(intent), checked, user, comment)
    return {"intent": intent, "version": row.version, "policy": checked.model_dump(mode="json")}


@router.post("/api/operator/policies/{intent}/rollback")
def rollback_policy(
    intent: str, user: CurrentStaff, session: SessionDep, version: Annotated[int, Body(embed=True, ge=0)]
) -> dict[str, Any]:
    """Make an old version live again (as a new version)."""
    try:
        row = rollback(session, _intent(intent), version, user)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"intent": intent, "version": row.version, "policy": row.settings}


@router.post("/api/operator/try", response_model=None)
async def try_draft(
    request: Request,
    intent: Annotated[str, Body()],
    policy: Annotated[dict[str, Any], Body()],
    message: Annotated[str, Body(max_length=MAX_TRY_CHARS)],
    seed: Annotated[int | None, Body()] = None,
) -> dict[str, Any] | JSONResponse:
    """Answer ``message`` with the draft policy on the intent's adapter, without saving anything."""
    checked = _policy_or_422(policy)
    if isinstance(checked, JSONResponse):
        return checked
    chat: ChatService = request.app.state.chat
    if not chat.ready:
        raise HTTPException(503, "the generation engine is not running")
    _intent(intent)
    try:
        result = await chat.try_policy(intent, checked, message, seed)
    except ValueError as exc:
        return JSONResponse({"detail": str(exc), "errors": {"message": str(exc)}}, status_code=422)
    return result.to_dict()


@router.get("/api/operator/stats")
def live_figures(
    session: SessionDep,
    window_s: int = Query(3600, ge=60, le=7 * 86400),
    buckets: int = Query(12, ge=1, le=120),
) -> dict[str, Any]:
    """Per intent over the window: requests, p50/p95 latency, tokens/s, feedback rate, as series too."""
    return intent_figures(session, datetime.now(UTC), window_s, buckets)
