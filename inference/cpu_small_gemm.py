"""A compiled CPU matmul for the few rows of a small-batch decode step (csrc/small_gemm.cpp).

At batch 1-4 every linear layer's weight streams from memory once per step, so decode is bound by
the read; torch's matmul reads it at a third to a half of one core's bandwidth at those shapes. The
kernel streams each weight once, row by row, against all the step's rows. Measured on a 2-vCPU AMD
EPYC (avx512_bf16), one thread, SmolLM2-135M's 211 weights (30 layers and lm_head) streamed from
memory: bf16 batch 1 51.3 -> 17.8 ms, batch 4 44.2 -> 23.1 ms; fp32 batch 1 48.6 -> 22.0 ms,
batch 4 73.0 -> 44.2 ms; at batch 8 they are even and past it torch's blocked GEMM wins, so
``MAX_ROWS`` is 4 (``python -m inference.bench.small_gemm_bench`` prints the table).

It is built on first use for this CPU (cpu_build.py); ``linear_for(dtype)`` is None where it cannot
be built or where the CPU has no path for that dtype (bf16 needs AVX-512 BF16; fp32 AVX2 + FMA).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import torch

from inference.cpu_build import CSRC, build

SOURCE = CSRC / "small_gemm.cpp"
MAX_ROWS = 4  # the measured crossover with torch's matmul (see above)

Linear = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


@lru_cache(maxsize=1)
def load() -> Any | None:
    """The compiled module (``linear``, ``supported``), or None where it cannot be built here."""
    return build("switchboard_small_gemm", SOURCE)


def supported_dtypes() -> tuple[torch.dtype, ...]:
    """The dtypes this CPU's build computes (read from the build, which knows what it compiled)."""
    module = load()
    if module is None:
        return ()
    return tuple(getattr(torch, name) for name in module.supported())


def linear_for(dtype: torch.dtype) -> Linear | None:
    """``linear(x [M, K], weight [N, K], bias)`` for ``dtype`` on this CPU, or None."""
    module = load()
    if module is None or dtype not in supported_dtypes():
        return None
    fn: Linear = module.linear
    return fn
