"""What callers hand the engine (GenerationRequest) and what it streams back (TokenEvent)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from inference.params import SamplingParams

FinishReason = Literal["stop", "length", "cancelled", "error"]


class UnknownAdapterError(ValueError):
    """A request named a LoRA adapter that is not loaded."""

    def __init__(self, name: str, loaded: list[str]) -> None:
        shown = ", ".join(sorted(loaded)) or "none"
        super().__init__(f"adapter {name!r} is not loaded (loaded adapters: {shown})")
        self.name = name


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt to complete with one adapter (None = base model) and decoding settings."""

    prompt_ids: tuple[int, ...]
    params: SamplingParams
    adapter: str | None = None
    priority: int = 0
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    arrival_time: float | None = None
    # Numbers/emails the reply may state (``inference.number_guard.allowed_values`` of its facts);
    # None leaves decoding unconstrained, an empty set forbids every number.
    allowed_values: frozenset[str] | None = None
    # Retrieved fact texts, best first, that the reply is nudged to copy from (inference/copy_bias.py).
    copy_from: tuple[str, ...] = ()
    # Texts the reply may not begin with (inference/opening_ban.py), e.g. an unwarranted "I don't know".
    banned_openings: tuple[str, ...] = ()
    # Text the reply must begin with, token for token (inference/forced_opening.py); "" = none.
    forced_opening: str = ""
    end_after_opening: bool = False  # the forced opening is the whole reply

    def __post_init__(self) -> None:
        # Accept any sequence of ints (lists from tokenizers) but store an immutable tuple.
        try:
            ids = tuple(int(t) for t in self.prompt_ids)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"prompt_ids must be a sequence of token ids ({exc})") from exc
        if not ids:
            raise ValueError("prompt_ids must not be empty")
        if min(ids) < 0:
            raise ValueError("prompt_ids must be non-negative token ids")
        object.__setattr__(self, "prompt_ids", ids)
        if not isinstance(self.params, SamplingParams):
            raise ValueError("params must be a SamplingParams")
        if self.adapter is not None and (not isinstance(self.adapter, str) or not self.adapter):
            raise ValueError("adapter must be a non-empty adapter name or None for the base model")
        if not isinstance(self.priority, int):
            raise ValueError("priority must be an int")
        if not self.request_id:
            raise ValueError("request_id must not be empty")
        if self.allowed_values is not None:
            values = self.allowed_values
            if isinstance(values, str) or not all(isinstance(v, str) for v in values):
                raise ValueError("allowed_values must be a set of strings or None")
            object.__setattr__(self, "allowed_values", frozenset(values))
        if isinstance(self.copy_from, str) or not all(isinstance(t, str) for t in self.copy_from):
            raise ValueError("copy_from must be a sequence of fact texts")
        object.__setattr__(self, "copy_from", tuple(self.copy_from))
        openings = self.banned_openings
        if isinstance(openings, str) or not all(isinstance(t, str) and t for t in openings):
            raise ValueError("banned_openings must be a sequence of non-empty texts")
        object.__setattr__(self, "banned_openings", tuple(openings))
        if not isinstance(self.forced_opening, str):
            raise ValueError("forced_opening must be a text")
        if self.end_after_opening and not self.forced_opening:
            raise ValueError("end_after_opening needs a forced_opening")


@dataclass(frozen=True)
class TokenEvent:
    """One streamed step of a request: new token ids, their text delta, and whether it ended."""

    request_id: str
    index: int
    token_ids: tuple[int, ...]
    text: str
    finished: bool = False
    finish_reason: FinishReason | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
