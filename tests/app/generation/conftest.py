"""Redis for the backend and worker tests: a private server per module, flushed before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app.scaleout_support import flushed, private_redis


# Our own redis-server: other suites flush the shared Redis's test database while they run.
@pytest.fixture(scope="module")
def redis_server() -> Iterator[str]:
    with private_redis() as (url, _):
        yield url


@pytest.fixture()
def redis_url(redis_server: str) -> str:
    return flushed(redis_server)
