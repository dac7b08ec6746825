"""API keys from the admin page: the clear key is returned once, listings show only the prefix,
a revoked key stops working, and both changes are audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin.keys import issue_key, list_keys, revoke_key
from app.auth.api_keys import verify_api_key
from app.db.models import AuditEvent
from tests.app.console_support import add_user


def test_issue_list_revoke(db: Session) -> None:
    olga = add_user(db, "olga", "operator")
    key_id, clear = issue_key(db, "crm", olga)
    assert verify_api_key(db, clear) is not None
    [listed] = list_keys(db)
    assert listed["id"] == key_id and listed["created_by"] == "olga" and not listed["revoked"]
    assert clear not in str(listed) and listed["prefix"].startswith(clear.split(".")[0])
    revoke_key(db, key_id, olga)
    assert verify_api_key(db, clear) is None and list_keys(db)[0]["revoked"]
    with pytest.raises(LookupError):
        revoke_key(db, 999_999, olga)
    with pytest.raises(ValueError, match="name must be"):
        issue_key(db, " ", olga)
    events = list(db.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [(e.action, e.target) for e in events] == [
        ("api_key.create", f"api_key:{key_id}"),
        ("api_key.revoke", f"api_key:{key_id}"),
    ]
    assert clear not in str(events[0].details)
