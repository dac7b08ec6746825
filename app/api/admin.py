"""Admin page for operators: accounts, API keys, retention, one customer's data, the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.admin import accounts, customer_data, keys, retention
from app.admin.audit import recent_events
from app.api.auth_pages import render
from app.api.staff_slots import staff_db_slot
from app.auth.deps import ClockDep, CurrentStaff, SessionDep, SettingsDep, csrf_for, require_operator

router = APIRouter(tags=["admin"], dependencies=[Depends(staff_db_slot), Depends(require_operator)])
Role = Literal["staff", "operator"]


def _refused(exc: Exception, code: int = 422) -> HTTPException:
    return HTTPException(code, str(exc).strip("'\""))


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, user: CurrentStaff, settings: SettingsDep) -> Response:
    """Users, API keys, retention, customer data and the audit trail (driven by admin.js)."""
    return render(request, "admin.html", {"user": user, "csrf_token": csrf_for(request, settings)})


@router.get("/api/admin/users")
def users(session: SessionDep) -> list[dict[str, Any]]:
    """Every account (never a password hash)."""
    return accounts.list_users(session)


@router.post("/api/admin/users", status_code=201)
def create_user(
    user: CurrentStaff,
    session: SessionDep,
    username: Annotated[str, Body(max_length=64)],
    password: Annotated[str, Body(max_length=1024)],
    role: Annotated[Role, Body()] = "staff",
) -> dict[str, Any]:
    """Create an account; 422 naming what is wrong (taken name, short password)."""
    try:
        return accounts.user_dict(accounts.create_user(session, username, role, password, user))
    except accounts.AccountError as exc:
        raise _refused(exc) from None


def _change(call: Any) -> dict[str, Any]:
    try:
        return accounts.user_dict(call())
    except LookupError as exc:
        raise _refused(exc, 404) from None
    except accounts.AccountError as exc:
        raise _refused(exc, 409) from None


@router.post("/api/admin/users/{user_id}/active")
def set_active(
    user_id: int,
    user: CurrentStaff,
    session: SessionDep,
    clock: ClockDep,
    active: Annotated[bool, Body(embed=True)],
) -> dict[str, Any]:
    """Disable (sessions end, login refused) or enable an account."""
    return _change(lambda: accounts.set_active(session, user_id, active, user, clock()))


@router.post("/api/admin/users/{user_id}/role")
def set_role(
    user_id: int,
    user: CurrentStaff,
    session: SessionDep,
    clock: ClockDep,
    role: Annotated[Role, Body(embed=True)],
) -> dict[str, Any]:
    """Make an account staff or operator (its sessions end so the new role applies)."""
    return _change(lambda: accounts.set_role(session, user_id, role, user, clock()))


@router.post("/api/admin/users/{user_id}/reset-password")
def reset_password(user_id: int, user: CurrentStaff, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    """A new random password, shown once; the account's sessions end."""
    try:
        return {"password": accounts.reset_password(session, user_id, user, clock())}
    except LookupError as exc:
        raise _refused(exc, 404) from None


@router.get("/api/admin/keys")
def api_keys(session: SessionDep) -> list[dict[str, Any]]:
    """Every API key, newest first (name and prefix only)."""
    return keys.list_keys(session)


@router.post("/api/admin/keys", status_code=201)
def create_key(
    user: CurrentStaff, session: SessionDep, name: Annotated[str, Body(embed=True)]
) -> dict[str, Any]:
    """A new key; the clear key is in this answer only."""
    try:
        key_id, clear = keys.issue_key(session, name, user)
    except ValueError as exc:
        raise _refused(exc) from None
    return {"id": key_id, "key": clear}


@router.post("/api/admin/keys/{key_id}/revoke")
def revoke_key(key_id: int, user: CurrentStaff, session: SessionDep) -> dict[str, Any]:
    """Revoke a key: later calls with it get 401."""
    try:
        keys.revoke_key(session, key_id, user)
    except LookupError as exc:
        raise _refused(exc, 404) from None
    return {"id": key_id, "revoked": True}


@router.get("/api/admin/retention")
def retention_preview(
    session: SessionDep, days: int = Query(90, ge=1, le=retention.MAX_DAYS)
) -> dict[str, Any]:
    """How many conversations a run with ``days`` would delete now."""
    return {"days": days, "conversations": retention.count_expired(session, days, datetime.now(UTC))}


@router.post("/api/admin/retention")
def retention_run(
    user: CurrentStaff,
    session: SessionDep,
    days: Annotated[int, Body(embed=True, ge=1, le=retention.MAX_DAYS)],
) -> dict[str, Any]:
    """Delete conversations whose last message is older than ``days`` (not ones with a human)."""
    return {"days": days, "deleted": retention.delete_expired(session, days, datetime.now(UTC), user)}


def _customer(conversation_id: str, contains: str) -> customer_data.CustomerQuery:
    try:
        return customer_data.CustomerQuery(conversation_id, contains)
    except ValueError as exc:
        raise _refused(exc) from None


@router.post("/api/admin/customer/export")
def export_customer(
    user: CurrentStaff,
    session: SessionDep,
    conversation_id: Annotated[str, Body(max_length=64)] = "",
    contains: Annotated[str, Body(max_length=400)] = "",
) -> JSONResponse:
    """Every conversation of one customer as a JSON download."""
    data = customer_data.export_customer(session, _customer(conversation_id, contains), user)
    headers = {
        "Content-Disposition": 'attachment; filename="customer-data.json"',
        "Cache-Control": "no-store",
    }
    return JSONResponse(data, headers=headers)


@router.post("/api/admin/customer/erase")
def erase_customer(
    user: CurrentStaff,
    session: SessionDep,
    conversation_id: Annotated[str, Body(max_length=64)] = "",
    contains: Annotated[str, Body(max_length=400)] = "",
    confirm: Annotated[bool, Body()] = False,
) -> dict[str, Any]:
    """Delete one customer's conversations; ``confirm`` must be true (nothing can bring them back)."""
    query = _customer(conversation_id, contains)
    if not confirm:
        raise HTTPException(422, "erasing cannot be undone: send confirm=true")
    return {"erased": customer_data.erase_customer(session, query, user)}


@router.get("/api/admin/audit")
def audit(
    session: SessionDep,
    limit: int = Query(100, ge=1, le=1000),
    action: str | None = Query(None, max_length=64),
) -> list[dict[str, Any]]:
    """The audit trail, newest first: who did what, when, to what."""
    return recent_events(session, limit, action)
