"""The three benchmark adapters: the trained ones when present, else random ones of the same shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from inference.lora_folder import is_lora_folder

ADAPTER_NAMES = ("general", "tech_support", "sales")
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def _trained(adapters_dir: Path, name: str) -> Path | None:
    path = adapters_dir / name
    return path if is_lora_folder(path) else None


def write_random_adapter(model: Any, path: Path, rank: int = 16, seed: int = 0) -> Path:
    """Save a PEFT-format LoRA on all seven projections with random, non-zero A and B factors."""
    from safetensors.torch import save_file

    gen = torch.Generator().manual_seed(seed)
    tensors: dict[str, torch.Tensor] = {}
    for i, layer in enumerate(model.model.layers):
        for part, parent in (("self_attn", layer.self_attn), ("mlp", layer.mlp)):
            for proj in PROJECTIONS:
                module = getattr(parent, proj, None)
                if module is None:
                    continue
                prefix = f"base_model.model.model.layers.{i}.{part}.{proj}"
                # Small B keeps the adapted model close to the base (its logits stay sensible).
                a = torch.randn(rank, module.in_features, generator=gen) / module.in_features**0.5
                b = torch.randn(module.out_features, rank, generator=gen) * 0.01
                tensors[f"{prefix}.lora_A.weight"] = a.contiguous()
                tensors[f"{prefix}.lora_B.weight"] = b.contiguous()
    path.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path / "adapter_model.safetensors"))
    config = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "r": rank,
        "lora_alpha": 2 * rank,
        "lora_dropout": 0.0,
        "target_modules": list(PROJECTIONS),
        "bias": "none",
        "base_model_name_or_path": None,
        "inference_mode": True,
    }
    (path / "adapter_config.json").write_text(json.dumps(config, indent=2))
    return path


def resolve_adapters(
    model: Any, adapters_dir: Path | None, scratch: Path, rank: int = 16, use_trained: bool = True
) -> tuple[dict[str, Path], dict[str, str]]:
    """Paths of the three adapters and where each came from ('trained' or 'random r=16')."""
    paths: dict[str, Path] = {}
    origin: dict[str, str] = {}
    for seed, name in enumerate(ADAPTER_NAMES):
        trained = _trained(adapters_dir, name) if (adapters_dir and use_trained) else None
        if trained is not None:
            paths[name], origin[name] = trained, "trained"
        else:
            paths[name] = write_random_adapter(model, scratch / name, rank, seed=seed + 1)
            origin[name] = f"random r={rank}"
    return paths, origin
