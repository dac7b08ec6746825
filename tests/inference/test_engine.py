"""LLMEngine behaviour: finishing rules, streaming text, cancel, bad input, failures, AsyncEngine."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from inference import AsyncEngine, EngineConfig, LLMEngine
from inference.loading.dummy import build_random_llama
from inference.params import SamplingParams
from inference.request import GenerationRequest, TokenEvent, UnknownAdapterError
from tests.inference.lora_factory import make_adapter, reference_greedy
from tests.inference.test_engine_equivalence import run_staggered, tokens_of


def _engine(tokenizer, **config) -> LLMEngine:
    model = build_random_llama("tiny", seed=0, initializer_range=0.5)
    return LLMEngine(model, tokenizer, EngineConfig(**config))


def _prompt(seed: int, n: int = 8) -> list[int]:
    return torch.randint(3, 49152, (n,), generator=torch.Generator().manual_seed(seed)).tolist()


def _one(engine: LLMEngine, seed: int, params: SamplingParams) -> list[TokenEvent]:
    """Run one request alone to the end; its events."""
    return run_staggered(engine, [(0, GenerationRequest(_prompt(seed), params, request_id="one"))])["one"]


@pytest.fixture(scope="module")
def adapter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_adapter(tmp_path_factory.mktemp("eng") / "a", 4, ["q_proj", "v_proj", "up_proj"], seed=3)


def test_length_finish_and_text_deltas_add_up(tokenizer) -> None:
    engine = _engine(tokenizer)
    req = GenerationRequest(_prompt(1), SamplingParams.greedy(7), request_id="r")
    events = run_staggered(engine, [(0, req)])["r"]
    assert [e.index for e in events] == list(range(7))
    assert events[-1].finish_reason == "length" and events[-1].completion_tokens == 7
    assert events[-1].prompt_tokens == 8 and not any(e.finished for e in events[:-1])
    text = "".join(e.text for e in events)
    assert text == tokenizer.decode(tokens_of(events), skip_special_tokens=True)


def test_stop_string_ends_request_and_is_cut(tokenizer) -> None:
    engine = _engine(tokenizer)
    full_text = "".join(e.text for e in _one(engine, 2, SamplingParams.greedy(12)))
    stop = full_text[len(full_text) // 2 : len(full_text) // 2 + 3]
    assert stop.strip(), "need a visible stop string"
    events = _one(engine, 2, SamplingParams.greedy(12, stop=(stop,)))
    text = "".join(e.text for e in events)
    assert events[-1].finish_reason == "stop"
    assert text == full_text[: full_text.index(stop)]


def test_eos_stops_unless_ignored(tokenizer) -> None:
    engine = _engine(tokenizer)
    # Make the third greedy token of this prompt the EOS, so the test does not depend on luck.
    engine.eos_ids = [tokens_of(_one(engine, 3, SamplingParams.greedy(6)))[2]]
    stopped = _one(engine, 3, SamplingParams.greedy(6))
    assert stopped[-1].finish_reason == "stop" and len(tokens_of(stopped)) == 3
    assert stopped[-1].text == ""  # EOS text is never shown
    ignored = _one(engine, 3, SamplingParams.greedy(6, ignore_eos=True))
    assert ignored[-1].finish_reason == "length" and len(tokens_of(ignored)) == 6


def test_abort_frees_blocks_at_once(tokenizer) -> None:
    engine = _engine(tokenizer)
    engine.add_request(GenerationRequest(_prompt(4, 40), SamplingParams.greedy(50), request_id="x"))
    engine.add_request(GenerationRequest(_prompt(5, 10), SamplingParams.greedy(3), request_id="y"))
    engine.step()
    engine.step()
    used_before = engine.pool.num_used
    assert engine.abort("x")
    assert engine.pool.num_used < used_before
    assert engine.pool.num_used == engine.pool.blocks_needed(12)  # only y's blocks remain
    events = engine.step()
    cancelled = [e for e in events if e.request_id == "x"]
    assert cancelled and cancelled[0].finish_reason == "cancelled"
    assert not engine.abort("x")


def test_bad_input_fails_at_submit(tokenizer) -> None:
    engine = _engine(tokenizer)
    with pytest.raises(UnknownAdapterError, match="'sales' is not loaded"):
        engine.add_request(GenerationRequest([1, 2], SamplingParams.greedy(3), adapter="sales"))
    with pytest.raises(ValueError, match="prompt_ids must not be empty"):
        GenerationRequest([], SamplingParams.greedy(3))
    with pytest.raises(ValueError, match="exceeds the model's 2048 positions"):
        engine.add_request(GenerationRequest([1] * 2000, SamplingParams.greedy(100)))
    engine.add_request(GenerationRequest([1, 2], SamplingParams.greedy(3), request_id="dup"))
    with pytest.raises(ValueError, match="already in the engine"):
        engine.add_request(GenerationRequest([1, 2], SamplingParams.greedy(3), request_id="dup"))
    with pytest.raises(ValueError, match="max_batch_size"):
        EngineConfig(max_batch_size=0)


def test_broken_adapter_fails_only_its_request(tokenizer, adapter, tmp_path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "adapter_config.json").write_text((adapter / "adapter_config.json").read_text())
    tensors = load_file(str(adapter / "adapter_model.safetensors"))
    tensors = {k: torch.full_like(v, float("nan")) if "lora_B" in k else v for k, v in tensors.items()}
    save_file(tensors, str(broken / "adapter_model.safetensors"))
    engine = _engine(tokenizer)
    engine.load_adapter("broken", broken)
    good = GenerationRequest(_prompt(6), SamplingParams.greedy(8), request_id="good")
    bad = GenerationRequest(_prompt(7), SamplingParams.greedy(8), adapter="broken", request_id="bad")
    events = run_staggered(engine, [(0, good), (0, bad), (3, GenerationRequest(
        _prompt(8), SamplingParams.greedy(8), request_id="late"))])
    assert events["bad"][-1].finish_reason == "error" and "non-finite" in (events["bad"][-1].error or "")
    assert tokens_of(events["good"]) == reference_greedy(None, _prompt(6), 8)
    assert tokens_of(events["late"]) == reference_greedy(None, _prompt(8), 8)  # reuses its freed blocks


def test_adapter_load_and_unload_while_running(tokenizer, adapter) -> None:
    """(g) load mid-run, unload while a request uses it: that request still finishes correctly."""
    engine = _engine(tokenizer)
    first = GenerationRequest(_prompt(9), SamplingParams.greedy(10), request_id="base")
    engine.add_request(first)
    events: dict[str, list[TokenEvent]] = {"base": [], "lora": []}
    for step in range(40):
        if step == 2:
            engine.load_adapter("tech", adapter)
            engine.add_request(GenerationRequest(_prompt(10), SamplingParams.greedy(10), adapter="tech",
                                                 request_id="lora"))
        if step == 5:
            engine.unload_adapter("tech")
            with pytest.raises(UnknownAdapterError):
                engine.add_request(GenerationRequest(_prompt(11), SamplingParams.greedy(2), adapter="tech"))
        for e in engine.step():
            events[e.request_id].append(e)
        if not engine.has_unfinished():
            break
    assert tokens_of(events["base"]) == reference_greedy(None, _prompt(9), 10)
    assert tokens_of(events["lora"]) == reference_greedy(adapter, _prompt(10), 10)


async def test_async_engine_streams_cancels_and_swaps_adapters(tokenizer, adapter) -> None:
    engine = AsyncEngine(_engine(tokenizer))
    await engine.start()
    try:
        engine.load_adapter("sales", adapter)
        assert engine.adapters() == ["sales"]

        async def collect(req: GenerationRequest) -> list[TokenEvent]:
            return [e async for e in engine.generate(req)]

        reqs = [
            GenerationRequest(_prompt(20 + i), SamplingParams.greedy(6), adapter=a, request_id=f"a{i}")
            for i, a in enumerate([None, "sales", None])
        ]
        results = await asyncio.gather(*(collect(r) for r in reqs))
        for req, events in zip(reqs, results, strict=True):
            ref = reference_greedy(adapter if req.adapter else None, list(req.prompt_ids), 6)
            assert tokens_of(events) == ref and events[-1].finished

        with pytest.raises(UnknownAdapterError):
            engine.generate(GenerationRequest([1, 2], SamplingParams.greedy(2), adapter="nope"))

        long = GenerationRequest(_prompt(30), SamplingParams.greedy(500), request_id="long")
        stream = engine.generate(long)
        first = await stream.__anext__()
        engine.cancel("long")
        rest = [e async for e in stream]
        assert first.index == 0 and rest[-1].finish_reason == "cancelled"
        await asyncio.sleep(0.05)
        assert engine.core.pool.num_used == 0
        engine.unload_adapter("sales")
        assert engine.adapters() == [] and engine.metrics()["steps"] > 0
        assert "vllm:num_requests_running" in engine.to_prometheus()
    finally:
        await engine.stop()


async def test_async_stop_ends_open_streams(tokenizer) -> None:
    engine = AsyncEngine(_engine(tokenizer))
    await engine.start()
    stream = engine.generate(GenerationRequest(_prompt(40), SamplingParams.greedy(1000), request_id="open"))
    assert (await stream.__anext__()).index == 0
    await engine.stop()
    rest = [e async for e in stream]
    assert rest[-1].finished and rest[-1].finish_reason == "cancelled"
    assert engine.core.pool.num_used == 0


def test_failed_forward_fails_its_batch_and_engine_keeps_serving(tokenizer) -> None:
    engine = _engine(tokenizer)
    real_forward = engine.runner.forward
    calls = {"n": 0}

    def flaky(items):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("device lost")
        return real_forward(items)

    engine.runner.forward = flaky  # type: ignore[method-assign]
    engine.add_request(GenerationRequest(_prompt(60), SamplingParams.greedy(5), request_id="victim"))
    events = engine.step() + engine.step()  # the second forward fails
    failed = [e for e in events if e.request_id == "victim"][-1]
    assert failed.finish_reason == "error" and "device lost" in (failed.error or "")
    assert engine.pool.num_used == 0
    after = _one(engine, 61, SamplingParams.greedy(5))
    assert tokens_of(after) == reference_greedy(None, _prompt(61), 5)
