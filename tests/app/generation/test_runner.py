"""JobRun.start: what a job asks of the engine, and what a resumed job must not ask again (the
opening rules: its opening is already written)."""

from __future__ import annotations

from typing import Any

from app.generation.backend import GenerationJob
from app.generation.prompting import Prompt
from app.generation.runner import JobRun
from inference.params import SamplingParams
from inference.request import GenerationRequest


class RecordingEngine:
    """Keeps the request it was given (start() only builds the stream; nothing is iterated)."""

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []

    def generate(self, request: GenerationRequest) -> Any:
        self.requests.append(request)
        return iter(())


def _start(done_ids: tuple[int, ...]) -> GenerationRequest:
    params = SamplingParams.greedy(8)
    job = GenerationJob(
        "j1", "c1", [{"role": "user", "content": "hi"}], None, params.to_dict(),
        copy_from=["Lumo Smart Bulb: $19."], banned_openings=["I don't know"],
        forced_opening="Call 0800 555 0142.", end_after_opening=True,
    )  # fmt: skip
    engine = RecordingEngine()
    JobRun(engine, job, params, Prompt([5, 6, 7]), done_ids=done_ids).start()  # type: ignore[arg-type]
    return engine.requests[-1]


def test_a_fresh_job_carries_its_steering_to_the_engine() -> None:
    request = _start(())
    assert request.prompt_ids == (5, 6, 7)
    assert request.copy_from == ("Lumo Smart Bulb: $19.",)
    assert request.banned_openings == ("I don't know",)
    assert (request.forced_opening, request.end_after_opening) == ("Call 0800 555 0142.", True)


def test_a_resumed_job_drops_the_opening_ban_its_reply_is_past() -> None:
    request = _start((40, 41))
    assert request.prompt_ids == (5, 6, 7, 40, 41)
    assert request.params.max_new_tokens == 6
    assert request.banned_openings == () and request.copy_from == ("Lumo Smart Bulb: $19.",)
    assert (request.forced_opening, request.end_after_opening) == ("", False)
