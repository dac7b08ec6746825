"""Operator console for the knowledge base: list/search, add, edit, delete, history, rollback, and
the knowledge-gap report. Thin routes over app.knowledge.store (which versions every change)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.api.auth_pages import render
from app.api.staff_slots import staff_db_slot
from app.auth.deps import CurrentStaff, SessionDep, SettingsDep, csrf_for, require_operator
from app.knowledge import store
from app.knowledge.browse import entry_dict, find_entries, version_dict
from app.knowledge.entries import KINDS, EntryData
from app.knowledge.report import gap_report

router = APIRouter(tags=["knowledge"], dependencies=[Depends(staff_db_slot), Depends(require_operator)])
BASE = "/api/operator/knowledge"
ENTRY_FIELDS = ("key", "kind", "title", "text", "keywords", "note")
NoteBody = Annotated[str, Body(max_length=store.MAX_NOTE_CHARS)]


def field_of(message: str) -> str:
    """The form field a store/EntryData ValueError is about: they all start with the field's name."""
    first = message.split(" ", 1)[0].rstrip(":")
    return first if first in ENTRY_FIELDS else "__all__"


def _invalid(exc: ValueError, status_code: int = 422) -> JSONResponse:
    message = str(exc)
    return JSONResponse({"detail": message, "errors": {field_of(message): message}}, status_code=status_code)


def _entry_or_422(raw: Any, key: str | None = None) -> EntryData | JSONResponse:
    if not isinstance(raw, dict):
        return _invalid(ValueError("entry must be a JSON object"))
    if key is not None:
        raw = {**raw, "key": raw.get("key", key)}
    try:
        return EntryData.from_dict(raw)
    except (ValueError, TypeError) as exc:
        return _invalid(ValueError(str(exc)))


def _saved(row: Any) -> dict[str, Any]:
    return {"entry": entry_dict(row)}


@router.get("/operator/knowledge", response_class=HTMLResponse)
def knowledge_page(request: Request, user: CurrentStaff, settings: SettingsDep) -> Response:
    """The knowledge-base editor and gap report (driven by knowledge.js)."""
    context = {"user": user, "csrf_token": csrf_for(request, settings), "kinds": KINDS}
    return render(request, "knowledge.html", context)


@router.get(BASE, response_model=None)
def list_knowledge(
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    kind: str | None = None,
    include_deleted: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
) -> dict[str, Any] | JSONResponse:
    """Entries whose key, title or text contain every word of ``q`` (50 a page)."""
    try:
        return find_entries(session, q, kind or None, include_deleted, page).to_dict()
    except ValueError as exc:
        return _invalid(exc)


@router.post(BASE, response_model=None, status_code=201)
def add_knowledge(
    user: CurrentStaff, session: SessionDep, entry: Annotated[Any, Body()], note: NoteBody = ""
) -> dict[str, Any] | JSONResponse:
    """Add an entry (version 1, or the next version of a deleted key); 409 when the key is live."""
    data = _entry_or_422(entry)
    if isinstance(data, JSONResponse):
        return data
    if (existing := store.get_entry(session, data.key)) is not None and not existing.deleted:
        return _invalid(ValueError(f"key {data.key!r} is taken: edit that entry instead"), 409)
    try:
        return _saved(store.add_entry(session, data, user.username, note))
    except ValueError as exc:
        return _invalid(exc)


def _live(session: Any, key: str) -> Any:
    row = store.get_entry(session, key)
    if row is None:
        raise HTTPException(404, f"no knowledge entry with key {key!r}")
    return row


@router.get(BASE + "/{key}")
def get_knowledge(session: SessionDep, key: str) -> dict[str, Any]:
    """One entry (deleted ones too) and its versions, newest first."""
    row = _live(session, key)
    return {"entry": entry_dict(row), "history": [version_dict(v) for v in store.entry_history(session, key)]}


@router.get(BASE + "/{key}/history")
def knowledge_history(session: SessionDep, key: str) -> list[dict[str, Any]]:
    """The entry's versions, newest first: who, when, what, why."""
    _live(session, key)
    return [version_dict(v) for v in store.entry_history(session, key)]


@router.put(BASE + "/{key}", response_model=None)
def update_knowledge(
    key: str, user: CurrentStaff, session: SessionDep, entry: Annotated[Any, Body()], note: NoteBody = ""
) -> dict[str, Any] | JSONResponse:
    """Save new content as the next version; it applies to the next reply. 422 names the field."""
    data = _entry_or_422(entry, key)
    if isinstance(data, JSONResponse):
        return data
    if data.key != key:
        return _invalid(ValueError("key cannot change (sources point at it): add a new entry instead"))
    try:
        return _saved(store.update_entry(session, key, data, user.username, note))
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        return _invalid(exc)


@router.delete(BASE + "/{key}", response_model=None)
def delete_knowledge(
    key: str, user: CurrentStaff, session: SessionDep, note: Annotated[str, Query(max_length=255)] = ""
) -> dict[str, Any] | JSONResponse:
    """Delete the entry (retrieval stops using it); the history stays and a rollback restores it."""
    try:
        return _saved(store.delete_entry(session, key, user.username, note))
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        return _invalid(exc)


@router.post(BASE + "/{key}/rollback")
def rollback_knowledge(
    key: str, user: CurrentStaff, session: SessionDep, version: Annotated[int, Body(embed=True, ge=1)]
) -> dict[str, Any]:
    """Make an old version live again, as a new version (history is never rewritten)."""
    try:
        return _saved(store.rollback_entry(session, key, version, user.username))
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/api/operator/knowledge-report")
def knowledge_report(
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    """Unanswered questions, most-used entries and 👎 by entry over the last ``days``."""
    return gap_report(session, datetime.now(UTC) - timedelta(days=days), limit).to_dict()
