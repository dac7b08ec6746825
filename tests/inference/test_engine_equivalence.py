"""The engine's outputs equal Hugging Face / PEFT generate for each request run alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inference.engine import EngineConfig, LLMEngine
from inference.loading.dummy import build_random_llama
from inference.params import SamplingParams
from inference.request import GenerationRequest, TokenEvent
from tests.inference.lora_factory import make_two_adapters, reference_greedy, tiny_engine

MAX_NEW = 10


@pytest.fixture(scope="module")
def adapter_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str | None, Path | None]:
    """Two adapters of different ranks (one touches all seven projections), and the base model."""
    return {None: None, **make_two_adapters(tmp_path_factory.mktemp("adapters"))}


def _prompt(seed: int, length: int) -> list[int]:
    return torch.randint(3, 49152, (length,), generator=torch.Generator().manual_seed(seed)).tolist()


def run_staggered(
    engine: LLMEngine, arrivals: list[tuple[int, GenerationRequest]]
) -> dict[str, list[TokenEvent]]:
    """Submit each request at its arrival step and step until everything finished."""
    events: dict[str, list[TokenEvent]] = {r.request_id: [] for _, r in arrivals}
    step = 0
    while arrivals or engine.has_unfinished():
        while arrivals and arrivals[0][0] <= step:
            engine.add_request(arrivals.pop(0)[1])
        for event in engine.step():
            events[event.request_id].append(event)
        step += 1
        assert step < 500, "engine did not finish"
    return events


def tokens_of(events: list[TokenEvent]) -> list[int]:
    """All generated token ids of one request, in order."""
    return [t for e in events for t in e.token_ids]


MIX = [  # (arrival step, adapter, prompt length)
    (0, None, 5), (0, "wide", 40), (1, "attn", 17), (2, "wide", 3),
    (2, None, 70), (4, "attn", 33), (5, None, 9),
]


def _mix_requests() -> list[tuple[int, GenerationRequest]]:
    return [
        (at, GenerationRequest(_prompt(i, n), SamplingParams.greedy(MAX_NEW), adapter=a, request_id=f"r{i}"))
        for i, (at, a, n) in enumerate(MIX)
    ]


@pytest.fixture(scope="module")
def references(adapter_dirs) -> dict[str, list[int]]:
    """PEFT generate of every MIX request alone with its adapter."""
    return {
        r.request_id: reference_greedy(adapter_dirs[r.adapter], list(r.prompt_ids), MAX_NEW)
        for _, r in _mix_requests()
    }


def test_mixed_adapters_staggered_match_peft(tokenizer, adapter_dirs, references) -> None:
    """(a) concurrent requests over base + two adapters, staggered, equal PEFT one by one."""
    engine = tiny_engine(tokenizer, adapter_dirs, max_tokens_per_step=64)
    events = run_staggered(engine, _mix_requests())
    for rid, ref in references.items():
        assert tokens_of(events[rid]) == ref, rid
        assert events[rid][-1].finished
    # The adapters really change the output, so the comparison above is not vacuous.
    base_alone = reference_greedy(None, _prompt(1, 40), MAX_NEW)
    assert base_alone != references["r1"]


def test_chunked_prefill_matches(tokenizer, adapter_dirs, references) -> None:
    """(f) a tiny per-step token budget splits long prompts over many steps, outputs unchanged."""
    engine = tiny_engine(tokenizer, adapter_dirs, max_tokens_per_step=8)
    events = run_staggered(engine, _mix_requests())
    for rid, ref in references.items():
        assert tokens_of(events[rid]) == ref, rid
    assert engine.metrics()["steps"] > 70 // 8


def test_preemption_under_tiny_kv_budget_matches(tokenizer, adapter_dirs, references) -> None:
    """(d) a KV pool too small for the mix forces preemption; outputs are still identical."""
    engine = tiny_engine(tokenizer, adapter_dirs, max_tokens_per_step=64, kv_budget_tokens=96, block_size=8)
    events = run_staggered(engine, _mix_requests())
    for rid, ref in references.items():
        assert tokens_of(events[rid]) == ref, rid
    assert engine.metrics()["preemptions"] > 0
    assert engine.pool.num_used == 0


def test_prefix_cache_shares_system_prompt(tokenizer, adapter_dirs) -> None:
    """(e) two requests with one system prompt reuse its blocks; outputs equal PEFT."""
    system = _prompt(100, 48)
    prompts = [system + _prompt(101, 7), system + _prompt(102, 12)]
    engine = tiny_engine(tokenizer, adapter_dirs, block_size=16)
    outputs = []
    for i, prompt in enumerate(prompts):
        req = GenerationRequest(prompt, SamplingParams.greedy(MAX_NEW), adapter="wide", request_id=f"p{i}")
        outputs.append(tokens_of(run_staggered(engine, [(0, req)])[f"p{i}"]))
    stats = engine.metrics()["prefix_cache"]
    assert stats["hits"] == 3  # the second request found all three 16-token system blocks
    for prompt, out in zip(prompts, outputs, strict=True):
        assert out == reference_greedy(adapter_dirs["wide"], prompt, MAX_NEW)
    # The adapter is part of the key: the same prompt on another adapter must not hit.
    req = GenerationRequest(prompts[0], SamplingParams.greedy(2), adapter="attn", request_id="other")
    run_staggered(engine, [(0, req)])
    assert engine.metrics()["prefix_cache"]["hits"] == 3


@pytest.mark.parametrize(("num_beams", "config"), [
    (2, {}),
    (3, {}),
    # Preempted beams re-prefill in small chunks and must resume in step with each other.
    (3, {"kv_budget_tokens": 40, "block_size": 4, "max_tokens_per_step": 6}),
])
def test_beam_search_matches_hf(tokenizer, adapter_dirs, num_beams: int, config: dict) -> None:
    """(b) beam search equals HF generate(num_beams=k) with the same length penalty and stopping."""
    from peft import PeftModel

    # Flatter logits than the other tests (0.2) so beams really diverge from greedy, and an EOS
    # that is a runner-up early on so finished hypotheses and the length penalty matter.
    reference = PeftModel.from_pretrained(
        build_random_llama("tiny", seed=0, initializer_range=0.2), str(adapter_dirs["attn"])
    ).eval()
    prompt = _prompt(7, 11)
    ids = torch.tensor([prompt])
    mask = torch.ones_like(ids)

    def hf(**kw) -> list[int]:
        with torch.no_grad():
            out = reference.generate(input_ids=ids, attention_mask=mask, do_sample=False, **kw)
        return out[0, len(prompt) :].tolist()

    with torch.no_grad():
        greedy_prefix = ids.new_tensor([prompt + hf(max_new_tokens=2, eos_token_id=None, pad_token_id=0)])
        eos = int(reference(input_ids=greedy_prefix).logits[0, -1].topk(2).indices[1])
    expected = hf(max_new_tokens=8, num_beams=num_beams, length_penalty=0.7, early_stopping=True,
                  eos_token_id=eos, pad_token_id=eos)
    assert expected != hf(max_new_tokens=8, eos_token_id=eos, pad_token_id=eos)  # not just greedy

    model = build_random_llama("tiny", seed=0, initializer_range=0.2)
    engine = LLMEngine(model, tokenizer, EngineConfig(**config))
    engine.load_adapter("attn", adapter_dirs["attn"])
    engine.load_adapter("wide", adapter_dirs["wide"])
    engine.eos_ids = [eos]
    params = SamplingParams.beam(num_beams, max_new_tokens=8, length_penalty=0.7, early_stopping=True)
    other = GenerationRequest(_prompt(8, 6), SamplingParams.greedy(MAX_NEW), adapter="wide", request_id="o")
    req = GenerationRequest(prompt, params, adapter="attn", request_id="beam")
    events = run_staggered(engine, [(0, other), (1, req)])
    assert tokens_of(events["beam"]) == expected
    assert engine.metrics()["preemptions"] > 0 or not config
    assert events["beam"][-1].finish_reason == ("stop" if expected[-1] == eos else "length")
    assert engine.pool.num_used == 0


def test_seeded_sampling_independent_of_batch(tokenizer, adapter_dirs) -> None:
    """(c) a seeded sampled request yields the same tokens alone and inside a busy batch."""
    params = SamplingParams(temperature=0.9, top_k=50, top_p=0.95, seed=1234, max_new_tokens=12)
    prompt = _prompt(9, 14)

    def run(extra: int) -> list[int]:
        engine = tiny_engine(tokenizer, adapter_dirs)
        arrivals = [(0, GenerationRequest(prompt, params, adapter="wide", request_id="s"))]
        for i in range(extra):
            sampled = SamplingParams(temperature=1.0, seed=None, max_new_tokens=6)
            arrivals.append((i % 3, GenerationRequest(_prompt(50 + i, 5 + i), sampled, request_id=f"x{i}")))
        arrivals.sort(key=lambda a: a[0])
        return tokens_of(run_staggered(engine, arrivals)["s"])

    alone = run(0)
    assert run(5) == alone
    assert len(alone) == 12


@pytest.mark.real_model
def test_real_smollm2_matches_hf_generate(model_dir, tokenizer) -> None:
    """On SmolLM2-135M (30 layers, GQA 9/3 heads) batched engine output equals HF generate alone."""
    from inference.loading.loader import load_model

    model = load_model(model_dir, device="cpu", dtype="float32").model
    questions = ["How do I reset my router?", "Which security plan includes a VPN?"]
    prompts = [
        tokenizer.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True)
        for q in questions
    ]
    prompts = [p if isinstance(p, list) else list(p["input_ids"]) for p in prompts]
    engine = LLMEngine(model, tokenizer, EngineConfig(max_tokens_per_step=32))
    arrivals = [
        (i, GenerationRequest(p, SamplingParams.greedy(8), request_id=str(i))) for i, p in enumerate(prompts)
    ]
    events = run_staggered(engine, arrivals)
    for i, prompt in enumerate(prompts):
        ids = torch.tensor([prompt])
        with torch.no_grad():
            ref = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8,
                                 do_sample=False)[0, len(prompt) :].tolist()
        assert tokens_of(events[str(i)]) == ref
        assert "".join(e.text for e in events[str(i)]) == tokenizer.decode(ref, skip_special_tokens=True)
