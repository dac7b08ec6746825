"""Import knowledge files into the database and export it back; the app seeds an empty base at start-up."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import KnowledgeEntry
from app.knowledge.entries import SEED_DIR, EntryData, read_entries
from app.knowledge.store import entry_data, list_entries, upsert_entry

IMPORT_ACTOR = "import"
log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    """Which keys an import added, updated, or found unchanged."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the CLI and the start-up log."""
        return f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged"


def import_entries(
    session: Session, entries: Iterable[EntryData], actor: str = IMPORT_ACTOR, note: str = ""
) -> ImportReport:
    """Add or update each entry in one transaction; the same text again writes no new version.

    Entries in the database that the files do not mention are left alone: an import never deletes
    an operator's additions.
    """
    report = ImportReport()
    for entry in entries:
        change = upsert_entry(session, entry, actor, note)
        getattr(report, change).append(entry.key)
    session.commit()
    return report


def import_path(session: Session, path: Path = SEED_DIR, actor: str = IMPORT_ACTOR) -> ImportReport:
    """Import a .jsonl file or a folder of them (default: the seed files shipped in the repo)."""
    return import_entries(session, read_entries(path), actor, note=f"imported from {path.name}")


def seed_if_empty(session: Session, path: Path = SEED_DIR) -> ImportReport | None:
    """Import the seed files when the knowledge base has never held an entry; else do nothing.

    One COUNT on start-up, so a restart costs nothing and entries an operator deleted stay deleted.
    """
    if session.scalar(select(func.count()).select_from(KnowledgeEntry)):
        return None
    return import_path(session, path, actor="seed")


def export_entries(session: Session, include_deleted: bool = False) -> list[EntryData]:
    """The live entries (by kind, then key) as value objects, ready for write_jsonl."""
    return [entry_data(row) for row in list_entries(session, include_deleted=include_deleted)]


def seed_knowledge(sessions: sessionmaker[Session]) -> None:
    """Start-up hook: seed an empty knowledge base so a fresh install answers from the store's facts."""
    with sessions() as session:
        report = seed_if_empty(session)
    if report is not None:
        log.info("knowledge base seeded: %s", report.summary())
