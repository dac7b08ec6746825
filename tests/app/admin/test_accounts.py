"""Accounts: created with checked input, disabled accounts cannot log in and lose their sessions,
role changes and password resets end sessions too, and no change can lock every operator out."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin import accounts
from app.auth.passwords import authenticate, verify_password
from app.db.models import AuditEvent, StaffUser
from tests.app.console_support import PASSWORD, add_user

NOW = 1_800_000_000.0


def _actions(db: Session) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.target) for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_create_checks_input_and_is_audited(db: Session) -> None:
    olga = add_user(db, "olga", "operator")
    user = accounts.create_user(db, "sam", "staff", "long-enough-pw", olga)
    assert authenticate(db, "sam", "long-enough-pw") is not None and user.role == "staff"
    for name, role, password, message in [
        ("sam", "staff", "long-enough-pw", "already taken"),
        ("x", "staff", "long-enough-pw", "username must be"),
        ("ann", "admin", "long-enough-pw", "role must be"),
        ("ann", "staff", "short", "at least 8"),
    ]:
        with pytest.raises(accounts.AccountError, match=message):
            accounts.create_user(db, name, role, password, olga)
    assert _actions(db) == [("olga", "user.create", "user:sam")]


def test_disable_refuses_login_and_marks_sessions(db: Session) -> None:
    olga, sam = add_user(db, "olga", "operator"), add_user(db, "sam")
    accounts.set_active(db, sam.id, False, olga, NOW)
    assert authenticate(db, "sam", PASSWORD) is None
    assert db.get(StaffUser, sam.id).sessions_valid_from == NOW  # type: ignore[union-attr]
    accounts.set_active(db, sam.id, True, olga, NOW + 5)
    assert authenticate(db, "sam", PASSWORD) is not None
    assert [a for _, a, _ in _actions(db)] == ["user.disable", "user.enable"]


def test_nobody_locks_the_operators_out(db: Session) -> None:
    olga = add_user(db, "olga", "operator")
    with pytest.raises(accounts.AccountError, match="your own account"):
        accounts.set_active(db, olga.id, False, olga, NOW)
    with pytest.raises(accounts.AccountError, match="last active operator"):
        accounts.set_role(db, olga.id, "staff", None, NOW)  # the CLI (no actor) is held to it too
    otto = add_user(db, "otto", "operator")
    accounts.set_role(db, olga.id, "staff", otto, NOW)
    assert db.get(StaffUser, olga.id).role == "staff"  # type: ignore[union-attr]
    with pytest.raises(LookupError):
        accounts.set_active(db, 999_999, False, otto, NOW)
    assert _actions(db)[-1] == ("otto", "user.role", "user:olga")


def test_reset_password_gives_a_new_one_once(db: Session) -> None:
    olga, sam = add_user(db, "olga", "operator"), add_user(db, "sam")
    new = accounts.reset_password(db, sam.id, olga, NOW)
    row = db.get(StaffUser, sam.id)
    assert row is not None and len(new) >= 12 and new not in row.password_hash
    assert verify_password(row.password_hash, new) and not verify_password(row.password_hash, PASSWORD)
    assert row.sessions_valid_from == NOW
    event = db.scalars(select(AuditEvent)).one()
    assert new not in str(event.details) and event.action == "user.reset_password"
