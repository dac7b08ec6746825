"""Nodes that start together on a fresh PostgreSQL database migrate one at a time, all successfully."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect, text

from app.db.session import get_engine

ADMIN_URL = os.environ.get("SWITCHBOARD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
UPGRADE = "import sys; from app.db.session import upgrade_database; upgrade_database(sys.argv[1])"


@pytest.fixture()
def fresh_pg() -> Iterator[str]:
    name = f"sb_lock_{uuid.uuid4().hex[:12]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    get_engine.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_four_nodes_starting_at_once_all_migrate(fresh_pg: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    command = [sys.executable, "-c", UPGRADE, fresh_pg]
    nodes = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in nodes]
    assert [p.returncode for p in nodes] == [0, 0, 0, 0], "\n".join(errors)
    engine = create_engine(fresh_pg)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        locks = conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar()
    assert len(versions) == 1 and "messages" in inspect(engine).get_table_names()
    assert locks == 0  # every node let go of the lock
    engine.dispose()
