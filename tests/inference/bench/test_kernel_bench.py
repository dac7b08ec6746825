"""kernel_bench: both decode paths timed on one cache, and their outputs agree."""

from __future__ import annotations

import random
import re

import torch

from inference.bench.kernel_bench import case


def test_a_case_reports_both_paths_and_a_small_difference() -> None:
    line = case(torch.float32, 3, random.Random(1))
    assert line.startswith("float32 batch 3: buckets ") and "x per layer" in line
    diff = float(re.search(r"max \|diff\| (\S+)$", line).group(1))  # type: ignore[union-attr]
    assert diff < 1e-5
