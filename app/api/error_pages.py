"""Errors a person meets in the browser as pages: a staff member opening an operator page reads why."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from app.api.auth_pages import render
from app.auth.deps import RoleRequired, csrf_for, get_settings, wants_page


async def role_required(request: Request, exc: Exception) -> Response:
    """403 as a console page for a browser (with the way back), as JSON for API calls."""
    assert isinstance(exc, RoleRequired)
    if not wants_page(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    context = {
        "user": {"username": exc.username, "role": exc.user_role},
        "csrf_token": csrf_for(request, get_settings(request)),
        "needed": exc.role,
    }
    return render(request, "forbidden.html", context, status_code=exc.status_code)


def install(app: FastAPI) -> None:
    """Register the page-or-JSON handlers on ``app``."""
    app.add_exception_handler(RoleRequired, role_required)
