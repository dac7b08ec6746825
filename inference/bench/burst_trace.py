"""A seeded bursty trace: quiet, surge, quiet phases of Poisson arrivals with mixed priorities."""

from __future__ import annotations

import random
from dataclasses import dataclass

from inference.bench.trace import FIRST_ORDINARY_ID


@dataclass(frozen=True)
class BurstSpec:
    """Phases (seconds, requests/s): quiet, surge, quiet; 1 in ``high_share`` requests is high priority."""

    quiet_s: float = 2.0
    quiet_rate: float = 3.0
    surge_s: float = 2.0
    surge_rate: float = 40.0
    high_share: float = 0.2
    prompt_tokens: tuple[int, int] = (16, 96)
    output_tokens: tuple[int, int] = (8, 48)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("quiet_s", "quiet_rate", "surge_s", "surge_rate"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.high_share <= 1:
            raise ValueError(f"high_share must be within 0..1, got {self.high_share}")


@dataclass(frozen=True)
class Arrival:
    """One request of the trace."""

    index: int
    arrival_s: float
    priority: int
    prompt_ids: tuple[int, ...]
    max_new_tokens: int
    phase: str


def bursty_trace(spec: BurstSpec, surge: bool = True, quiet_length_s: float | None = None) -> list[Arrival]:
    """Poisson arrivals phase by phase; ``surge=False`` gives the quiet-only trace of equal length."""
    rng = random.Random(spec.seed)
    phases = [
        ("quiet", spec.quiet_s, spec.quiet_rate),
        ("surge", spec.surge_s, spec.surge_rate),
        ("quiet", spec.quiet_s, spec.quiet_rate),
    ]
    if not surge:
        length = quiet_length_s or 2 * spec.quiet_s + spec.surge_s
        phases = [("quiet", length, spec.quiet_rate)]
    out: list[Arrival] = []
    start = 0.0
    for phase, length, rate in phases:
        t = start + rng.expovariate(rate)
        while t < start + length:
            prompt = tuple(
                rng.randrange(FIRST_ORDINARY_ID, 40000) for _ in range(rng.randint(*spec.prompt_tokens))
            )
            prio = 1 if rng.random() < spec.high_share else 0
            out.append(Arrival(len(out), t, prio, prompt, rng.randint(*spec.output_tokens), phase))
            t += rng.expovariate(rate)
        start += length
    return out
