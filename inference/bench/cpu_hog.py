"""A real competing process for the contention scenario: a busy loop pinned to the engine's core."""

from __future__ import annotations

import os
import subprocess
import sys

# Pure Python spin: no threads, no allocation, so it takes one core and nothing else.
_SPIN = "while True:\n    pass\n"


class CpuHog:
    """Start and stop a busy-looping child, pinned to ``cpus`` (the caller pins itself there too)."""

    def __init__(self, cpus: set[int] | None = None) -> None:
        self.cpus = cpus
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0

    @property
    def running(self) -> bool:
        """Whether the child is alive."""
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Spawn the spinner (idempotent while it runs)."""
        if self.running:
            return
        self.proc = subprocess.Popen([sys.executable, "-c", _SPIN])
        if self.cpus and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(self.proc.pid, self.cpus)
        self.started += 1

    def stop(self) -> None:
        """Kill the spinner we started and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def tick(self, t: float, window: tuple[float, float] | None) -> None:
        """Run the hog exactly while ``t`` (trace seconds) lies inside ``window``."""
        if window is not None and window[0] <= t < window[1]:
            self.start()
        else:
            self.stop()
