"""Shared fixtures: the tokenizer, a tiny random Llama, and (in tests/app) database and client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from sqlalchemy.orm import Session

from app.config import settings
from inference.loading.dummy import build_random_llama
from inference.loading.fetch import ensure_default_model


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The converted SmolLM2-135M-Instruct (the test command fetches it before pytest runs)."""
    return ensure_default_model(settings.model_dir)


@pytest.fixture(scope="session")
def tokenizer(model_dir: Path):
    """SmolLM2's real tokenizer; the tiny model shares its vocabulary."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir))


@pytest.fixture(scope="session")
def tiny_model() -> torch.nn.Module:
    """A 2-layer random Llama (fp32, CPU) with peaked logits so greedy ties are rare."""
    torch.set_num_threads(max(1, torch.get_num_threads()))
    return build_random_llama("tiny", seed=0, initializer_range=0.5)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (parallel runs never collide), migrated."""
    import uuid

    from sqlalchemy import create_engine, text

    from app.db.session import upgrade_database

    admin_url = os.environ.get("SWITCHBOARD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    name = f"sb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    upgrade_database(url)
    yield url
    from app.db.session import get_engine

    get_engine.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture()
def db(pg_url: str) -> Iterator[Session]:
    """A session on the test database; tables are emptied afterwards."""
    from app.db.models import Base
    from app.db.session import session_factory

    with session_factory(pg_url)() as session:
        yield session
        session.rollback()
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        session.commit()


@pytest.fixture()
def redis_url() -> str:
    """The real Redis on loopback, database 15 flushed before each test that uses it."""
    import redis

    url = os.environ.get("SWITCHBOARD_TEST_REDIS", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture()
def sqlite_db(tmp_path: Path) -> Iterator[Session]:
    """A session on a fresh, migrated SQLite file."""
    from app.db.session import get_engine, session_factory, upgrade_database

    url = f"sqlite:///{tmp_path / 'sb.db'}"
    upgrade_database(url)
    with session_factory(url)() as session:
        yield session
    get_engine(url).dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def any_db(request: pytest.FixtureRequest) -> Session:
    """The same test on PostgreSQL (the `db` fixture) and on SQLite: the two databases the app supports."""
    fixture = "db" if request.param == "postgresql" else "sqlite_db"
    return request.getfixturevalue(fixture)
