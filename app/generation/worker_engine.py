"""The engine a worker serves: the configured model, or a tiny random Llama for load and fault tests."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from adapters.intents import INTENTS
from app.config import Settings
from app.generation.engine_factory import build_engine, build_llm_engine
from inference import AsyncEngine

# Small random LoRAs keep every intent's adapter path real (multi-LoRA batches) at tiny cost.
DUMMY_LORA_RANK = 4


def write_random_adapters(base: Any, root: Path, seed: int = 0) -> Path:
    """Save one random PEFT LoRA per intent for ``base`` under ``root``; returns ``root``."""
    import torch
    from peft import LoraConfig, get_peft_model

    for i, name in enumerate(INTENTS):
        config = LoraConfig(
            r=DUMMY_LORA_RANK, lora_alpha=2 * DUMMY_LORA_RANK, target_modules=["q_proj", "v_proj"],
            init_lora_weights=False, lora_dropout=0.0,
        )  # fmt: skip
        torch.manual_seed(seed + i + 1)
        peft_model = get_peft_model(base, config)
        peft_model.save_pretrained(str(root / name))
        base = peft_model.unload()  # back to the untouched base for the next adapter
    return root


def build_worker_engine(settings: Settings, dummy: str | None = None) -> AsyncEngine:
    """``dummy`` names a random-weight shape (e.g. 'tiny') served with the real tokenizer."""
    if dummy is None:
        return build_engine(settings)
    from transformers import AutoTokenizer

    from inference.loading.dummy import SHAPES, build_random_llama

    if dummy not in SHAPES:
        raise ValueError(f"dummy model must be one of {sorted(SHAPES)}, got {dummy!r}")
    tokenizer = AutoTokenizer.from_pretrained(str(settings.model_dir))
    adapters = Path(tempfile.mkdtemp(prefix="switchboard-dummy-adapters-"))
    write_random_adapters(build_random_llama(dummy, seed=0, initializer_range=0.5), adapters)
    model = build_random_llama(dummy, seed=0, initializer_range=0.5)
    engine = build_llm_engine(model, tokenizer, settings.model_copy(update={"adapters_dir": adapters}))
    return AsyncEngine(engine)
