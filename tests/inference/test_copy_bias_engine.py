"""The copy bias through the engine: a reply that starts a fact is pulled along it, and only when asked."""

from __future__ import annotations

import dataclasses

import torch

from inference.copy_bias import CopyBiasConfig
from inference.engine import EngineConfig, LLMEngine
from inference.loading.dummy import build_random_llama
from inference.params import SamplingParams
from inference.request import GenerationRequest
from tests.inference.test_engine_equivalence import run_staggered
from tests.inference.test_number_guard_engine import BiasedHead

FACT = "EchoMax ANC headphones: $299, in stock, with a 40-hour battery."


def _engine(tokenizer, strength: float) -> tuple[LLMEngine, list[int]]:
    fact_ids = tokenizer.encode(" " + FACT, add_special_tokens=False)
    model = build_random_llama("tiny", seed=0, initializer_range=0.02)  # near-flat logits
    bias = torch.zeros(model.config.vocab_size)
    bias[fact_ids[0]] = 12.0  # the model always wants to start (and restart) the fact
    model.lm_head = BiasedHead(model.lm_head, bias)
    config = dataclasses.replace(EngineConfig(), copy_bias=CopyBiasConfig(strength, 0.5))
    return LLMEngine(model, tokenizer, config), fact_ids


def _reply(engine: LLMEngine, copy_from: tuple[str, ...]) -> list[int]:
    req = GenerationRequest([1, 2, 3, 4], SamplingParams.greedy(24), request_id="r", copy_from=copy_from)
    events = run_staggered(engine, [(0, req)])["r"]
    return [t for e in events for t in e.token_ids]


def test_a_reply_that_starts_a_fact_copies_it_through(tokenizer) -> None:
    engine, fact_ids = _engine(tokenizer, strength=20.0)
    assert _reply(engine, (FACT,))[: len(fact_ids)] == fact_ids


def test_without_facts_or_with_strength_zero_nothing_is_nudged(tokenizer) -> None:
    engine, fact_ids = _engine(tokenizer, strength=20.0)
    assert _reply(engine, ())[:3] == [fact_ids[0]] * 3  # the head's bias alone: the same token again
    engine_off, _ = _engine(tokenizer, strength=0.0)
    assert _reply(engine_off, (FACT,))[:3] == [fact_ids[0]] * 3
