"""API keys from the admin page: create (the clear key is shown once), list, revoke; audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin.audit import record
from app.auth.api_keys import KEY_PREFIX, create_api_key, revoke_api_key
from app.db.models import ApiKey, StaffUser


def key_dict(row: ApiKey, creators: dict[int, str]) -> dict[str, Any]:
    """The JSON shape of a key: never the key or its hash, only the prefix that names it."""
    return {
        "id": row.id,
        "name": row.name,
        "prefix": f"{KEY_PREFIX}{row.prefix}.…",
        "created_by": creators.get(row.created_by_id or 0),
        "created_at": row.created_at.isoformat(timespec="seconds") if row.created_at else None,
        "revoked": row.revoked,
    }


def list_keys(session: Session) -> list[dict[str, Any]]:
    """Every key, newest first."""
    creators = dict(session.execute(select(StaffUser.id, StaffUser.username)).tuples().all())
    return [key_dict(r, creators) for r in session.scalars(select(ApiKey).order_by(ApiKey.id.desc()))]


def issue_key(session: Session, name: str, actor: StaffUser | None) -> tuple[int, str]:
    """Create a key; (its id, the clear key). ValueError for a bad name."""
    clear = create_api_key(session, name, actor)
    prefix = clear[len(KEY_PREFIX) :].split(".", 1)[0]
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one()
    record(session, actor, "api_key.create", f"api_key:{row.id}", name=row.name, prefix=prefix)
    session.commit()
    return row.id, clear


def revoke_key(session: Session, key_id: int, actor: StaffUser | None) -> None:
    """Revoke a key (every later call with it gets 401); LookupError when there is none."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise LookupError(f"no API key with id {key_id}")
    record(session, actor, "api_key.revoke", f"api_key:{key_id}", name=row.name)
    revoke_api_key(session, key_id)  # commits the audit row with the change
