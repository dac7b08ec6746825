"""Knowledge tests run on both databases the app supports: PostgreSQL and SQLite (FTS5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session


@pytest.fixture()
def sqlite_db(tmp_path: Path) -> Iterator[Session]:
    """A session on a fresh, migrated SQLite file."""
    from app.db.session import get_engine, session_factory, upgrade_database

    url = f"sqlite:///{tmp_path / 'kb.db'}"
    upgrade_database(url)
    with session_factory(url)() as session:
        yield session
    get_engine(url).dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def any_db(request: pytest.FixtureRequest) -> Session:
    """The same test on PostgreSQL (the `db` fixture) and on SQLite."""
    fixture = "db" if request.param == "postgresql" else "sqlite_db"
    return request.getfixturevalue(fixture)
