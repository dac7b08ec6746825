"""Logits processors match Hugging Face's; seeded rows are independent of their batch neighbours."""

from __future__ import annotations

import pytest
import torch
from transformers.generation.logits_process import (
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from inference.params import SamplingParams
from inference.sampler import (
    apply_repetition_penalty,
    apply_temperature,
    apply_top_k,
    apply_top_p,
    make_generator,
    select_tokens,
)

V = 97


@pytest.fixture()
def scores() -> torch.Tensor:
    return torch.randn(1, V, generator=torch.Generator().manual_seed(3)) * 3


def test_repetition_penalty_matches_hf(scores: torch.Tensor) -> None:
    history = [5, 9, 9, 40, 96]
    ours = apply_repetition_penalty(scores[0], history, 1.3)
    theirs = RepetitionPenaltyLogitsProcessor(1.3)(torch.tensor([history]), scores.clone())[0]
    assert torch.equal(ours, theirs)
    assert not torch.equal(ours, scores[0])


@pytest.mark.parametrize("k", [1, 5, 50])
def test_top_k_matches_hf(scores: torch.Tensor, k: int) -> None:
    ours = apply_top_k(scores, k)
    theirs = TopKLogitsWarper(k)(torch.zeros(1, 1, dtype=torch.long), scores.clone())
    assert torch.equal(ours, theirs)
    assert int(torch.isfinite(ours).sum()) == k


@pytest.mark.parametrize("p", [0.05, 0.5, 0.9, 0.999])
def test_top_p_matches_hf(scores: torch.Tensor, p: float) -> None:
    ours = apply_top_p(scores, p)
    theirs = TopPLogitsWarper(p)(torch.zeros(1, 1, dtype=torch.long), scores.clone())
    assert torch.equal(ours, theirs)
    assert int(torch.isfinite(ours).sum()) >= 1


def test_temperature_matches_hf(scores: torch.Tensor) -> None:
    theirs = TemperatureLogitsWarper(0.6)(torch.zeros(1, 1, dtype=torch.long), scores.clone())
    assert torch.equal(apply_temperature(scores, 0.6), theirs)


def test_off_values_are_identity(scores: torch.Tensor) -> None:
    assert torch.equal(apply_top_k(scores, 0), scores)
    assert torch.equal(apply_top_p(scores, 1.0), scores)
    assert torch.equal(apply_repetition_penalty(scores[0], [1, 2], 1.0), scores[0])


def test_greedy_rows_take_argmax_after_penalty() -> None:
    logits = torch.zeros(2, V)
    logits[:, 10] = 5.0
    logits[:, 11] = 4.0
    plain = SamplingParams.greedy()
    penalised = SamplingParams.greedy(repetition_penalty=2.0)
    assert select_tokens(logits, [plain, penalised], [None, None], [[10], [10]]) == [10, 11]


def test_seeded_row_is_independent_of_batch() -> None:
    logits = torch.randn(4, V, generator=torch.Generator().manual_seed(0))
    seeded = SamplingParams(temperature=0.9, top_p=0.95, seed=11)
    others = [SamplingParams(temperature=1.3), SamplingParams.greedy(), SamplingParams(top_k=3)]

    def draw(batch_rows: list[int], row_of_seeded: int) -> list[int]:
        gen = make_generator(11)
        out = []
        for _ in range(20):
            params = [others[i % 3] for i in range(len(batch_rows))]
            params[row_of_seeded] = seeded
            gens = [None] * len(batch_rows)
            gens[row_of_seeded] = gen
            picked = select_tokens(logits[batch_rows], params, gens, [[]] * len(batch_rows))
            out.append(picked[row_of_seeded])
        return out

    alone = draw([2], 0)
    assert draw([0, 1, 2, 3], 2) == alone
    assert draw([2, 3], 0) == alone
    assert len(set(alone)) > 1  # really sampling, not argmax


def test_mismatched_lengths_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="rows"):
        select_tokens(torch.zeros(2, V), [SamplingParams()], [None], [[]])


def test_make_generator_none_without_seed() -> None:
    assert make_generator(None) is None
    a, b = make_generator(5), make_generator(5)
    assert a is not None and b is not None
    assert torch.equal(torch.rand(3, generator=a), torch.rand(3, generator=b))


def _our_generate(model, prompt: list[int], params: SamplingParams) -> list[int]:
    gen = make_generator(params.seed)
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(params.max_new_tokens):
            logits = model(torch.tensor([ids])).logits[:, -1, :].float()
            ids.append(select_tokens(logits, [params], [gen], [ids])[0])
    return ids[len(prompt) :]


@pytest.mark.parametrize(
    "params",
    [
        SamplingParams(
            temperature=0.8, top_k=20, top_p=0.9, repetition_penalty=1.2, seed=5, max_new_tokens=12
        ),
        SamplingParams(temperature=1.5, top_p=0.7, seed=123, max_new_tokens=12),
        SamplingParams.greedy(repetition_penalty=1.5, max_new_tokens=12),
    ],
)
def test_same_tokens_as_hf_generate_with_same_seed(tiny_model, params: SamplingParams) -> None:
    prompt = [1, 523, 9012, 77, 4061, 318]
    torch.manual_seed(params.seed or 0)
    out = tiny_model.generate(
        torch.tensor([prompt]),
        attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
        do_sample=params.do_sample,
        temperature=params.temperature if params.do_sample else None,
        top_k=params.top_k if params.do_sample else None,
        top_p=params.top_p if params.do_sample else None,
        repetition_penalty=params.repetition_penalty,
        max_new_tokens=params.max_new_tokens,
        min_new_tokens=params.max_new_tokens,
        eos_token_id=None,
        pad_token_id=0,
    )
    assert _our_generate(tiny_model, prompt, params) == out[0, len(prompt) :].tolist()
