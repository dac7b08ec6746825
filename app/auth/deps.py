"""FastAPI dependencies: database session, current staff member, role checks (with CSRF)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from app.auth.clock import Clock, get_clock
from app.auth.csrf import SAFE_METHODS, csrf_token, submitted_token, tokens_match
from app.auth.revocation import SessionRevocations
from app.auth.sessions import COOKIE_NAME, StaffSession, decode_session
from app.config import Settings
from app.config import settings as default_settings
from app.db.models import StaffUser
from app.db.session import get_session
from app.limits.login import LoginRateLimiter
from app.limits.window import make_window

ROLES = ("staff", "operator")


def get_settings(request: Request) -> Settings:
    """The app's settings (``app.state.settings`` when the factory set one)."""
    return getattr(request.app.state, "settings", None) or default_settings


def get_login_limiter(request: Request) -> LoginRateLimiter:
    """The app's login limiter, created on first use."""
    limiter = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        cfg = get_settings(request)
        # The app's clock (tests move it); every node counts the same guesses through Redis.
        clock = request.app.dependency_overrides.get(get_clock, get_clock)()
        window = make_window(cfg.redis_url, "sb:limit:login:", clock)
        limiter = request.app.state.login_limiter = LoginRateLimiter(window=window)
    return limiter


def get_revocations(request: Request) -> SessionRevocations:
    """The app's list of logged-out sessions, created on first use."""
    revocations = getattr(request.app.state, "revocations", None)
    if revocations is None:
        cfg = get_settings(request)
        revocations = SessionRevocations(cfg.redis_url, cfg.session_max_age_s)
        request.app.state.revocations = revocations
    return revocations


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]


def wants_page(request: Request) -> bool:
    """A browser asking for a console page (so errors become pages, not JSON)."""
    return (
        request.method == "GET"
        and not request.url.path.startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
    )


def safe_next(path: str | None) -> str:
    """A local path to go to after login; anything else (other hosts, schemes) becomes /staff."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/staff"
    return path


def _not_authenticated(request: Request) -> HTTPException:
    if wants_page(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = f"/login?next={quote(safe_next(target), safe='')}"
        return HTTPException(status.HTTP_303_SEE_OTHER, "login required", headers={"Location": location})
    return HTTPException(status.HTTP_401_UNAUTHORIZED, "login required")


def get_current_staff(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> StaffUser:
    """The logged-in staff member; 401 (or a redirect to /login for pages) otherwise."""
    staff_session = decode_session(request.cookies.get(COOKIE_NAME), settings, clock())
    if staff_session is None or get_revocations(request).is_revoked(staff_session.sid):
        raise _not_authenticated(request)
    user = session.get(StaffUser, staff_session.user_id)
    if user is None or not user.is_active or user.role not in ROLES:
        raise _not_authenticated(request)
    # Disabling, a role change or a password reset ends every session issued before it.
    if user.sessions_valid_from is not None and staff_session.issued_at < user.sessions_valid_from:
        raise _not_authenticated(request)
    request.state.staff_session = staff_session
    return user


CurrentStaff = Annotated[StaffUser, Depends(get_current_staff)]


class RoleRequired(HTTPException):
    """Signed in, but the page or call needs another role (403; a page for browsers, see auth_pages)."""

    def __init__(self, role: str, user: StaffUser) -> None:
        super().__init__(status.HTTP_403_FORBIDDEN, f"{role} role required")
        self.role = role
        self.username = user.username
        self.user_role = user.role


def csrf_for(request: Request, settings: Settings) -> str:
    """The CSRF token of the current request's staff session (for templates)."""
    staff_session: StaffSession = request.state.staff_session
    return csrf_token(staff_session.sid, settings)


async def _check_csrf(request: Request, settings: Settings) -> None:
    if request.method in SAFE_METHODS:
        return
    if not tokens_match(csrf_for(request, settings), await submitted_token(request)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or invalid; reload the page")


async def require_staff(request: Request, user: CurrentStaff, settings: SettingsDep) -> StaffUser:
    """Staff or operator, with a valid CSRF token on any state-changing call."""
    await _check_csrf(request, settings)
    return user


async def require_operator(request: Request, user: CurrentStaff, settings: SettingsDep) -> StaffUser:
    """Operators only (403 for staff), with a valid CSRF token on any state-changing call."""
    if user.role != "operator":
        raise RoleRequired("operator", user)
    await _check_csrf(request, settings)
    return user
