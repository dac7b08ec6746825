"""Replay clocks: the own-CPU clock counts this process's CPU time and exactly the waits it chose."""

from __future__ import annotations

import time

from inference.bench.replay_clock import OwnCpuClock, WallClock


def test_own_cpu_clock_counts_chosen_waits_and_compute_but_not_time_taken_by_others() -> None:
    clock = OwnCpuClock()
    start = clock()
    clock.sleep(0.02)
    assert clock.slept == 0.02 and clock() - start >= 0.02
    before, wall = clock(), time.monotonic()
    sum(i * i for i in range(200_000))  # compute advances it
    assert clock() > before
    # An unrecorded wait (what another process's turn on the core looks like to us) does not.
    before = clock()
    time.sleep(0.05)
    assert clock() - before < 0.02 and time.monotonic() - wall >= 0.05


def test_wall_clock_is_monotonic_time() -> None:
    clock = WallClock()
    a = clock()
    clock.sleep(0.01)
    assert clock() - a >= 0.01
