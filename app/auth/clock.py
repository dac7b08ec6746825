"""The wall clock as a replaceable dependency, so tests can move time instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


def system_clock() -> float:
    """Seconds since the epoch."""
    return time.time()


def get_clock() -> Clock:
    """FastAPI dependency returning the clock; tests override it to freeze or advance time."""
    return system_clock
