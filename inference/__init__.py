"""Switchboard inference engine: continuous batching over one base model with many LoRA adapters.

The public surface; everything else in the package is how it works inside.
"""

from __future__ import annotations

from inference.async_engine import AsyncEngine
from inference.engine import EngineConfig, LLMEngine
from inference.number_guard import allowed_values, unverified_numbers
from inference.params import SamplingParams
from inference.request import FinishReason, GenerationRequest, TokenEvent, UnknownAdapterError

__all__ = [
    "AsyncEngine",
    "EngineConfig",
    "FinishReason",
    "GenerationRequest",
    "LLMEngine",
    "SamplingParams",
    "TokenEvent",
    "UnknownAdapterError",
    "allowed_values",
    "unverified_numbers",
]
