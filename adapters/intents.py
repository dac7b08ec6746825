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
# The demo store the adapters were trained to speak for; serving replaces it with the configured name.
TRAINED_BUSINESS_NAME = "Voltline"


def check_intent(intent: str) -> str:
    """Return ``intent`` if it is one of INTENTS, else raise ValueError naming the known intents."""
    if intent not in INTENTS:
        raise ValueError(f"intent must be one of {', '.join(INTENTS)}; got {intent!r}")
    return intent


@cache
def system_prompts(adapters_dir: Path = ADAPTERS_DIR) -> dict[str, str]:
    """Each intent's system prompt, read once from its adapter folder."""
    return {intent: read_system_prompt(adapters_dir / intent) for intent in INTENTS}


def system_prompt(intent: str, business_name: str = TRAINED_BUSINESS_NAME) -> str:
    """The system prompt ``intent``'s adapter was trained with ("" for an unknown intent), speaking
    for ``business_name`` instead of the demo store when another business serves it."""
    return branded(system_prompts().get(intent, ""), business_name)


def branded(prompt: str, business_name: str) -> str:
    """``prompt`` with the trained store name replaced by ``business_name``."""
    name = business_name.strip()
    return prompt.replace(TRAINED_BUSINESS_NAME, name) if name else prompt
