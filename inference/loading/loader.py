"""Load a local Hugging Face causal LM and its tokenizer onto a device, with clear one-line errors."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from inference.loading.model_dir import ModelLoadError, check_model_dir

__all__ = [
    "LoadedModel",
    "ModelLoadError",
    "check_model_dir",
    "load_model",
    "resolve_device",
    "resolve_dtype",
]

# No machine here reaches a model hub: never let transformers try.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@dataclass(frozen=True)
class LoadedModel:
    """A causal LM in eval mode plus its tokenizer, on a known device and dtype."""

    model: Any
    tokenizer: Any
    device: torch.device
    dtype: torch.dtype


def resolve_device(device: str) -> torch.device:
    """'auto' picks CUDA when present, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("device 'cuda' requested but no CUDA device is available")
    return torch.device(device)


def resolve_dtype(
    dtype: str, device: torch.device, needs_fp32: bool = False, probe_cache: Path | None = None
) -> torch.dtype:
    """'auto': bf16 on CUDA; on CPU bf16 only where this CPU runs bf16 matmuls measurably faster.

    AVX-512-BF16/AMX CPUs run bf16 ~2x faster than fp32 (at +0.6 % perplexity on SmolLM2), AVX2-only
    CPUs ~12x slower, so the CPU choice is measured (inference/cpu_features.py), never assumed.
    ``needs_fp32``: the caller will quantize with a mode that wants fp32 weights (dynamic-int8).
    ``probe_cache``: a folder where the measured speed-up is kept per CPU, so later starts skip it.
    """
    if dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16
        from inference.cpu_features import bf16_is_faster

        return torch.bfloat16 if not needs_fp32 and bf16_is_faster(probe_cache) else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]


def load_model(
    path: Path,
    device: str = "auto",
    dtype: str = "auto",
    needs_fp32: bool = False,
    probe_cache: Path | None = None,
) -> LoadedModel:
    """Load model + tokenizer from a local folder; errors are ModelLoadError, never a traceback.

    The converted default model loads straight from its safetensors (``inference/loading/direct.py``);
    other folders through ``from_pretrained``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from inference.loading.direct import load_llama_direct

    check_model_dir(path)
    torch_device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, torch_device, needs_fp32, probe_cache)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        model: Any = load_llama_direct(path, torch_dtype)
        if model is None:
            model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch_dtype)
    except (OSError, ValueError, KeyError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"could not load model from {path}: {first_line}") from exc
    model.to(torch_device).eval()
    return LoadedModel(model=model, tokenizer=tokenizer, device=torch_device, dtype=torch_dtype)
