"""Login and logout pages for staff and operators (rate-limited, CSRF-protected)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.auth.csrf import FORM_FIELD, LOGIN_COOKIE, new_login_token, tokens_match
from app.auth.deps import (
    ClockDep,
    SessionDep,
    SettingsDep,
    get_login_limiter,
    get_revocations,
    require_staff,
    safe_next,
)
from app.auth.passwords import authenticate
from app.auth.sessions import clear_session_cookie, new_session, set_session_cookie
from app.config import REPO_ROOT, Settings
from app.limits.login import LoginRateLimited, LoginRateLimiter
from app.staff.transcript import utc_time

templates = Jinja2Templates(directory=str(REPO_ROOT / "web" / "templates"))
templates.env.filters["utc_time"] = utc_time
router = APIRouter(tags=["auth"])
MAX_USERNAME_CHARS = 64
# Console pages load only their own scripts and styles: even if some text escaped autoescaping,
# an injected inline <script> or onerror= handler would not run.
CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A console page with the console's security headers."""
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(CONSOLE_HEADERS)
    return response


def _login_page(
    request: Request, settings: Settings, next_path: str, error: str = "", code: int = 200
) -> Response:
    token = new_login_token()
    response = render(
        request,
        "login.html",
        {"csrf_token": token, "next": safe_next(next_path), "error": error, "csrf_field": FORM_FIELD},
        code,
    )
    # Double-submit token: there is no session before login, so the form is tied to this cookie.
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=settings.environment == "production",
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str = "/staff") -> Response:
    """The login form."""
    return _login_page(request, settings, next)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    limiter: Annotated[LoginRateLimiter, Depends(get_login_limiter)],
    username: Annotated[str, Form(max_length=MAX_USERNAME_CHARS)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/staff",
) -> Response:
    """Check the credentials; on success set the session cookie and go to ``next``."""
    if not tokens_match(request.cookies.get(LOGIN_COOKIE, ""), csrf_token):
        return _login_page(request, settings, next, "The form expired; please try again.", 403)
    ip = request.client.host if request.client else "unknown"
    now = clock()
    try:
        limiter.check(username, ip)
    except LoginRateLimited as exc:
        response = _login_page(
            request, settings, next, f"Too many failed attempts. Try again in {exc.retry_after_s} s.", 429
        )
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    user = authenticate(session, username, password)
    if user is None:
        limiter.record_failure(username, ip)
        return _login_page(request, settings, next, "Invalid username or password.", 401)
    limiter.reset(username, ip)
    response = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, new_session(user.id, now), settings)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout", dependencies=[Depends(require_staff)])
def logout(request: Request, settings: SettingsDep) -> Response:
    """End the session (the form carries the CSRF token) and go back to the login page."""
    # Clearing the cookie is only a request to the browser; a copied cookie must stop working too.
    get_revocations(request).revoke(request.state.staff_session.sid)
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    clear_session_cookie(response, settings)
    return response
