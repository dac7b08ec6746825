"""Clocks a trace replay runs on: the wall clock, or this process's own CPU time plus its waits.

On a machine shared with other busy processes (this project's CI box runs several at once) the
wall clock measures the OS scheduler as much as the engine: a step that costs 80 ms of CPU takes
800 ms when the engine gets a tenth of a core. The own-CPU clock advances only while this process
computes or deliberately waits for the next arrival, so latencies measured on it are what the
engine would show on a core of its own. The contention scenario, whose point is another process
taking the CPU away, keeps the wall clock.
"""

from __future__ import annotations

import time


class WallClock:
    """time.monotonic, with a sleep that waits for real."""

    name = "wall"

    def __call__(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        time.sleep(seconds)


class OwnCpuClock:
    """CPU seconds of this process plus every second it chose to sleep (waiting for arrivals)."""

    name = "own-cpu"

    def __init__(self) -> None:
        self.slept = 0.0

    def __call__(self) -> float:
        return time.process_time() + self.slept

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of wall time and count exactly that much, however long it really took."""
        time.sleep(seconds)
        self.slept += seconds


ReplayClock = WallClock | OwnCpuClock
