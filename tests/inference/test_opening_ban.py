"""Banned openings: the next token of a banned opening is masked only while the reply is its prefix."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from inference.engine import EngineConfig, LLMEngine
from inference.loading.dummy import build_random_llama
from inference.opening_ban import OpeningBan, opening_ban_for
from inference.params import SamplingParams
from inference.request import GenerationRequest
from tests.inference.test_engine_equivalence import run_staggered
from tests.inference.test_number_guard_engine import BiasedHead

REFUSAL = "I don't know that"


def test_masks_the_next_token_of_each_opening_the_reply_is_a_prefix_of() -> None:
    ban = OpeningBan(((5, 6, 7), (5, 8), (9,)))
    assert ban.banned_next([]) == [5, 9]
    assert ban.banned_next([5]) == [6, 8]
    assert ban.banned_next([5, 6]) == [7]
    assert ban.banned_next([5, 6, 7]) == []  # past the opening: nothing
    assert ban.banned_next([4]) == []  # a different start: nothing
    logits = torch.zeros(12)
    ban.apply(logits, [5])
    assert torch.isinf(logits[[6, 8]]).all() and torch.isfinite(logits[[0, 5, 7, 9]]).all()


def test_ids_beyond_the_row_are_ignored() -> None:
    logits = torch.zeros(4)
    OpeningBan(((2, 10),)).apply(logits, [2])
    assert torch.isfinite(logits).all()


def test_built_from_texts_in_the_tokenizers_ids(tokenizer) -> None:
    ban = opening_ban_for(tokenizer, [REFUSAL])
    assert ban is not None
    assert ban.sequences == (tuple(tokenizer.encode(REFUSAL, add_special_tokens=False)),)
    assert opening_ban_for(tokenizer, []) is None


def test_a_request_rejects_empty_or_bare_string_openings() -> None:
    with pytest.raises(ValueError, match="banned_openings"):
        GenerationRequest([1], SamplingParams.greedy(2), banned_openings=("",))
    with pytest.raises(ValueError, match="banned_openings"):
        GenerationRequest([1], SamplingParams.greedy(2), banned_openings="I don't")  # type: ignore[arg-type]


def _engine(tokenizer) -> tuple[LLMEngine, list[int]]:
    refusal_ids = tokenizer.encode(REFUSAL, add_special_tokens=False)
    model = build_random_llama("tiny", seed=0, initializer_range=0.02)  # near-flat logits
    bias = torch.zeros(model.config.vocab_size)
    bias[refusal_ids[0]] = 12.0  # the model always wants to open with the refusal's first token
    model.lm_head = BiasedHead(model.lm_head, bias)
    return LLMEngine(model, tokenizer, dataclasses.replace(EngineConfig())), refusal_ids


@pytest.mark.parametrize("params", [SamplingParams.greedy(6), SamplingParams(max_new_tokens=6, seed=3)])
def test_the_engine_never_opens_with_a_banned_opening(tokenizer, params) -> None:
    engine, refusal_ids = _engine(tokenizer)

    def first(banned: tuple[str, ...]) -> int:
        req = GenerationRequest([1, 2, 3], params, request_id="r", banned_openings=banned)
        return run_staggered(engine, [(0, req)])["r"][0].token_ids[0]

    assert first(()) == refusal_ids[0]
    assert first((REFUSAL,)) != refusal_ids[0]
