"""Decode-step forward time of the bucketed attention against one padded gather and per-sequence.

`python -m inference.bench.attention_bench [shape] [threads]`: random weights of a dummy shape,
decoding batches of 1, 8 and 32 with contexts drawn from 30-650, each layout timed alternately
(best of several) on the same cache, with the logits of every layout compared.
"""

from __future__ import annotations

import random
import sys
import time

import torch

import inference.paged_attention as pa
from inference.kv_cache import KVBlockPool
from inference.loading.dummy import build_random_llama
from inference.model_runner import BatchItem, ModelRunner, kv_shape
from inference.sequence import Sequence

# (slack, bytes): the engine's buckets; everything in one padded gather (the old layout); one per sequence.
LAYOUTS = {"bucketed": (pa.BUCKET_SLACK, pa.BUCKET_BYTES), "one_padded": (1e9, 1 << 62), "per_seq": (1.0, 1)}


def _decoding_batch(model: torch.nn.Module, size: int, rng: random.Random) -> tuple[ModelRunner, list]:
    pool = KVBlockPool(kv_shape(model), 49152 // 16, 16, torch.device("cpu"))
    items = []
    for _ in range(size):
        n = rng.randint(30, 650)
        seq = Sequence(token_ids=[rng.randrange(100, 49000) for _ in range(n)], prompt_len=n)
        assert pool.prepare_write(seq, 0, n)
        items.append(BatchItem(seq.token_ids[-1:], n - 1, seq.block_table, None, True))
    return ModelRunner(model, pool), items


def main(shape: str = "smollm2-135m", threads: int = 1) -> None:
    """Print best forward time per layout and batch size, and whether the logits agree."""
    torch.set_num_threads(threads)
    model = build_random_llama(shape)
    rng = random.Random(0)
    defaults = pa.plan_buckets.__defaults__
    try:
        for size in (1, 8, 32):
            runner, items = _decoding_batch(model, size, rng)
            best = dict.fromkeys(LAYOUTS, float("inf"))
            logits: dict[str, torch.Tensor] = {}
            for _ in range(7 if size < 32 else 4):
                for name, (slack, cap) in LAYOUTS.items():
                    pa.plan_buckets.__defaults__ = (slack, cap)
                    start = time.perf_counter()
                    logits[name] = runner.forward(items)
                    best[name] = min(best[name], time.perf_counter() - start)
            ref = logits["one_padded"]
            same = all(bool((o.argmax(-1) == ref.argmax(-1)).all()) for o in logits.values())
            diff = max(float((o - ref).abs().max()) for o in logits.values())
            times = " ".join(f"{k}={v * 1e3:.1f}ms" for k, v in best.items())
            print(f"{shape} batch {size}: {times} same argmax={same} max|dlogit|={diff:.1e}")  # noqa: T201
    finally:
        pa.plan_buckets.__defaults__ = defaults


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "smollm2-135m", int(sys.argv[2]) if len(sys.argv) > 2 else 1)
