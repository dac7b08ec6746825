"""The sampler's fast paths give HF's answer: nucleus over the best candidates, unseeded draws."""

from __future__ import annotations

import pytest
import torch
from transformers.generation.logits_process import TopPLogitsWarper

from inference.params import SamplingParams
from inference.sampler import TOP_P_CANDIDATES, apply_top_p, sample_row

VOCAB = 49152  # SmolLM2's: wider than TOP_P_CANDIDATES, so the fast path runs


def _hf_top_p(row: torch.Tensor, p: float) -> torch.Tensor:
    return TopPLogitsWarper(p)(torch.zeros(1, 1, dtype=torch.long), row.clone()[None])[0]


@pytest.mark.parametrize("scale", [2.0, 4.0, 8.0])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9, 0.95])
def test_nucleus_over_the_best_candidates_equals_hf_on_whole_rows(scale: float, p: float) -> None:
    gen = torch.Generator().manual_seed(int(scale * 100 + p * 10))
    for _ in range(6):
        row = torch.randn(VOCAB, generator=gen) * scale
        ours = apply_top_p(row, p)
        kept = int(torch.isfinite(ours).sum())
        assert torch.equal(ours, _hf_top_p(row, p)), f"scale {scale}, p {p}: {kept} kept"


def test_a_flat_row_whose_nucleus_is_wider_than_the_candidates_falls_back_to_the_full_sort() -> None:
    row = torch.randn(VOCAB, generator=torch.Generator().manual_seed(1)) * 0.1
    ours = apply_top_p(row, 0.9)
    assert int(torch.isfinite(ours).sum()) > TOP_P_CANDIDATES
    assert torch.equal(ours, _hf_top_p(row, 0.9))


def test_unseeded_draws_come_only_from_kept_tokens_with_their_probabilities() -> None:
    # A small row: the draw's path does not depend on the width, and wide top-k is slow on a busy box.
    row = torch.randn(600, generator=torch.Generator().manual_seed(2))
    row[[5, 77, 555]] = torch.tensor([32.0, 31.0, 30.0])  # kept by top-k 3: ~0.665 / 0.245 / 0.090
    params = SamplingParams(temperature=1.0, top_k=3)
    torch.manual_seed(0)
    draws = [sample_row(row, params, None) for _ in range(3000)]
    assert set(draws) <= {5, 77, 555}
    expected = torch.tensor([32.0, 31.0, 30.0]).softmax(-1).tolist()
    for token, want in zip((5, 77, 555), expected, strict=True):
        assert abs(draws.count(token) / len(draws) - want) < 0.03, (token, draws.count(token))
