"""A forced opening: the reply starts with exactly the given text, whatever the model, bias or guard
prefer, and is free after it."""

from __future__ import annotations

import pytest
import torch

from inference.engine import EngineConfig, LLMEngine
from inference.forced_opening import ForcedOpening, forced_opening_for
from inference.loading.dummy import build_random_llama
from inference.params import SamplingParams
from inference.request import GenerationRequest
from tests.inference.test_engine_equivalence import run_staggered
from tests.inference.test_number_guard_engine import BiasedHead

OPENING = "Voltline support phone: 0800 555 0142."


def test_only_the_next_token_of_the_opening_stays_possible() -> None:
    forced = ForcedOpening((4, 7))
    logits = torch.zeros(10)
    logits[4] = float("-inf")  # e.g. masked by another rule: the opening still wins
    forced.apply(logits, [])
    assert logits[4] == 0.0 and torch.isinf(logits[[0, 1, 7, 9]]).all()
    logits = torch.zeros(10)
    forced.apply(logits, [4])
    assert int(logits.argmax()) == 7 and int(torch.isfinite(logits).sum()) == 1
    logits = torch.zeros(10)
    forced.apply(logits, [4, 7])  # written: free from here
    assert torch.isfinite(logits).all()
    assert forced.next_token([4, 7, 1]) is None


def test_built_from_text_and_empty_means_none(tokenizer) -> None:
    forced = forced_opening_for(tokenizer, OPENING)
    assert forced is not None and forced.ids == tuple(tokenizer.encode(OPENING, add_special_tokens=False))
    assert forced_opening_for(tokenizer, "") is None


@pytest.mark.parametrize("params", [SamplingParams.greedy(24), SamplingParams(max_new_tokens=24, seed=5)])
def test_the_engine_writes_the_opening_then_goes_on(tokenizer, params) -> None:
    model = build_random_llama("tiny", seed=0, initializer_range=0.02)
    bias = torch.zeros(model.config.vocab_size)
    bias[tokenizer.encode(" no", add_special_tokens=False)[0]] = 12.0  # the model wants " no" forever
    model.lm_head = BiasedHead(model.lm_head, bias)
    engine = LLMEngine(model, tokenizer, EngineConfig())
    opening = list(tokenizer.encode(OPENING, add_special_tokens=False))
    req = GenerationRequest([1, 2, 3], params, request_id="r", forced_opening=OPENING,
                            allowed_values=frozenset({"0800 555 0142"}))  # fmt: skip
    tokens = [t for e in run_staggered(engine, [(0, req)])["r"] for t in e.token_ids]
    assert tokens[: len(opening)] == opening
    assert len(tokens) > len(opening)  # and the model goes on after it


def test_a_request_rejects_a_non_text_opening() -> None:
    with pytest.raises(ValueError, match="forced_opening"):
        GenerationRequest([1], SamplingParams.greedy(2), forced_opening=None)  # type: ignore[arg-type]


def test_end_after_opening_makes_the_opening_the_whole_reply(tokenizer) -> None:
    model = build_random_llama("tiny", seed=0, initializer_range=0.02)
    engine = LLMEngine(model, tokenizer, EngineConfig())
    opening = list(tokenizer.encode(OPENING, add_special_tokens=False))
    req = GenerationRequest([1, 2, 3], SamplingParams.greedy(40), request_id="r",
                            forced_opening=OPENING, end_after_opening=True)  # fmt: skip
    events = run_staggered(engine, [(0, req)])["r"]
    tokens = [t for e in events for t in e.token_ids]
    assert tokens[: len(opening)] == opening and tokens[len(opening) :] in ([], [tokenizer.eos_token_id])
    assert events[-1].finish_reason == "stop" and "".join(e.text for e in events) == OPENING
    with pytest.raises(ValueError, match="end_after_opening"):
        GenerationRequest([1], SamplingParams.greedy(2), end_after_opening=True)
