"""Sites that embed the widget: validated settings, stored one row per site, every change audited."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin.audit import record
from app.db.models import Site, StaffUser
from app.widget.origins import normalize_origin

KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"
COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"
MAX_ORIGINS = 20


class SiteSettings(BaseModel):
    """What an operator sets for one site; colours are #rrggbb so they are safe inside CSS."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    business_name: str = Field(min_length=1, max_length=80)
    greeting: str = Field(default="", max_length=500)
    color: str = Field(default="#1f5eff", pattern=COLOR_PATTERN)
    text_color: str = Field(default="#ffffff", pattern=COLOR_PATTERN)
    position: Literal["right", "left"] = "right"
    allowed_origins: list[str] = Field(default_factory=list, max_length=MAX_ORIGINS)
    enabled: bool = True

    @field_validator("business_name", "greeting")
    @classmethod
    def _one_line_text(cls, value: str) -> str:
        value = value.strip()
        if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", value):
            raise ValueError("no control characters")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        return sorted({normalize_origin(v) for v in values if v.strip()})

    @classmethod
    def from_row(cls, row: Site) -> SiteSettings:
        """The settings a stored row holds."""
        return cls(
            key=row.key,
            business_name=row.business_name,
            greeting=row.greeting,
            color=row.color,
            text_color=row.text_color,
            position="left" if row.position == "left" else "right",
            allowed_origins=list(row.allowed_origins or []),
            enabled=row.enabled,
        )

    def allows(self, origin: str) -> bool:
        """True when a page on ``origin`` may embed this site's chat."""
        try:
            return self.enabled and normalize_origin(origin) in self.allowed_origins
        except ValueError:
            return False


def get_site(session: Session, key: str) -> SiteSettings | None:
    """The site's settings, or None when there is no such site."""
    row = session.scalars(select(Site).where(Site.key == key)).first()
    return SiteSettings.from_row(row) if row is not None else None


def site_business_name(session: Session, key: str | None) -> str | None:
    """The business name a widget site's conversations speak for (None: no site, or no such site)."""
    if not key:
        return None
    return session.scalar(select(Site.business_name).where(Site.key == key))


def list_sites(session: Session) -> list[dict[str, Any]]:
    """Every site's settings, by key."""
    return [SiteSettings.from_row(r).model_dump() for r in session.scalars(select(Site).order_by(Site.key))]


def save_site(session: Session, settings: SiteSettings, actor: StaffUser | None) -> SiteSettings:
    """Create or replace the site ``settings.key``; audited with what changed."""
    row = session.scalars(select(Site).where(Site.key == settings.key)).first()
    before = SiteSettings.from_row(row).model_dump() if row is not None else {}
    if row is None:
        row = Site(key=settings.key)
        session.add(row)
    for name, value in settings.model_dump(exclude={"key"}).items():
        setattr(row, name, value)
    row.updated_by = actor.username if actor is not None else None
    after = settings.model_dump()
    changed = {k: after[k] for k in after if before.get(k) != after[k]}
    record(session, actor, "site.create" if not before else "site.update", f"site:{settings.key}", **changed)
    session.commit()
    return settings


def delete_site(session: Session, key: str, actor: StaffUser | None) -> None:
    """Remove a site (its widget stops loading); LookupError when there is none."""
    row = session.scalars(select(Site).where(Site.key == key)).first()
    if row is None:
        raise LookupError(f"no site {key!r}")
    session.delete(row)
    record(session, actor, "site.delete", f"site:{key}")
    session.commit()
