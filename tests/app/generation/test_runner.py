"""JobRun.start: what a job asks of the engine, and what a resumed job asks again: the rest of a
forced quote (the reply is the quote whichever worker writes it), not the refusal ban."""

from __future__ import annotations

import asyncio
from typing import Any

from app.generation.backend import GenerationJob
from app.generation.prompting import Prompt
from app.generation.runner import JobRun
from inference.params import SamplingParams
from inference.request import GenerationRequest

PIECES = {40: "Call", 41: " 0800", 42: " 555 0142.", 50: "Sure"}


class PieceTokenizer:
    """Decodes the ids of PIECES (what the runner needs to find what is left of a quote)."""

    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        return "".join(PIECES[i] for i in ids)


class RecordingEngine:
    """Keeps the request it was given (start() only builds the stream; nothing is iterated)."""

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []
        self.tokenizer = PieceTokenizer()

    def generate(self, request: GenerationRequest) -> Any:
        self.requests.append(request)
        return iter(())


def _run(done_ids: tuple[int, ...]) -> tuple[JobRun, RecordingEngine]:
    params = SamplingParams.greedy(8)
    job = GenerationJob(
        "j1", "c1", [{"role": "user", "content": "hi"}], None, params.to_dict(),
        copy_from=["Lumo Smart Bulb: $19."], banned_openings=["I don't know"],
        forced_opening="Call 0800 555 0142.", end_after_opening=True,
    )  # fmt: skip
    engine = RecordingEngine()
    run = JobRun(engine, job, params, Prompt([5, 6, 7]), done_ids=done_ids)  # type: ignore[arg-type]
    run.start()
    return run, engine


def _start(done_ids: tuple[int, ...]) -> GenerationRequest:
    return _run(done_ids)[1].requests[-1]


def test_a_fresh_job_carries_its_steering_to_the_engine() -> None:
    request = _start(())
    assert request.prompt_ids == (5, 6, 7)
    assert request.copy_from == ("Lumo Smart Bulb: $19.",)
    assert request.banned_openings == ("I don't know",)
    assert (request.forced_opening, request.end_after_opening) == ("Call 0800 555 0142.", True)


def test_a_job_resumed_mid_quote_is_forced_through_the_rest_of_it() -> None:
    request = _start((40, 41))
    assert request.prompt_ids == (5, 6, 7, 40, 41)
    assert request.params.max_new_tokens == 6
    assert request.banned_openings == () and request.copy_from == ("Lumo Smart Bulb: $19.",)
    assert (request.forced_opening, request.end_after_opening) == (" 555 0142.", True)


def test_a_job_resumed_past_something_else_continues_without_opening_rules() -> None:
    request = _start((50,))
    assert (request.forced_opening, request.end_after_opening, request.banned_openings) == ("", False, ())


def test_a_job_resumed_after_its_whole_quote_ends_without_generating() -> None:
    run, engine = _run((40, 41, 42))
    assert engine.requests == []

    async def events() -> list[Any]:
        return [ev async for ev in run.events()]

    (done,) = asyncio.run(events())
    assert (done.kind, done.finish_reason, done.completion_tokens) == ("done", "stop", 3)
