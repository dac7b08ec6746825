"""BeamSearch is token-identical to HF generate(num_beams=k), driven by a full-recompute loop."""

from __future__ import annotations

import pytest
import torch

from inference.beam_search import BeamSearch
from inference.loading.dummy import build_random_llama
from inference.params import SamplingParams

PROMPTS = [[1, 523, 9012, 77, 4061, 318], [1, 88, 2756, 31394]]
SMALL_PROMPTS = [[1, 5, 7, 3], [1, 7, 7, 6, 4, 0]]


@pytest.fixture(scope="module")
def small_vocab_models() -> list[torch.nn.Module]:
    """Random Llamas over 8-10 tokens with flat-ish logits: EOS (id 2) competes at every step, so
    hypotheses finish at many different lengths and the length penalty decides the winner."""
    return [
        build_random_llama("tiny", seed=0, vocab_size=10, initializer_range=0.15),
        build_random_llama("tiny", seed=0, vocab_size=8, initializer_range=0.3),
    ]


def _beam_generate(model, prompt: list[int], params: SamplingParams, eos: int | list[int]) -> list[int]:
    search = BeamSearch(params, eos, prompt_len=len(prompt))
    beams: list[list[int]] = [list(prompt)]
    with torch.no_grad():
        while True:
            logits = model(torch.tensor(beams)).logits[:, -1, :].float()
            step = search.step(torch.log_softmax(logits, dim=-1))
            assert len(step.parents) == len(step.tokens)
            if step.done:
                return search.best()
            beams = [beams[p] + [t] for p, t in zip(step.parents, step.tokens, strict=True)]
            assert search.live_count == len(beams) == params.num_beams


def _hf_generate(model, prompt: list[int], params: SamplingParams, eos: int | list[int]) -> list[int]:
    out = model.generate(
        torch.tensor([prompt]),
        attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
        do_sample=False,
        num_beams=params.num_beams,
        length_penalty=params.length_penalty,
        early_stopping=params.early_stopping,
        max_new_tokens=params.max_new_tokens,
        eos_token_id=eos,
        pad_token_id=0,
    )
    return out[0, len(prompt) :].tolist()


def _likely_eos(model, prompt: list[int], n: int) -> list[int]:
    """Tokens the model tends to produce early, used as EOS so hypotheses really finish."""
    with torch.no_grad():
        greedy = model.generate(
            torch.tensor([prompt]), do_sample=False, max_new_tokens=6, eos_token_id=None, pad_token_id=0
        )
    return greedy[0, len(prompt) + 2 : len(prompt) + 2 + n].tolist()


@pytest.mark.parametrize("num_beams", [2, 3, 4])
@pytest.mark.parametrize("length_penalty", [1.0, 0.0, -1.0, 2.0])
@pytest.mark.parametrize("early_stopping", [False, True, "never"])
def test_matches_hf_generate(
    tiny_model, small_vocab_models, num_beams: int, length_penalty: float, early_stopping
) -> None:
    params = SamplingParams.beam(
        num_beams, max_new_tokens=12, length_penalty=length_penalty, early_stopping=early_stopping
    )
    for prompt in PROMPTS:
        eos = _likely_eos(tiny_model, prompt, 1)[0]
        assert _beam_generate(tiny_model, prompt, params, eos) == _hf_generate(
            tiny_model, prompt, params, eos
        )
    for model in small_vocab_models:
        for prompt in SMALL_PROMPTS:
            assert _beam_generate(model, prompt, params, 2) == _hf_generate(model, prompt, params, 2)


def test_length_penalty_changes_the_winner(small_vocab_models) -> None:
    """Guards the comparison above against being vacuous: the settings really disagree."""
    model, prompt = small_vocab_models[0], SMALL_PROMPTS[0]
    outs = {
        tuple(_beam_generate(model, prompt, SamplingParams.beam(3, max_new_tokens=12, length_penalty=lp), 2))
        for lp in (-1.0, 0.0, 1.0, 2.0)
    }
    assert len(outs) > 1


def test_matches_hf_with_several_eos_ids(tiny_model) -> None:
    params = SamplingParams.beam(3, max_new_tokens=12, length_penalty=0.5)
    for prompt in PROMPTS:
        eos = _likely_eos(tiny_model, prompt, 2)
        assert _beam_generate(tiny_model, prompt, params, eos) == _hf_generate(
            tiny_model, prompt, params, eos
        )


def test_without_eos_runs_to_max_new_tokens(tiny_model) -> None:
    params = SamplingParams.beam(2, max_new_tokens=7)
    out = _beam_generate(tiny_model, PROMPTS[0], params, eos=49151)
    assert len(out) == 7
    assert out == _hf_generate(tiny_model, PROMPTS[0], params, 49151)


def test_first_step_has_one_live_beam_and_rejects_wrong_shapes() -> None:
    search = BeamSearch(SamplingParams.beam(3, max_new_tokens=4), eos_token_id=2, prompt_len=5)
    assert search.live_count == 1
    with pytest.raises(ValueError, match="logprobs"):
        search.step(torch.zeros(3, 10))
    step = search.step(torch.log_softmax(torch.arange(10.0).repeat(1, 1), dim=-1))
    assert step.tokens == [9, 8, 7] and step.parents == [0, 0, 0]
    assert search.live_count == 3


def test_finished_search_refuses_more_steps() -> None:
    search = BeamSearch(SamplingParams.beam(2, max_new_tokens=1), eos_token_id=2, prompt_len=1)
    assert search.step(torch.log_softmax(torch.arange(10.0)[None], dim=-1)).done
    assert search.best() == [9]
    with pytest.raises(RuntimeError):
        search.step(torch.zeros(2, 10))
