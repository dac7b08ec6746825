"""Switchboard inference engine: continuous batching over one base model with many LoRA adapters.

The public surface; everything else in the package is how it works inside. The engine classes
need torch, which takes seconds to import, so they load on first use: the web app imports the
request types at start-up and the engine only once it builds one (a fast first page).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from inference.number_values import allowed_values, unverified_numbers
from inference.params import SamplingParams
from inference.request import FinishReason, GenerationRequest, TokenEvent, UnknownAdapterError

if TYPE_CHECKING:
    from inference.async_engine import AsyncEngine
    from inference.engine import EngineConfig, LLMEngine

_LAZY = {
    "AsyncEngine": "inference.async_engine",
    "EngineConfig": "inference.engine",
    "LLMEngine": "inference.engine",
}

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


def __getattr__(name: str) -> Any:
    """The torch-backed engine classes, imported when first named (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'inference' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value
