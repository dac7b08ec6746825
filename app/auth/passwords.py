"""Argon2id password hashing for staff accounts."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import StaffUser

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024  # argon2 is slow by design; an unbounded input is a DoS lever

_hasher = PasswordHasher()


def check_password_rules(password: str) -> None:
    """Raise ValueError naming `password` when it is too short or too long."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValueError(f"password must be at most {MAX_PASSWORD_CHARS} characters")


def hash_password(password: str) -> str:
    """Argon2id hash (salted, with its parameters encoded in the string)."""
    check_password_rules(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; never raises on a bad hash or input."""
    if not password or len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    """The active account with these credentials, or None (an unknown name costs a verification too)."""
    user = session.scalars(select(StaffUser).where(StaffUser.username == username.strip())).first()
    if user is None:
        dummy_verify()  # same cost as a wrong password, so timing does not reveal usernames
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        return None
    return user


def dummy_verify() -> None:
    """Spend the time of one verification, so unknown usernames cost as much as wrong passwords."""
    verify_password(_dummy_hash(), "not-the-password")


@cache
def _dummy_hash() -> str:
    # Hashed on first use, not at import: argon2 is slow by design and every process imports this.
    return _hasher.hash("switchboard-dummy-password")
