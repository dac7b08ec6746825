"""Decode batch buckets: every batch up to the maximum fits exactly one smallest bucket."""

from __future__ import annotations

import pytest

from inference.decode_buckets import bucket_sizes, pad_rows, pick_bucket


def test_bucket_sizes_are_powers_of_two_then_the_maximum() -> None:
    assert bucket_sizes(64) == (1, 2, 4, 8, 16, 32, 64)
    assert bucket_sizes(48) == (1, 2, 4, 8, 16, 32, 48)
    assert bucket_sizes(1) == (1,)
    assert bucket_sizes(64, growth=4) == (1, 4, 16, 64)  # CUDA: fewer compiles and captures
    assert bucket_sizes(48, growth=4) == (1, 4, 16, 48)
    with pytest.raises(ValueError):
        bucket_sizes(0)
    with pytest.raises(ValueError, match="growth"):
        bucket_sizes(8, growth=1)


def test_pick_bucket_takes_the_smallest_that_fits() -> None:
    sizes = bucket_sizes(48)
    assert [pick_bucket(n, sizes) for n in (1, 2, 3, 5, 17, 33, 48)] == [1, 2, 4, 8, 32, 48, 48]
    assert pick_bucket(49, sizes) is None
    assert pick_bucket(0, sizes) is None


def test_pad_rows() -> None:
    assert pad_rows([3, 4], 4, 0) == [3, 4, 0, 0]
    assert pad_rows([], 2, -1) == [-1, -1]
    with pytest.raises(ValueError, match="bucket"):
        pad_rows([1, 2, 3], 2, 0)
