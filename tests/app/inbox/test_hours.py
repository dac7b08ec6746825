"""Business hours: open/closed in the desk's time zone, the next opening, and refused settings."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from pydantic import ValidationError

from app.inbox.hours import DeskHours

BERLIN = DeskHours(timezone="Europe/Berlin", days=(0, 1, 2, 3, 4), opens=time(9), closes=time(17))


def test_open_inside_hours_in_the_desk_time_zone() -> None:
    # Wed 2026-12-02 08:30 UTC is 09:30 in Berlin (CET, UTC+1): open; 16:30 UTC is 17:30: closed.
    assert BERLIN.is_open(datetime(2026, 12, 2, 8, 30, tzinfo=UTC))
    assert not BERLIN.is_open(datetime(2026, 12, 2, 16, 30, tzinfo=UTC))
    assert not BERLIN.is_open(datetime(2026, 12, 5, 10, 0, tzinfo=UTC))  # Saturday


def test_next_opening_skips_the_weekend() -> None:
    friday_evening = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    back = BERLIN.next_opening(friday_evening)
    assert (back.strftime("%a %H:%M"), back.date().isoformat()) == ("Mon 09:00", "2026-12-07")
    early = BERLIN.next_opening(datetime(2026, 12, 2, 6, 0, tzinfo=UTC))  # 07:00 Berlin: opens today
    assert (early.day, early.hour) == (2, 9)
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert BERLIN.next_opening(now) == now  # open now: now


def test_always_open_and_summary() -> None:
    assert DeskHours(always_open=True).is_open(datetime(2026, 12, 5, 3, 0, tzinfo=UTC))
    assert BERLIN.summary() == "Mon–Fri 09:00–17:00 (Europe/Berlin)"
    assert DeskHours(days=(0, 2)).summary() == "Mon, Wed 09:00–17:00 (UTC)"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"opens": "18:00", "closes": "09:00"}, "opens must be before closes"),
        ({"days": [7]}, "weekday numbers"),
        ({"days": []}, "at least one open day"),
        ({"unanswered_minutes": 0}, "greater than or equal to 1"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DeskHours.model_validate(fields)
