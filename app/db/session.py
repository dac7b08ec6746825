"""Engine and session factory from settings, and the Alembic upgrade run at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from app.config import REPO_ROOT, settings


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine; SQLite gets foreign keys and a busy timeout, Postgres a checked pool."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=10)


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """One engine per database URL for the whole process."""
    return make_engine(url or settings.database_url)


def ping(sessions: sessionmaker[Session]) -> None:
    """One round trip to the database (raises when it does not answer)."""
    with sessions() as session:
        session.execute(text("SELECT 1"))


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    """A sessionmaker bound to the engine of ``url`` (default: the configured database)."""
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """FastAPI dependency: one session per request, closed afterwards."""
    with session_factory()() as session:
        yield session


def upgrade_database(url: str | None = None) -> None:
    """Run `alembic upgrade head` against ``url`` (what the app does at start-up)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(Path(REPO_ROOT) / "migrations"))
    config.set_main_option("sqlalchemy.url", (url or settings.database_url).replace("%", "%%"))
    command.upgrade(config, "head")
