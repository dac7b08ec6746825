"""The guard's own CPU time per token, replayed without the model, so shared-CPU noise cannot hide it.

End-to-end ratios on a loaded machine swing by tens of percent between repeats of the *same*
mode; the constraint's cost is small next to a decode step, so it is also timed alone: every
(c) reply of a run is re-tokenised and fed through a fresh ``NumberGuard`` (constrain + advance per
token, the engine's calls), once with empty mask caches (cold, as measured in the run) and once
with the caches it filled (warm: a later reply with the same retrieved facts).
"""

from __future__ import annotations

import time
from typing import Any

import torch

from inference.bench.guard_prompts import PROMPTS
from inference.number_guard import allowed_values, clear_mask_caches, guard_for


def guard_overhead(
    tokenizer: Any, vocab_size: int, texts: dict[int, str], max_new_tokens: int
) -> dict[str, Any]:
    """Microseconds of guard work per generated token, cold and warm caches."""
    eos = [int(tokenizer.eos_token_id)]
    row = torch.zeros(vocab_size)
    replies = [
        (allowed_values(PROMPTS[int(i)].fact_texts()), tokenizer(t, add_special_tokens=False)["input_ids"])
        for i, t in texts.items()
    ]
    out: dict[str, Any] = {"tokens": sum(len(ids) for _, ids in replies)}
    clear_mask_caches()
    for phase in ("cold", "warm"):
        started = time.perf_counter()
        for allowed, ids in replies:
            guard = guard_for(tokenizer, allowed, eos, vocab_size)
            for n, token in enumerate(ids):
                guard.constrain(row, 0, max_new_tokens - n - 1)
                guard.advance(0, token)
        out[f"{phase}_us_per_token"] = 1e6 * (time.perf_counter() - started) / max(1, out["tokens"])
    return out


def predicted_ratio(us_per_token: float, tpot_ms: float, batch: int) -> float:
    """TPOT with the guard / without: every step runs ``batch`` guarded rows on top of one forward."""
    return 1.0 + batch * us_per_token / (1e3 * tpot_ms)
