"""Policies driven by the real scheduler inside LLMEngine, with an injected deterministic clock."""

from __future__ import annotations

from typing import Any

import torch

from inference.engine import EngineConfig, LLMEngine
from inference.params import SamplingParams
from inference.request import GenerationRequest


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _engine(
    model: torch.nn.Module, tokenizer: Any, clock: FakeClock, policy: str, **options: Any
) -> LLMEngine:
    config = EngineConfig(
        max_batch_size=2, kv_budget_tokens=512, policy=policy, policy_options=options, clock=clock
    )
    return LLMEngine(model, tokenizer, config)


def _add(engine: LLMEngine, rid: str, priority: int = 0, tokens: int = 4) -> None:
    params = SamplingParams.greedy(max_new_tokens=tokens, ignore_eos=True)
    prompt = [10 + len(rid), 200, 300]
    engine.add_request(GenerationRequest(prompt, params, priority=priority, request_id=rid))


def _ids(events: list[Any]) -> set[str]:
    return {e.request_id for e in events if e.token_ids}


def test_time_window_holds_a_lone_request_until_the_window_closes(tiny_model, tokenizer) -> None:
    clock = FakeClock()
    engine = _engine(tiny_model, tokenizer, clock, "time_window", window_s=1.0, min_batch=2, max_batch=2)
    _add(engine, "a")
    assert engine.step() == [] and engine.scheduler.running == []
    clock.t = 0.5
    _add(engine, "b")  # min_batch reached: both go in the same step
    assert _ids(engine.step()) == {"a", "b"}


def test_priority_preempts_through_the_scheduler(tiny_model, tokenizer) -> None:
    clock = FakeClock()
    engine = _engine(tiny_model, tokenizer, clock, "priority")
    _add(engine, "low1", tokens=8)
    clock.t = 0.1
    _add(engine, "low2", tokens=8)
    assert _ids(engine.step()) == {"low1", "low2"}
    clock.t = 1.0
    _add(engine, "high", priority=1)
    assert _ids(engine.step()) == {"high", "low1"}  # low2 (newest low) was swapped out
    assert engine.metrics()["preemptions"] == 1


def test_static_admits_nothing_while_its_batch_runs(tiny_model, tokenizer) -> None:
    clock = FakeClock()
    engine = _engine(tiny_model, tokenizer, clock, "static", batch_size=2, max_wait_s=10.0)
    _add(engine, "a", tokens=3)
    _add(engine, "b", tokens=3)
    assert _ids(engine.step()) == {"a", "b"}
    _add(engine, "c")
    seen: list[set[str]] = []
    while engine.has_unfinished():
        clock.t += 20.0
        seen.append(_ids(engine.step()))
    assert seen[0] == {"a", "b"} and "c" not in seen[0] and "c" in set().union(*seen)


def test_the_view_says_what_the_last_step_computed(tiny_model, tokenizer) -> None:
    clock = FakeClock()
    engine = _engine(tiny_model, tokenizer, clock, "continuous")
    _add(engine, "a", tokens=3)
    _add(engine, "bb", tokens=3)
    assert not engine.scheduler.view().last_step_tokens  # nothing ran yet
    engine.step()  # both prompts (3 tokens each) prefilled
    first = engine.scheduler.view()
    assert (first.last_step_tokens, first.last_step_seqs) == (6, 2) and not first.last_step_decoded_only
    engine.step()  # one decode token each
    second = engine.scheduler.view()
    assert (second.last_step_tokens, second.last_step_seqs) == (2, 2) and second.last_step_decoded_only
