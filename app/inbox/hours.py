"""Business hours and the desk's thresholds as one validated value object, stored as an operator setting."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from app.db.models import DeskSetting, StaffUser

NAME = "desk"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class DeskHours(BaseModel):
    """When a person answers (weekdays 0=Mon..6=Sun, opens..closes local time) and when a wait is too long."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    # A conversation pending this long without a staff reply is flagged in the inbox.
    unanswered_minutes: int = Field(default=5, ge=1, le=24 * 60)
    # Off: a person may answer at any hour (only "nobody online" sends customers to the email form).
    always_open: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)"
            ) from None
        return value

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 0 or d > 6 for d in value):
            raise ValueError("days must be weekday numbers 0 (Monday) to 6 (Sunday)")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _opens_before_closes(self) -> DeskHours:
        if self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        if not self.days and not self.always_open:
            raise ValueError("pick at least one open day, or always_open")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The desk's time zone."""
        return ZoneInfo(self.timezone)

    def is_open(self, now: datetime) -> bool:
        """Whether ``now`` (aware) falls inside business hours."""
        if self.always_open:
            return True
        local = now.astimezone(self.zone)
        return local.weekday() in self.days and self.opens <= local.time() < self.closes

    def next_opening(self, now: datetime) -> datetime:
        """The next moment the desk opens (``now`` itself when open), in the desk's time zone."""
        local = now.astimezone(self.zone)
        if self.is_open(now):
            return local
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            start = datetime.combine(day, self.opens, tzinfo=self.zone)
            if day.weekday() in self.days and start > local:
                return start
        raise AssertionError("a week always holds an open day")  # the validator guarantees one

    def summary(self) -> str:
        """A line for customers and staff, e.g. 'Mon–Fri 09:00–17:00 (Europe/Berlin)'."""
        if self.always_open:
            return "every day, around the clock"
        names = ", ".join(DAYS[d] for d in self.days)
        if self.days == tuple(range(self.days[0], self.days[-1] + 1)) and len(self.days) > 2:
            names = f"{DAYS[self.days[0]]}–{DAYS[self.days[-1]]}"
        return f"{names} {self.opens:%H:%M}–{self.closes:%H:%M} ({self.timezone})"


def load_hours(session: Session) -> DeskHours:
    """The operators' setting, or the defaults (Mon–Fri 09:00–17:00 UTC, flag after 5 minutes)."""
    row = session.get(DeskSetting, NAME)
    return DeskHours.model_validate(row.value) if row is not None else DeskHours()


def save_hours(session: Session, hours: DeskHours, user: StaffUser) -> DeskHours:
    """Store a new setting (validated already); every node reads it on the next hand-off."""
    value: dict[str, Any] = hours.model_dump(mode="json")
    row = session.get(DeskSetting, NAME)
    if row is None:
        session.add(DeskSetting(name=NAME, value=value, updated_by_id=user.id))
    else:
        row.value, row.updated_by_id = value, user.id
    session.commit()
    return hours
