"""The contention scenario's CPU hog: a real child process, running only inside its window."""

from __future__ import annotations

import os

from inference.bench.cpu_hog import CpuHog


def test_the_hog_runs_inside_its_window_only_and_is_pinned() -> None:
    cpus = {min(os.sched_getaffinity(0))}
    hog = CpuHog(cpus)
    try:
        hog.tick(0.5, (1.0, 2.0))
        assert not hog.running
        hog.tick(1.0, (1.0, 2.0))
        assert hog.running and hog.proc is not None
        assert os.sched_getaffinity(hog.proc.pid) == cpus
        pid = hog.proc.pid
        hog.tick(1.5, (1.0, 2.0))
        assert hog.proc.pid == pid and hog.started == 1  # one child for the whole window
        hog.tick(2.0, (1.0, 2.0))
        assert not hog.running
    finally:
        hog.stop()
    assert not hog.running
