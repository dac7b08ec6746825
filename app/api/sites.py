"""Operators edit the sites that embed the widget: look, greeting, name, allowed origins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from app.api.staff_slots import staff_db_slot
from app.auth.deps import CurrentStaff, SessionDep, require_operator
from app.decoding.policy import field_errors
from app.widget.sites import SiteSettings, delete_site, list_sites, save_site

OPERATOR_ONLY = [Depends(staff_db_slot), Depends(require_operator)]
router = APIRouter(prefix="/api/admin/sites", tags=["admin"], dependencies=OPERATOR_ONLY)


@router.get("")
def sites(session: SessionDep) -> list[dict[str, Any]]:
    """Every site's settings."""
    return list_sites(session)


@router.put("/{site_key}", response_model=None)
def put_site(
    site_key: str, user: CurrentStaff, session: SessionDep, data: Annotated[dict[str, Any], Body()]
) -> dict[str, Any] | JSONResponse:
    """Create or replace a site; 422 with {field: message} when a value is not acceptable."""
    try:
        settings = SiteSettings.model_validate({**data, "key": site_key})
    except ValidationError as exc:
        return JSONResponse({"detail": "invalid site", "errors": field_errors(exc)}, status_code=422)
    return save_site(session, settings, user).model_dump()


@router.delete("/{site_key}")
def remove_site(site_key: str, user: CurrentStaff, session: SessionDep) -> dict[str, Any]:
    """Delete a site: its widget and embed page stop loading."""
    try:
        delete_site(session, site_key, user)
    except LookupError as exc:
        raise HTTPException(404, str(exc).strip("'\"")) from None
    return {"deleted": site_key}
