"""The number guard through the engine: forced toward digits, a guarded reply states only allowed values."""

from __future__ import annotations

import pytest
import torch

from inference.engine import EngineConfig, LLMEngine
from inference.loading.dummy import build_random_llama
from inference.number_guard import allowed_values, unverified_numbers
from inference.params import SamplingParams
from inference.request import GenerationRequest
from tests.inference.test_engine_equivalence import run_staggered, tokens_of

FACTS = [
    "EchoMax ANC headphones: $299, in stock. 40-hour battery.",
    "Refunds within 5-7 business days; call 0800 555 0142 or write to help@voltline.example.",
]
ALLOWED = allowed_values(FACTS)
NUMBERY = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "$", ",", ".", "-", "@", " "]


class BiasedHead(torch.nn.Module):
    """The LM head plus a fixed bias: pushes a random model toward digits, as an invention would."""

    def __init__(self, head: torch.nn.Module, bias: torch.Tensor) -> None:
        super().__init__()
        self.head, self.bias = head, bias

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.head(hidden) + self.bias


@pytest.fixture(scope="module")
def numbery_engine(tokenizer):
    model = build_random_llama("tiny", seed=0, initializer_range=0.5)
    bias = torch.zeros(model.config.vocab_size)
    ids = tokenizer.convert_tokens_to_ids(["Ġ" if t == " " else t for t in NUMBERY])
    bias[ids] = 12.0
    model.lm_head = BiasedHead(model.lm_head, bias)
    return LLMEngine(model, tokenizer, EngineConfig())


def _prompt(seed: int) -> list[int]:
    return torch.randint(3, 49152, (8,), generator=torch.Generator().manual_seed(seed)).tolist()


def _text(engine: LLMEngine, seed: int, params: SamplingParams, allowed: frozenset[str] | None) -> str:
    req = GenerationRequest(_prompt(seed), params, request_id="r", allowed_values=allowed)
    events = run_staggered(engine, [(0, req)])["r"]
    assert events[-1].finish_reason in ("stop", "length")
    return "".join(e.text for e in events)


PARAMS = {
    "greedy": SamplingParams.greedy(32),
    "sampled": SamplingParams(temperature=1.0, top_p=0.95, seed=7, max_new_tokens=32),
    "penalised": SamplingParams(temperature=0.8, top_k=20, repetition_penalty=1.3, seed=3, max_new_tokens=32),
    "beam": SamplingParams.beam(3, 16),
}


@pytest.mark.parametrize("name", list(PARAMS))
@pytest.mark.parametrize("seed", [1, 2])
def test_forced_toward_digits_the_guard_allows_only_fact_values(numbery_engine, name: str, seed: int) -> None:
    params = PARAMS[name]
    free = _text(numbery_engine, seed, params, None)
    assert unverified_numbers(free, ALLOWED), f"the bias should make the free model invent numbers: {free!r}"
    guarded = _text(numbery_engine, seed, params, ALLOWED)
    assert unverified_numbers(guarded, ALLOWED) == [], guarded
    if name != "beam":  # beams may prefer a digit-free path; greedy/sampled rows are pushed into numbers
        assert any(c.isdigit() for c in guarded), guarded


@pytest.mark.parametrize("name", ["greedy", "sampled", "beam"])
def test_guard_that_allows_everything_said_changes_nothing(numbery_engine, name: str) -> None:
    params = PARAMS[name]
    free = _text(numbery_engine, 4, params, None)
    assert _text(numbery_engine, 4, params, allowed_values([free])) == free


def test_no_numbers_allowed_means_none_stated(numbery_engine) -> None:
    free = _text(numbery_engine, 5, SamplingParams.greedy(30), None)
    assert unverified_numbers(free, frozenset())
    guarded = _text(numbery_engine, 5, SamplingParams.greedy(30), frozenset())
    assert unverified_numbers(guarded, frozenset()) == [], guarded


def test_guarded_and_free_requests_share_a_batch(numbery_engine, tokenizer) -> None:
    alone = {seed: _text(numbery_engine, seed, PARAMS["greedy"], None) for seed in (6, 7)}
    reqs = [
        (0, GenerationRequest(_prompt(6), PARAMS["greedy"], request_id="free")),
        (0, GenerationRequest(_prompt(7), PARAMS["greedy"], request_id="guarded", allowed_values=ALLOWED)),
    ]
    events = run_staggered(numbery_engine, reqs)
    free_text = tokenizer.decode(tokens_of(events["free"]), skip_special_tokens=True)
    assert free_text == alone[6]  # the neighbour's guard never touches this row
    guarded = "".join(e.text for e in events["guarded"])
    assert unverified_numbers(guarded, ALLOWED) == [] and guarded != alone[7]


def test_allowed_values_are_validated() -> None:
    with pytest.raises(ValueError, match="allowed_values"):
        GenerationRequest([1, 2], SamplingParams.greedy(2), allowed_values="$5")  # type: ignore[arg-type]
    req = GenerationRequest([1, 2], SamplingParams.greedy(2), allowed_values={"$5"})  # type: ignore[arg-type]
    assert req.allowed_values == frozenset({"$5"})
