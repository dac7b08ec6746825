"""The few-row CPU matmul against torch's at decode shapes, weights streamed from memory.

    python -m inference.bench.small_gemm_bench [--threads 1]

One pass multiplies M rows by each of SmolLM2-135M's 211 weight matrices (30 layers' q, k, v, o,
gate, up, down and lm_head), random, 540 MB in fp32: more than any cache, as in a decode step.
Prints the best of four passes per dtype and M, torch and the kernel, and the read bandwidth.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

from inference import cpu_small_gemm
from inference.cpu_features import cpu_info

LAYER_SHAPES = ((576, 576), (192, 576), (192, 576), (576, 576), (1536, 576), (1536, 576), (576, 1536))
LAYERS, VOCAB = 30, 49152


def best_pass(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], xs: dict[int, torch.Tensor],
              weights: list[torch.Tensor], repeats: int = 4) -> float:
    """Seconds of the fastest of ``repeats`` passes over every weight (after one warm-up pass)."""
    for w in weights:
        fn(xs[w.shape[1]], w)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for w in weights:
            fn(xs[w.shape[1]], w)
        best = min(best, time.perf_counter() - start)
    return best


def without_bias(linear: cpu_small_gemm.Linear) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    return lambda x, w: linear(x, w, None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"CPU: {cpu_info().label()}; {args.threads} thread(s)")
    print(f"{'dtype':9} {'M':>3} {'torch ms':>9} {'kernel ms':>10} {'speed-up':>9} {'kernel GB/s':>12}")
    for dtype in cpu_small_gemm.supported_dtypes():
        linear = cpu_small_gemm.linear_for(dtype)
        assert linear is not None
        weights = [torch.randn(n, k, dtype=dtype) for _ in range(LAYERS) for n, k in LAYER_SHAPES]
        weights.append(torch.randn(VOCAB, 576, dtype=dtype))
        size = sum(w.numel() * w.element_size() for w in weights)
        for rows in (1, 2, 4, 8, 16):
            xs = {k: torch.randn(rows, k, dtype=dtype) for k in (576, 1536)}
            ours = best_pass(without_bias(linear), xs, weights)
            theirs = best_pass(torch.nn.functional.linear, xs, weights)
            print(f"{str(dtype)[6:]:9} {rows:3d} {theirs * 1e3:9.1f} {ours * 1e3:10.1f} "
                  f"{theirs / ours:8.2f}x {size / ours / 1e9:12.1f}")  # fmt: skip
        del weights


if __name__ == "__main__":
    main()
