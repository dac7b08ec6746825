"""A seeded synthetic chat trace: Poisson arrivals, an adapter mix, prompt and answer lengths."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field

DEFAULT_MIX: dict[str, float] = {"general": 0.5, "tech_support": 0.3, "sales": 0.2}
# Ids below this are special/control tokens in SmolLM2's vocabulary; prompts avoid them.
FIRST_ORDINARY_ID = 100


@dataclass(frozen=True)
class TraceSpec:
    """What to generate; every field is validated so a bad CLI option fails with its name."""

    num_requests: int = 32
    rate: float = 2.0  # mean arrivals per second
    seed: int = 0
    prompt_tokens: tuple[int, int] = (30, 400)
    output_tokens: tuple[int, int] = (16, 256)
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    vocab_size: int = 49152

    def __post_init__(self) -> None:
        if self.num_requests < 1:
            raise ValueError(f"num_requests must be >= 1, got {self.num_requests}")
        if not self.rate > 0:
            raise ValueError(f"rate must be > 0 requests/s, got {self.rate}")
        for name in ("prompt_tokens", "output_tokens"):
            lo, hi = getattr(self, name)
            if not 1 <= lo <= hi:
                raise ValueError(f"{name} must be a range 1 <= low <= high, got {(lo, hi)}")
        if not self.mix or any(w < 0 for w in self.mix.values()) or sum(self.mix.values()) <= 0:
            raise ValueError(f"mix must give non-negative weights with a positive sum, got {self.mix}")
        if self.vocab_size <= FIRST_ORDINARY_ID:
            raise ValueError(f"vocab_size must exceed {FIRST_ORDINARY_ID}, got {self.vocab_size}")


@dataclass(frozen=True)
class TraceRequest:
    """One chat turn: when it arrives (seconds from the start), its adapter, prompt and length."""

    index: int
    arrival_s: float
    adapter: str
    prompt_ids: tuple[int, ...]
    max_new_tokens: int


def make_trace(spec: TraceSpec) -> list[TraceRequest]:
    """Draw the trace; the same spec always gives the same requests."""
    rng = random.Random(spec.seed)
    names = list(spec.mix)
    weights = [spec.mix[n] for n in names]
    now = 0.0
    trace = []
    for i in range(spec.num_requests):
        if i:  # the first request opens the trace at t=0
            now += rng.expovariate(spec.rate)
        prompt_len = rng.randint(*spec.prompt_tokens)
        prompt = tuple(rng.randrange(FIRST_ORDINARY_ID, spec.vocab_size) for _ in range(prompt_len))
        trace.append(
            TraceRequest(
                index=i,
                arrival_s=now,
                adapter=rng.choices(names, weights)[0],
                prompt_ids=prompt,
                max_new_tokens=rng.randint(*spec.output_tokens),
            )
        )
    return trace


def stratified_sample(trace: list[TraceRequest], count: int) -> list[TraceRequest]:
    """``count`` requests spread evenly over the ranks of answer length, in arrival order.

    A slow baseline that runs only a part of the trace must run a part with the trace's mix of
    short and long answers (the first few requests are not: their mean length is luck).
    Arrival times are kept, so the sample sees the same start and load as the whole trace.
    """
    count = max(1, min(count, len(trace)))
    by_length = sorted(trace, key=lambda r: (r.max_new_tokens, r.index))
    step = len(trace) / count
    picked = {by_length[int(step * i + step / 2)].index for i in range(count)}
    return [r for r in trace if r.index in picked]


def describe(spec: TraceSpec, trace: list[TraceRequest]) -> dict[str, object]:
    """JSON-ready summary of the trace for the results file."""
    counts = {name: sum(r.adapter == name for r in trace) for name in spec.mix}
    data = asdict(spec)
    data.update(
        span_s=trace[-1].arrival_s,
        prompt_tokens_total=sum(len(r.prompt_ids) for r in trace),
        output_tokens_total=sum(r.max_new_tokens for r in trace),
        adapter_counts=counts,
    )
    json.dumps(data)  # fail here, not when writing results, if something is not serialisable
    return data
