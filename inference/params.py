"""How one request is decoded: a small validated value object passed through the engine."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

MAX_NEW_TOKENS_CAP = 4096
MAX_STOP_STRINGS = 8
MAX_STOP_CHARS = 256

EarlyStopping = bool | Literal["never"]


def _is_int(value: object) -> bool:
    # bool is an int subclass; `max_new_tokens=True` is a caller bug, not 1.
    return isinstance(value, int) and not isinstance(value, bool)


def check_stop_strings(stop: Any) -> tuple[str, ...]:
    """Stop strings as a tuple; ValueError unless a list/tuple of at most MAX_STOP_STRINGS short strings."""
    if isinstance(stop, str) or not isinstance(stop, tuple | list):
        raise ValueError(f"stop must be a tuple of strings, got {stop!r}")
    if len(stop) > MAX_STOP_STRINGS:
        raise ValueError(f"stop accepts at most {MAX_STOP_STRINGS} strings, got {len(stop)}")
    for item in stop:
        if not isinstance(item, str) or not item:
            raise ValueError(f"stop strings must be non-empty strings, got {item!r}")
        if len(item) > MAX_STOP_CHARS:
            raise ValueError(f"each stop string must be at most {MAX_STOP_CHARS} characters")
    return tuple(stop)


def _is_number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)) and math.isfinite(value)


@dataclass(frozen=True)
class SamplingParams:
    """Decoding settings for one request; invalid values raise ValueError naming the field.

    ``do_sample`` may be left as None: it then resolves to ``temperature > 0``. Greedy decoding
    (``do_sample`` False) ignores temperature, top_p and top_k, as Hugging Face ``generate`` does.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    num_beams: int = 1
    length_penalty: float = 1.0
    early_stopping: EarlyStopping = False
    repetition_penalty: float = 1.0
    max_new_tokens: int = 256
    stop: tuple[str, ...] = ()
    seed: int | None = None
    ignore_eos: bool = False
    do_sample: bool | None = None

    def __post_init__(self) -> None:
        self._check_numbers()
        self._check_stop()
        if self.seed is not None and not _is_int(self.seed):
            raise ValueError(f"seed must be an integer or None, got {self.seed!r}")
        if not isinstance(self.ignore_eos, bool):
            raise ValueError(f"ignore_eos must be a bool, got {self.ignore_eos!r}")
        if not (isinstance(self.early_stopping, bool) or self.early_stopping == "never"):
            raise ValueError(f"early_stopping must be true, false or 'never', got {self.early_stopping!r}")
        if self.do_sample is None:
            object.__setattr__(self, "do_sample", self.temperature > 0)
        elif not isinstance(self.do_sample, bool):
            raise ValueError(f"do_sample must be a bool or None, got {self.do_sample!r}")
        elif self.do_sample and self.temperature == 0:
            raise ValueError("temperature must be > 0 when do_sample is true (temperature 0 means greedy)")
        if self.num_beams > 1 and self.do_sample:
            raise ValueError(
                "num_beams > 1 needs greedy scoring: set temperature=0 or do_sample=false "
                "(beam search and sampling cannot be combined)"
            )

    def _check_numbers(self) -> None:
        for name in ("temperature", "top_p", "length_penalty", "repetition_penalty"):
            if not _is_number(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number, got {getattr(self, name)!r}")
        for name in ("top_k", "num_beams", "max_new_tokens"):
            if not _is_int(getattr(self, name)):
                raise ValueError(f"{name} must be an integer, got {getattr(self, name)!r}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0 (0 means greedy), got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0 turns it off), got {self.top_k}")
        if self.num_beams < 1:
            raise ValueError(f"num_beams must be >= 1, got {self.num_beams}")
        if self.repetition_penalty <= 0:
            raise ValueError(f"repetition_penalty must be > 0, got {self.repetition_penalty}")
        if not 1 <= self.max_new_tokens <= MAX_NEW_TOKENS_CAP:
            raise ValueError(
                f"max_new_tokens must be in [1, {MAX_NEW_TOKENS_CAP}], got {self.max_new_tokens}"
            )

    def _check_stop(self) -> None:
        object.__setattr__(self, "stop", check_stop_strings(self.stop))

    @classmethod
    def greedy(cls, max_new_tokens: int = 256, **kwargs: Any) -> SamplingParams:
        """Greedy decoding (temperature 0)."""
        return cls(temperature=0.0, max_new_tokens=max_new_tokens, **kwargs)

    @classmethod
    def beam(cls, num_beams: int, max_new_tokens: int = 256, **kwargs: Any) -> SamplingParams:
        """Beam search with ``num_beams`` beams (greedy scoring)."""
        return cls(temperature=0.0, num_beams=num_beams, max_new_tokens=max_new_tokens, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (stop as a list) that ``from_dict`` reads back."""
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SamplingParams:
        """Build from a stored dict; unknown keys are an error naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown sampling field(s): {', '.join(unknown)}")
        values = dict(data)
        if "stop" in values and isinstance(values["stop"], list):
            values["stop"] = tuple(values["stop"])
        return cls(**values)
