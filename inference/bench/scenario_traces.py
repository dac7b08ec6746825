"""Seeded traces, one per batching policy, each built for the problem that policy exists for.

The bursty trace of ``burst_trace.py`` exercises every policy at once; these are narrower, so a
policy that has a reason to exist gets a trace where that reason shows, and the same trace runs
through ``continuous`` for comparison. Phase labels say which part of a trace an arrival is in
(the contention trace's ``contended`` phase is when the CPU hog runs).
"""

from __future__ import annotations

import random

from inference.bench.burst_trace import Arrival
from inference.bench.trace import FIRST_ORDINARY_ID

PROMPT_TOKENS = (24, 64)  # short chat turns: the model's cost is in the steps, not the prompts


def _prompt(rng: random.Random, lengths: tuple[int, int] = PROMPT_TOKENS) -> tuple[int, ...]:
    return tuple(rng.randrange(FIRST_ORDINARY_ID, 40000) for _ in range(rng.randint(*lengths)))


def _renumber(items: list[tuple[float, int, int, str]], rng: random.Random) -> list[Arrival]:
    """(time, priority, max_new_tokens, phase) sorted by time -> Arrivals indexed in arrival order."""
    items.sort(key=lambda x: x[0])
    return [Arrival(i, t, p, _prompt(rng), n, phase) for i, (t, p, n, phase) in enumerate(items)]


def _poisson(rng: random.Random, start: float, length: float, rate: float) -> list[float]:
    out, t = [], start + rng.expovariate(rate)
    while t < start + length:
        out.append(t)
        t += rng.expovariate(rate)
    return out


def _phased(
    rng: random.Random, phases: list[tuple[str, float, float]], tokens: int, high_share: float = 0.0
) -> list[tuple[float, int, int, str]]:
    """Poisson arrivals phase after phase ((label, seconds, rate)); 1 in 1/high_share high priority."""
    items: list[tuple[float, int, int, str]] = []
    start = 0.0
    for phase, length, rate in phases:
        for t in _poisson(rng, start, length, rate):
            items.append((t, int(rng.random() < high_share), tokens, phase))
        start += length
    return items


def priority_surge(seed: int = 0, background: int = 8, surge: int = 24, high: int = 6) -> list[Arrival]:
    """Long low-priority requests fill the batch, then a surge of low-priority requests arrives
    with a few high-priority ones spread through it: FIFO makes the high ones queue behind it."""
    rng = random.Random(seed)
    items = [(0.05 * i, 0, 24, "background") for i in range(background)]
    items += [(rng.uniform(1.0, 2.0), 0, 12, "surge") for _ in range(surge)]
    # The high-priority requests land in the second half of the surge, behind most of it.
    items += [(rng.uniform(1.5, 2.0), 1, 12, "surge") for _ in range(high)]
    return _renumber(items, rng)


def low_load(seed: int = 0, rate: float = 1.5, length_s: float = 20.0) -> list[Arrival]:
    """Poisson arrivals slow enough that the batch is mostly one or two requests deep."""
    rng = random.Random(seed)
    return _renumber([(t, 0, 12, "quiet") for t in _poisson(rng, 0.0, length_s, rate)], rng)


def load_steps(
    seed: int = 0, low_rate: float = 1.0, high_rate: float = 8.0, low_s: float = 6.0, high_s: float = 3.0
) -> list[Arrival]:
    """Low, high, low load: the TPOT a batch size gives is fine at first and too slow in the middle."""
    rng = random.Random(seed)
    phases = [("low", low_s, low_rate), ("high", high_s, high_rate), ("low", low_s, low_rate)]
    return _renumber(_phased(rng, phases, 16), rng)


def contention(
    seed: int = 0, rate: float = 3.2, length_s: float = 10.0, hog: tuple[float, float] = (3.0, 7.0)
) -> list[Arrival]:
    """Steady arrivals; during ``hog`` (seconds) another process competes for the engine's core."""
    if not 0 <= hog[0] < hog[1] <= length_s:
        raise ValueError(f"hog window must lie within 0..{length_s}, got {hog}")
    rng = random.Random(seed)
    times = _poisson(rng, 0.0, length_s, rate)
    items = [(t, 0, 12, "contended" if hog[0] <= t < hog[1] else "free") for t in times]
    return _renumber(items, rng)


def periodic(
    seed: int = 0, period_s: float = 3.0, periods: int = 8, cluster: int = 4, gap_s: float = 0.12
) -> list[Arrival]:
    """Every ``period_s`` a cluster of ``cluster`` arrivals ``gap_s`` apart (jittered), then silence:
    a pattern a seasonal forecaster can learn, so it knows when holding a request buys company."""
    if not 0 < gap_s * cluster < period_s:
        raise ValueError(f"a cluster ({cluster} x {gap_s} s) must fit inside the period ({period_s} s)")
    rng = random.Random(seed)
    items = []
    for k in range(periods):
        t = k * period_s + rng.uniform(0.0, 0.1)
        for _ in range(cluster):
            items.append((t, 0, 12, "cluster"))
            t += gap_s * rng.uniform(0.7, 1.3)
    return _renumber(items, rng)


def hybrid_mix(seed: int = 0, quiet_rate: float = 1.5, surge_rate: float = 10.0) -> list[Arrival]:
    """Quiet, surge, quiet with one request in five high priority: every rule of hybrid has work."""
    rng = random.Random(seed)
    phases = [("quiet", 4.0, quiet_rate), ("surge", 2.0, surge_rate), ("quiet", 4.0, quiet_rate)]
    return _renumber(_phased(rng, phases, 12, high_share=0.2), rng)
