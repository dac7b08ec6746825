"""Who can answer a hand-off: business hours from the setting, presence from the shared database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from app.inbox.availability import SOON, availability
from app.inbox.hours import DeskHours, save_hours
from app.inbox.presence import ONLINE_WINDOW_S, online_staff, staff_directory, touch
from tests.app.console_support import add_user

WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_closed_desk_says_when_it_opens_and_asks_for_an_email(db: Session) -> None:
    sam = add_user(db, "sam")
    save_hours(db, DeskHours(days=(0, 1, 2, 3, 4), opens=time(9), closes=time(17)), sam)
    touch(db, sam.id, WEDNESDAY_10 + timedelta(hours=8))  # online, but after hours
    found = availability(db, WEDNESDAY_10 + timedelta(hours=8))
    assert (found.live, found.reason) == (False, "closed")
    fields = found.fields()
    assert fields["ask_email"] and fields["back_at"].startswith("2026-12-03T09:00")
    assert "Thu 03 Dec, 09:00 (UTC)" in fields["text"] and "Mon–Fri 09:00–17:00" in fields["text"]


def test_open_desk_with_nobody_online_still_does_not_promise_a_person(db: Session) -> None:
    sam = add_user(db, "sam")
    touch(db, sam.id, WEDNESDAY_10 - timedelta(seconds=ONLINE_WINDOW_S + 1))  # a tab closed a while ago
    found = availability(db, WEDNESDAY_10)
    assert (found.live, found.reason) == (False, "nobody_online")
    assert found.fields()["ask_email"] and "Nobody from our team is online" in found.fields()["text"]


def test_someone_online_in_hours_joins_shortly(db: Session) -> None:
    sam = add_user(db, "sam")
    add_user(db, "kim")
    touch(db, sam.id, WEDNESDAY_10 - timedelta(seconds=5))
    found = availability(db, WEDNESDAY_10)
    assert found.live and found.fields() == {"text": SOON}
    assert [u.username for u in online_staff(db, WEDNESDAY_10)] == ["sam"]
    kim = [u for u in staff_directory(db, WEDNESDAY_10) if u["username"] == "kim"]
    assert [(u["username"], u["online"]) for u in staff_directory(db, WEDNESDAY_10)] == [
        ("kim", False),
        ("sam", True),
    ]
    assert kim and kim[0]["id"] != sam.id
