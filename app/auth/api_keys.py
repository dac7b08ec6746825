"""API keys for the OpenAI-compatible API: the clear key is shown once, only a hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import ApiKey, StaffUser

KEY_PREFIX = "sb-"
_PREFIX_CHARS = 8
MAX_NAME_CHARS = 64


def _hash(secret_key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is safe here (no dictionary to guess from), and
    # every API call verifies one: argon2's deliberate slowness would only add latency.
    return hashlib.sha256(secret_key.encode()).hexdigest()


def create_api_key(session: Session, name: str, created_by: StaffUser | None = None) -> str:
    """Store a new key named ``name`` and return the clear key (the only time it is visible)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise ValueError(f"name must be 1..{MAX_NAME_CHARS} characters")
    prefix = secrets.token_hex(_PREFIX_CHARS // 2)
    clear = f"{KEY_PREFIX}{prefix}.{secrets.token_urlsafe(32)}"
    session.add(
        ApiKey(
            name=name,
            prefix=prefix,
            key_hash=_hash(clear),
            created_by_id=created_by.id if created_by is not None else None,
        )
    )
    session.commit()
    return clear


def _split(key: str) -> str | None:
    if not key.startswith(KEY_PREFIX) or "." not in key or len(key) > 200:
        return None
    prefix = key[len(KEY_PREFIX) :].split(".", 1)[0]
    return prefix if len(prefix) == _PREFIX_CHARS else None


def verify_api_key(session: Session, key: str | None) -> ApiKey | None:
    """The live (non-revoked) ApiKey row for ``key``, or None."""
    if not key:
        return None
    prefix = _split(key.strip())
    if prefix is None:
        return None
    digest = _hash(key.strip())
    rows = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked.is_(False)))
    for row in rows:
        if hmac.compare_digest(row.key_hash, digest):
            return row
    return None


def revoke_api_key(session: Session, key_id: int) -> bool:
    """Mark a key revoked; False when there is no such key."""
    row = session.get(ApiKey, key_id)
    if row is None:
        return False
    row.revoked = True
    session.commit()
    return True
