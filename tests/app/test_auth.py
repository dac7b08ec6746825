"""Passwords, signed sessions, CSRF tokens, the login limiter and API keys."""

from __future__ import annotations

import pytest
from fastapi import Response
from sqlalchemy.orm import Session

from app.auth.api_keys import create_api_key, revoke_api_key, verify_api_key
from app.auth.csrf import csrf_token, tokens_match
from app.auth.deps import safe_next
from app.auth.passwords import hash_password, verify_password
from app.auth.sessions import (
    COOKIE_NAME,
    decode_session,
    encode_session,
    new_session,
    set_session_cookie,
)
from app.config import Settings
from app.db.models import StaffUser
from app.limits.login import LoginRateLimited, LoginRateLimiter
from app.limits.window import MemoryWindow, RedisWindow

SETTINGS = Settings(secret_key="test-secret", session_max_age_s=3600, environment="test")


def test_password_hash_is_argon2_and_verifies() -> None:
    digest = hash_password("correct horse")
    assert digest.startswith("$argon2id$")
    assert "correct horse" not in digest
    assert verify_password(digest, "correct horse")
    assert not verify_password(digest, "wrong horse!")
    assert not verify_password("not-a-hash", "correct horse")


def test_short_password_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="password must be at least"):
        hash_password("short")


def test_session_round_trip_and_server_side_expiry() -> None:
    session = new_session(7, now=1000.0)
    value = encode_session(session, SETTINGS)
    assert decode_session(value, SETTINGS, now=1000.0 + 3599) == session
    assert decode_session(value, SETTINGS, now=1000.0 + 3601) is None
    assert decode_session(value, SETTINGS, now=900.0) is None  # issued "in the future"


TAMPERINGS = [lambda v: v[:-2] + "xx", lambda v: "A" + v[1:], lambda v: "garbage", lambda v: ""]


@pytest.mark.parametrize("mutate", TAMPERINGS)
def test_tampered_cookie_is_refused(mutate) -> None:  # type: ignore[no-untyped-def]
    value = encode_session(new_session(7, now=1000.0), SETTINGS)
    assert decode_session(mutate(value), SETTINGS, now=1001.0) is None


def test_cookie_signed_with_another_secret_is_refused() -> None:
    other = Settings(secret_key="another-secret", environment="test")
    value = encode_session(new_session(7, now=1000.0), other)
    assert decode_session(value, SETTINGS, now=1001.0) is None


@pytest.mark.parametrize(("environment", "secure"), [("development", False), ("production", True)])
def test_cookie_flags(environment: str, secure: bool) -> None:
    settings = Settings(
        secret_key="s3cret-for-prod-" + "x" * 32, environment=environment, session_max_age_s=600
    )
    response = Response()
    set_session_cookie(response, new_session(1, now=0.0), settings)
    header = response.headers["set-cookie"]
    assert header.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in header
    assert "SameSite=lax" in header
    assert "Max-Age=600" in header
    assert ("Secure" in header) == secure


def test_csrf_token_is_bound_to_the_session() -> None:
    a, b = new_session(1, now=0.0), new_session(1, now=0.0)
    token = csrf_token(a.sid, SETTINGS)
    assert tokens_match(token, csrf_token(a.sid, SETTINGS))
    assert not tokens_match(token, csrf_token(b.sid, SETTINGS))
    assert not tokens_match(token, None)
    assert not tokens_match(token, "")


def test_limiter_blocks_after_max_failures_and_recovers() -> None:
    now = [0.0]
    limiter = LoginRateLimiter(max_failures=3, window_s=60, window=MemoryWindow(clock=lambda: now[0]))
    for t in range(3):
        now[0] = t
        limiter.check("Alice", "1.2.3.4")
        limiter.record_failure("Alice", "1.2.3.4")
    now[0] = 10
    with pytest.raises(LoginRateLimited) as info:
        limiter.check("alice", "1.2.3.4")  # case-insensitive username
    assert info.value.retry_after_s == 50
    limiter.check("alice", "5.6.7.8")  # another address has its own budget
    limiter.check("bob", "1.2.3.4")
    now[0] = 61
    limiter.check("alice", "1.2.3.4")  # the failures left the window


def test_limiter_reset_on_success() -> None:
    limiter = LoginRateLimiter(max_failures=1, window_s=60)
    limiter.record_failure("a", "ip")
    limiter.reset("a", "ip")
    limiter.check("a", "ip")


def test_rotating_addresses_or_usernames_meets_the_other_budgets() -> None:
    limiter = LoginRateLimiter(max_failures=5, max_user_failures=3, max_ip_failures=4, window_s=60)
    for i in range(3):
        limiter.record_failure("alice", f"10.0.0.{i}")  # a new address per guess
    with pytest.raises(LoginRateLimited):
        limiter.check("alice", "10.0.0.99")
    for name in ("bob", "carol", "dave", "erin"):
        limiter.record_failure(name, "192.0.2.1")  # a new username per guess
    with pytest.raises(LoginRateLimited):
        limiter.check("frank", "192.0.2.1")


def test_login_failures_are_counted_across_nodes(redis_url: str) -> None:
    node_a = LoginRateLimiter(max_failures=2, window=RedisWindow(redis_url))
    node_b = LoginRateLimiter(max_failures=2, window=RedisWindow(redis_url))
    node_a.record_failure("alice", "192.0.2.1")
    node_b.record_failure("alice", "192.0.2.1")
    with pytest.raises(LoginRateLimited):
        node_a.check("alice", "192.0.2.1")


@pytest.mark.parametrize(
    "next_path", ["https://evil.example/", "//evil.example", "/\\evil", "", None, "staff"]
)
def test_login_redirect_stays_local(next_path: str | None) -> None:
    assert safe_next(next_path) == "/staff"
    assert safe_next("/operator?x=1") == "/operator?x=1"


def test_api_key_is_shown_once_and_stored_hashed(db: Session) -> None:
    user = StaffUser(username="ops", password_hash="x", role="operator")
    db.add(user)
    db.commit()
    key = create_api_key(db, "billing-bot", user)
    row = verify_api_key(db, key)
    assert row is not None and row.name == "billing-bot" and row.created_by_id == user.id
    assert key not in row.key_hash and row.prefix in key
    assert verify_api_key(db, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert verify_api_key(db, "sk-anything") is None
    assert verify_api_key(db, None) is None
    assert revoke_api_key(db, row.id)
    assert verify_api_key(db, key) is None


def test_api_key_name_is_validated(db: Session) -> None:
    with pytest.raises(ValueError, match="name must be"):
        create_api_key(db, "  ", None)
