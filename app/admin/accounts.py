"""Staff and operator accounts: create, disable or enable, change role, reset password.

Every change is audited, and disabling, a role change or a password reset also ends the account's
open sessions (``sessions_valid_from``): a signed cookie cannot be recalled from the browser, so the
server refuses any session issued before the change.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.admin.audit import record
from app.auth.passwords import hash_password
from app.db.models import StaffUser

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
ROLES = ("staff", "operator")


class AccountError(ValueError):
    """A change that is refused (bad input, or one that would lock every operator out)."""


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError("role must be staff or operator")
    return role


def create_user(
    session: Session, username: str, role: str, password: str, actor: StaffUser | None = None
) -> StaffUser:
    """Store a new account; AccountError naming the field when the input is not acceptable."""
    if not USERNAME_RE.match(username or ""):
        raise AccountError("username must be 2-64 letters, digits or . _ @ -")
    _check_role(role)
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    user = StaffUser(username=username, role=role, password_hash=password_hash)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AccountError(f"username {username!r} is already taken") from None
    record(session, actor, "user.create", f"user:{user.username}", role=role)
    session.commit()
    return user


def user_dict(user: StaffUser) -> dict[str, Any]:
    """The JSON shape of an account (never its hash)."""
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "active": user.is_active,
        "created_at": user.created_at.isoformat(timespec="seconds") if user.created_at else None,
    }


def list_users(session: Session) -> list[dict[str, Any]]:
    """Every account, oldest first."""
    return [user_dict(u) for u in session.scalars(select(StaffUser).order_by(StaffUser.id))]


def _get(session: Session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise LookupError(f"no user with id {user_id}")
    return user


def _other_active_operators(session: Session, user: StaffUser) -> int:
    query = select(func.count(StaffUser.id)).where(
        StaffUser.role == "operator", StaffUser.is_active.is_(True), StaffUser.id != user.id
    )
    return int(session.scalar(query) or 0)


def _keep_an_operator(session: Session, user: StaffUser, actor: StaffUser | None) -> None:
    # Nobody could undo it in the browser: the CLI would be the only way back in.
    if actor is not None and actor.id == user.id:
        raise AccountError("you cannot disable or demote your own account")
    if user.role == "operator" and user.is_active and _other_active_operators(session, user) == 0:
        raise AccountError("this is the last active operator; make another operator first")


def set_active(
    session: Session, user_id: int, active: bool, actor: StaffUser | None, now: float
) -> StaffUser:
    """Disable (its sessions end now, it cannot log in) or enable an account."""
    user = _get(session, user_id)
    if not active:
        _keep_an_operator(session, user, actor)
        user.sessions_valid_from = now
    user.is_active = active
    record(session, actor, "user.enable" if active else "user.disable", f"user:{user.username}")
    session.commit()
    return user


def set_role(session: Session, user_id: int, role: str, actor: StaffUser | None, now: float) -> StaffUser:
    """Make an account staff or operator; its open sessions end so the new role applies everywhere."""
    user = _get(session, user_id)
    _check_role(role)
    if role == user.role:
        return user
    if role != "operator":
        _keep_an_operator(session, user, actor)
    old, user.role = user.role, role
    user.sessions_valid_from = now
    record(session, actor, "user.role", f"user:{user.username}", old=old, new=role)
    session.commit()
    return user


def reset_password(session: Session, user_id: int, actor: StaffUser | None, now: float) -> str:
    """Give the account a new random password (returned once, never stored clear); sessions end."""
    user = _get(session, user_id)
    password = secrets.token_urlsafe(12)
    user.password_hash = hash_password(password)
    user.sessions_valid_from = now
    record(session, actor, "user.reset_password", f"user:{user.username}")
    session.commit()
    return password
