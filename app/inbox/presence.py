"""Who is at the desk: a staff member is online while a console's live stream has touched them recently.

The mark is a column in the shared database, so every API node sees the same staff online (a
stream on node A keeps its owner online for a customer on node B) and SQLite works alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db.models import StaffUser, utcnow

# Streams touch every HEARTBEAT_S; two missed heartbeats and a closed tab is offline.
HEARTBEAT_S = 15.0
ONLINE_WINDOW_S = 45.0


def touch(session: Session, staff_id: int, now: datetime | None = None) -> None:
    """Mark the staff member as seen now."""
    session.execute(update(StaffUser).where(StaffUser.id == staff_id).values(last_seen_at=now or utcnow()))
    session.commit()


def online_staff(session: Session, now: datetime | None = None) -> list[StaffUser]:
    """Active staff members seen within the online window, by name."""
    since = (now or utcnow()) - timedelta(seconds=ONLINE_WINDOW_S)
    stmt = (
        select(StaffUser)
        .where(StaffUser.is_active.is_(True), StaffUser.last_seen_at >= since)
        .order_by(StaffUser.username)
    )
    return list(session.scalars(stmt))


def staff_directory(session: Session, now: datetime | None = None) -> list[dict[str, object]]:
    """Every active staff member with whether they are online (the assign menu)."""
    online = {u.id for u in online_staff(session, now)}
    users = session.scalars(
        select(StaffUser).where(StaffUser.is_active.is_(True)).order_by(StaffUser.username)
    )
    return [{"id": u.id, "username": u.username, "online": u.id in online} for u in users]
