"""A compiled CPU kernel for decode attention that reads the paged KV pool in place (csrc/paged_decode.cpp).

The bucketed SDPA path (paged_attention.py) copies each bucket's K/V out of the pool, padded to its
longest context, and builds the padded slot lists every step. The kernel walks each sequence's
block table instead and reads each slot's KV heads once, together. Measured on a 2-vCPU AMD EPYC
(avx512_bf16, no AMX), one thread, one layer of SmolLM2-135M attention with contexts 30-650 and
shuffled blocks (``python -m inference.bench.kernel_bench``): bf16 batch 32 2.38 -> 1.29 ms, batch
8 0.81 -> 0.39 ms, batch 1 0.20 -> 0.11 ms; fp32 batch 32 3.36 -> 2.36 ms; and the per-step
planning 0.79-0.91 -> 0.10 ms at batch 32. The engine bench's trace went 2.40x -> 2.98x PEFT
static batches (docs/benchmarks/engine/attention.md).

It is built on first use with the machine's own compiler for the machine's own CPU (cpu_build.py).
Where it cannot be built (no compiler, no ninja) ``load()`` returns None and the engine keeps the
SDPA path.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import torch

from inference.cpu_build import CSRC, build

SOURCE = CSRC / "paged_decode.cpp"
DTYPES = (torch.float32, torch.bfloat16)


@lru_cache(maxsize=1)
def load() -> Any | None:
    """The compiled module (its ``paged_decode``), or None where it cannot be built here."""
    return build("switchboard_paged_decode", SOURCE)


def paged_decode(
    q: torch.Tensor, kc: torch.Tensor, vc: torch.Tensor, tables: torch.Tensor, lengths: torch.Tensor,
    block_size: int, scale: float,
) -> torch.Tensor:
    """Attention output [n, H, D] of one query per sequence q [n, H, D] over its first ``lengths[i]``
    positions in the flat pools kc/vc [slots, Hkv, D], found through ``tables`` [n, blocks] (int64)."""
    module = load()
    if module is None:
        raise RuntimeError("the CPU decode kernel could not be built on this machine")
    return module.paged_decode(q.contiguous(), kc, vc, tables, lengths, block_size, scale)
