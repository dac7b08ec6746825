"""The intents, one LoRA adapter each, and the system prompt each adapter was trained with.

The prompts live in the adapter folders (``adapters/<intent>/system_prompt.txt``): training
reads them from there and writes them beside the weights it saves, and serving reads them from
there, so the model is always prompted the way its adapter learned.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal, get_args

from adapters.registry import read_system_prompt

Intent = Literal["general", "tech_support", "sales"]
INTENTS: tuple[str, ...] = get_args(Intent)
ADAPTERS_DIR = Path(__file__).resolve().parent


def check_intent(intent: str) -> str:
    """Return ``intent`` if it is one of INTENTS, else raise ValueError naming the known intents."""
    if intent not in INTENTS:
        raise ValueError(f"intent must be one of {', '.join(INTENTS)}; got {intent!r}")
    return intent


@cache
def system_prompts(adapters_dir: Path = ADAPTERS_DIR) -> dict[str, str]:
    """Each intent's system prompt, read once from its adapter folder."""
    return {intent: read_system_prompt(adapters_dir / intent) for intent in INTENTS}


def system_prompt(intent: str) -> str:
    """The system prompt ``intent``'s adapter was trained with ("" for an unknown intent)."""
    return system_prompts().get(intent, "")
