"""DecodingPolicy: how one intent's replies are generated, validated field by field (stored by store.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from inference.params import MAX_NEW_TOKENS_CAP, MAX_STOP_STRINGS, SamplingParams, check_stop_strings

Strategy = Literal["greedy", "beam", "nucleus", "top_k", "sampling"]
SAMPLED = ("nucleus", "top_k", "sampling")
MAX_BEAMS = 8
MAX_SYSTEM_PROMPT_CHARS = 4000


class DecodingPolicy(BaseModel):
    """How one intent's replies are generated, plus the router thresholds that send traffic to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: Strategy = "greedy"
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    top_k: int = Field(default=0, ge=0, le=1000)
    num_beams: int = Field(default=1, ge=1, le=MAX_BEAMS)
    length_penalty: float = Field(default=1.0, ge=-5.0, le=5.0)
    repetition_penalty: float = Field(default=1.0, ge=0.5, le=2.0)
    max_new_tokens: int = Field(default=160, ge=1, le=MAX_NEW_TOKENS_CAP)
    stop: tuple[str, ...] = Field(default=(), max_length=MAX_STOP_STRINGS)
    system_prompt: str = Field(default="", max_length=MAX_SYSTEM_PROMPT_CHARS)
    # None: the router's own thresholds, chosen on held-out data by `switchboard router train`.
    router_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    ambiguity_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    priority: int = Field(default=0, ge=-10, le=10)

    # Field validators run in declaration order, so `info.data` already holds the strategy: the
    # cross-field errors then land on the field the operator must change, not on the whole form.
    @field_validator("temperature")
    @classmethod
    def _sampling_needs_heat(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("strategy") in SAMPLED and value <= 0:
            raise ValueError("must be > 0 for a sampling strategy (use greedy for temperature 0)")
        return value

    @field_validator("top_p")
    @classmethod
    def _nucleus_needs_top_p(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("strategy") == "nucleus" and value >= 1:
            raise ValueError("nucleus sampling needs top_p < 1 (top_p = 1 keeps every token)")
        return value

    @field_validator("top_k")
    @classmethod
    def _top_k_needs_k(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("strategy") == "top_k" and value < 1:
            raise ValueError("top_k sampling needs top_k >= 1")
        return value

    @field_validator("num_beams")
    @classmethod
    def _beam_needs_beams(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("strategy") == "beam" and value < 2:
            raise ValueError("beam search needs num_beams >= 2")
        return value

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_strings(cls, value: Any) -> Any:
        if isinstance(value, str):  # the form sends one stop string per line
            value = [line for line in value.splitlines() if line]
        if isinstance(value, list | tuple) and len(value) <= MAX_STOP_STRINGS:
            return check_stop_strings(value)  # the engine's own rule, so a saved policy always runs
        return value  # the wrong type or too many: the field's own error says so

    @field_validator("ambiguity_threshold")
    @classmethod
    def _ambiguity_below_threshold(cls, value: float | None, info: ValidationInfo) -> float | None:
        threshold = info.data.get("router_threshold")
        if threshold is not None and value is not None and value > threshold:
            raise ValueError("must not exceed router_threshold (a margin, not a second threshold)")
        return value

    def to_sampling_params(self, seed: int | None = None) -> SamplingParams:
        """The engine's SamplingParams; fields the strategy does not use are left at neutral values."""
        common: dict[str, Any] = {
            "repetition_penalty": self.repetition_penalty,
            "max_new_tokens": self.max_new_tokens,
            "stop": self.stop,
            "seed": seed,
        }
        if self.strategy == "greedy":
            return SamplingParams(temperature=0.0, **common)
        if self.strategy == "beam":
            return SamplingParams(
                temperature=0.0,
                num_beams=self.num_beams,
                length_penalty=self.length_penalty,
                early_stopping=True,
                **common,
            )
        top_p = self.top_p if self.strategy == "nucleus" else 1.0
        top_k = self.top_k if self.strategy == "top_k" else 0
        return SamplingParams(temperature=self.temperature, top_p=top_p, top_k=top_k, **common)

    def applied(self) -> dict[str, Any]:
        """The strategy and only the parameters it uses (what a stored reply records)."""
        params = self.to_sampling_params()
        out: dict[str, Any] = {"strategy": self.strategy}
        if self.strategy == "beam":
            out |= {"num_beams": params.num_beams, "length_penalty": params.length_penalty}
        elif self.strategy != "greedy":
            out |= {"temperature": params.temperature, "top_p": params.top_p, "top_k": params.top_k}
        out |= {
            "repetition_penalty": params.repetition_penalty,
            "max_new_tokens": params.max_new_tokens,
            "stop": list(params.stop),
        }
        return out


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Map a ValidationError to {field: message} for forms and 422 bodies."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "__all__"
        message = str(err["msg"]).removeprefix("Value error, ")
        errors.setdefault(field, message)
    return errors


# No system prompt by default: an empty one means "the prompt the intent's adapter was trained
# with" (adapters/<intent>/system_prompt.txt), so a fresh install answers in the style the adapters learned.
DEFAULT_POLICIES: dict[str, DecodingPolicy] = {
    "general": DecodingPolicy(
        strategy="nucleus",
        temperature=0.7,
        top_p=0.9,
        repetition_penalty=1.1,
        max_new_tokens=160,
    ),
    # Support answers should be reproducible and precise: no sampling.
    "tech_support": DecodingPolicy(
        strategy="greedy",
        repetition_penalty=1.15,
        max_new_tokens=200,
        priority=1,
    ),
    "sales": DecodingPolicy(
        strategy="top_k",
        temperature=0.8,
        top_k=40,
        repetition_penalty=1.1,
        max_new_tokens=160,
    ),
}
