"""The staff list's filter as one validated value object (query string in, SQL conditions out)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from adapters.intents import Intent

STATUSES = ("active", "pending", "human", "closed")
MAX_QUERY_CHARS = 200


class ConversationFilter(BaseModel):
    """Search text plus filters and the page wanted; empty form fields mean 'any'."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    q: str = Field(default="", max_length=MAX_QUERY_CHARS)
    intent: Intent | None = None
    adapter: str | None = Field(default=None, max_length=64)
    status: Literal["active", "pending", "human", "closed"] | None = None
    feedback: Literal["up", "down", "none"] | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = Field(default=1, ge=1, le=100_000)
    per_page: int = Field(default=25, ge=1, le=100)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        # HTML forms submit untouched fields as "", which means "no filter", not "match empty".
        if isinstance(value, str):
            # PostgreSQL text cannot hold NUL; a pasted one would fail the query (500) instead of matching.
            value = value.replace("\x00", "").strip()
        if value is None or value == "":
            return cls.model_fields[str(info.field_name)].default
        return value

    @model_validator(mode="after")
    def _dates_in_order(self) -> ConversationFilter:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to")
        return self

    @property
    def start(self) -> datetime | None:
        """Inclusive lower bound (UTC midnight of date_from)."""
        return datetime.combine(self.date_from, time.min, tzinfo=UTC) if self.date_from else None

    @property
    def end(self) -> datetime | None:
        """Exclusive upper bound (the midnight after date_to), so date_to's whole day is included."""
        if not self.date_to:
            return None
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=UTC)

    def without_page(self) -> dict[str, Any]:
        """The filter as query parameters (for pagination and export links)."""
        data = self.model_dump(mode="json", exclude={"page"}, exclude_none=True)
        return {k: v for k, v in data.items() if v != ""}
