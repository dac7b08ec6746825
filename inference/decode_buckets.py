"""Fixed decode batch sizes: a step's decodes are padded up to the next bucket.

Static shapes let ``torch.compile`` build one flex kernel per bucket instead of one per batch
size, and let CUDA graphs capture one decode forward per bucket. Powers of two waste at most half
a bucket of rows, and padded rows cost little in decode, which is bound by reading the weights.
On CUDA buckets grow by 4 (``CUDA_GROWTH``): there a padded row costs next to nothing below ~100
rows (bf16 matmuls stay bound by the weight reads), while each bucket costs one kernel compile and
one graph capture.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from typing import TypeVar

T = TypeVar("T")

CUDA_GROWTH = 4


def bucket_sizes(max_batch: int, growth: int = 2) -> tuple[int, ...]:
    """Powers of ``growth`` below ``max_batch``, then ``max_batch`` itself (every batch fits one)."""
    if max_batch < 1:
        raise ValueError(f"max_batch must be >= 1, got {max_batch}")
    if growth < 2:
        raise ValueError(f"bucket growth must be >= 2, got {growth}")
    sizes = []
    size = 1
    while size < max_batch:
        sizes.append(size)
        size *= growth
    sizes.append(max_batch)
    return tuple(sizes)


def pick_bucket(n: int, sizes: Seq[int]) -> int | None:
    """The smallest bucket holding ``n`` rows; None when none does (or ``n`` is 0)."""
    if n <= 0:
        return None
    for size in sorted(sizes):
        if size >= n:
            return size
    return None


def pad_rows(values: Seq[T], size: int, fill: T) -> list[T]:
    """``values`` followed by ``fill`` up to ``size`` entries (ValueError when there are more)."""
    if len(values) > size:
        raise ValueError(f"{len(values)} rows do not fit a bucket of {size}")
    return [*values, *[fill] * (size - len(values))]
