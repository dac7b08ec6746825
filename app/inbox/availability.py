"""What a customer who asks for a person is told: someone joins shortly, or when to expect an answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.db.models import utcnow
from app.inbox.hours import DeskHours, load_hours
from app.inbox.presence import online_staff

SOON = "A member of our team will join this chat shortly."


@dataclass(frozen=True)
class Availability:
    """Whether a person can answer now; if not, when the desk opens and why nobody is there."""

    live: bool
    reason: str  # open | closed | nobody_online
    back_at: datetime | None
    hours: DeskHours

    def notice(self) -> str:
        """The sentence the customer reads when asking for a person."""
        if self.live:
            return SOON
        if self.reason == "closed" and self.back_at is not None:
            return (
                f"Our team is away right now; we answer {self.hours.summary()}. Expect an answer from "
                f"{self._when()}. Leave your email and we will reply there, or keep this page open."
            )
        return (
            "Nobody from our team is online right now. We will answer as soon as someone is back; "
            "leave your email and we will reply there, or keep this page open."
        )

    def reminder(self) -> str:
        """The shorter line under each message the customer writes while still waiting."""
        if self.reason == "closed" and self.back_at is not None:
            return f"Saved for our team. Expect an answer from {self._when()}."
        return "Saved for our team. We will answer as soon as someone is back."

    def _when(self) -> str:
        assert self.back_at is not None
        return f"{self.back_at:%a %d %b, %H:%M} ({self.hours.timezone})"

    def fields(self) -> dict[str, Any]:
        """What the hand-off status event carries for the chat page (text and the email offer)."""
        if self.live:
            return {"text": SOON}
        return {
            "text": self.notice(),
            "away": True,
            "ask_email": True,
            "back_at": self.back_at.isoformat() if self.back_at else None,
        }


def availability(session: Session, now: datetime | None = None) -> Availability:
    """Business hours from the operators' setting and staff presence from the shared database."""
    now = now or utcnow()
    hours = load_hours(session)
    if not hours.is_open(now):
        return Availability(False, "closed", hours.next_opening(now), hours)
    if not online_staff(session, now):
        return Availability(False, "nobody_online", None, hours)
    return Availability(True, "open", None, hours)
