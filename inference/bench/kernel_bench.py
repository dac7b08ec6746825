"""One layer's decode attention: the compiled CPU kernel against the bucketed SDPA path, same cache.

`python -m inference.bench.kernel_bench [threads]`: SmolLM2-135M's attention shape (9 query heads,
3 KV heads, head dim 64, block size 16), contexts drawn from 30-650 on shuffled blocks, batches of
1, 8 and 32, fp32 and bf16; best of 30 alternating runs each, the outputs compared, and the bucket
planning the SDPA path does once per step timed on its own.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable

import torch

import inference.paged_attention as pa
from inference.cpu_features import cpu_info

HEADS, KV_HEADS, DIM, BLOCK = 9, 3, 64, 16
CPU = torch.device("cpu")


def _best_ms(fn: Callable[[], object], repeats: int = 30) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def case(dtype: torch.dtype, n: int, rng: random.Random) -> str:
    """One batch of ``n`` decodes: both paths timed on the same cache, as one report line."""
    lengths = [rng.randint(30, 650) for _ in range(n)]
    blocks = list(range(1, sum(-(-x // BLOCK) for x in lengths) + 1))
    rng.shuffle(blocks)
    it = iter(blocks)
    tables = [[next(it) for _ in range(-(-x // BLOCK))] for x in lengths]
    kc = torch.randn((len(blocks) + 1) * BLOCK, KV_HEADS, DIM).to(dtype)
    vc = torch.randn_like(kc)
    q = torch.randn(n, HEADS, DIM).to(dtype)
    rows, scale, slot_bytes = list(range(n)), DIM**-0.5, KV_HEADS * DIM * kc.element_size()

    def plan(kernel: bool) -> pa.AttentionLayout:
        return pa.build_layout(rows, lengths, tables, [], BLOCK, slot_bytes, CPU, kernel=kernel)

    def run(layout: pa.AttentionLayout) -> torch.Tensor:
        return pa.attend(q, q, q, kc, vc, layout, scale)

    buckets, kernel = plan(False), plan(True)
    diff = float((run(buckets).float() - run(kernel).float()).abs().max())
    sdpa_ms, kernel_ms = _best_ms(lambda: run(buckets)), _best_ms(lambda: run(kernel))
    plan_ms, table_ms = _best_ms(lambda: plan(False)), _best_ms(lambda: plan(True))
    return (
        f"{str(dtype).removeprefix('torch.')} batch {n}: buckets {sdpa_ms:.3f} ms (+{plan_ms:.3f} ms "
        f"planning per step), kernel {kernel_ms:.3f} ms (+{table_ms:.3f}), "
        f"{sdpa_ms / kernel_ms:.2f}x per layer, max |diff| {diff:.1e}"
    )


def main(threads: int = 1) -> None:
    """Print per-layer times of both paths, the planning time and the largest output difference."""
    torch.set_num_threads(threads)
    rng = random.Random(0)
    print(f"CPU: {cpu_info().label()}; {threads} thread(s)")  # noqa: T201
    for dtype in (torch.float32, torch.bfloat16):
        for n in (1, 8, 32):
            print(case(dtype, n, rng))  # noqa: T201


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
