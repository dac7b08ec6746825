"""Small random PEFT adapters for engine tests (nonzero lora_B, so they really change outputs)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from inference.engine import EngineConfig, LLMEngine
from inference.loading.dummy import build_random_llama

ALL_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def make_adapter(
    path: Path, rank: int, targets: list[str], seed: int, alpha: float | None = None, rslora: bool = False,
    scale_b: float = 1.0,
) -> Path:
    """Save a random LoRA for the tiny model under ``path`` in standard PEFT format."""
    from peft import LoraConfig, get_peft_model

    base = build_random_llama("tiny", seed=0, initializer_range=0.5)
    config = LoraConfig(
        r=rank, lora_alpha=alpha if alpha is not None else 2 * rank, target_modules=targets,
        init_lora_weights=False, use_rslora=rslora, lora_dropout=0.0,
    )
    torch.manual_seed(seed)
    model = get_peft_model(base, config)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.3 * scale_b)
    model.save_pretrained(str(path))
    return path


def peft_model(adapter_dir: Path | None) -> torch.nn.Module:
    """A fresh tiny base model with the adapter applied by PEFT (the reference implementation)."""
    from peft import PeftModel

    base = build_random_llama("tiny", seed=0, initializer_range=0.5)
    if adapter_dir is None:
        return base
    return PeftModel.from_pretrained(base, str(adapter_dir)).eval()


@lru_cache(maxsize=4)
def _cached_peft_model(adapter_dir: Path | None) -> torch.nn.Module:
    # generate() does not change the model, so references for one adapter can share it.
    return peft_model(adapter_dir)


def reference_greedy(adapter_dir: Path | None, prompt: list[int], max_new_tokens: int) -> list[int]:
    """Tokens HF/PEFT ``generate`` produces for this prompt alone (greedy)."""
    model = _cached_peft_model(adapter_dir)
    ids = torch.tensor([prompt])
    with torch.no_grad():
        out = model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
            do_sample=False, pad_token_id=2, eos_token_id=2,
        )
    return out[0, len(prompt) :].tolist()


def make_two_adapters(root: Path) -> dict[str, Path]:
    """The engine tests' pair: rank 4 on all seven projections, rank 8 rsLoRA on q/v only."""
    return {
        "wide": make_adapter(root / "wide", 4, ALL_PROJECTIONS, seed=1),
        "attn": make_adapter(root / "attn", 8, ["q_proj", "v_proj"], seed=2, rslora=True),
    }


def tiny_engine(tokenizer, dirs: Mapping[str | None, Path | None], **config: Any) -> LLMEngine:
    """An engine over the tiny random Llama with ``dirs``' adapters loaded (None: the base model)."""
    model = build_random_llama("tiny", seed=0, initializer_range=0.5)
    engine = LLMEngine(model, tokenizer, EngineConfig(**config))
    for name, path in dirs.items():
        if name is not None and path is not None:
            engine.load_adapter(name, path)
    return engine
