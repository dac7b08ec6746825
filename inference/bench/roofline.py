"""The machine's compute roofline, measured in the same run, and a model's FLOPs per token."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Roofline:
    """Best sustained dense-matmul throughput seen on this device and dtype."""

    flops_per_s: float
    matrix_size: int
    device: str
    dtype: str
    threads: int


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_roofline(
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    size: int | None = None,
    repeats: int = 5,
) -> Roofline:
    """Time a large square matmul (best of ``repeats``): 2*n^3 FLOPs each."""
    device = torch.device(device)
    n = size or (8192 if device.type == "cuda" else 2048)
    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
    b = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
    inner = 10 if device.type == "cuda" else 1
    with torch.inference_mode():
        torch.matmul(a, b)  # warm-up: thread pool / cuBLAS heuristics
        _sync(device)
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(inner):
                torch.matmul(a, b)
            _sync(device)
            best = min(best, (time.perf_counter() - start) / inner)
    return Roofline(
        flops_per_s=2.0 * n**3 / best,
        matrix_size=n,
        device=str(device),
        dtype=str(dtype).removeprefix("torch."),
        threads=torch.get_num_threads(),
    )


def count_parameters(model: torch.nn.Module) -> int:
    """Parameters that take part in a forward (tied embedding/LM-head counted once)."""
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if p.data_ptr() not in seen:
            seen.add(p.data_ptr())
            total += p.numel()
    return total


def lora_parameters(model: torch.nn.Module, rank: int) -> int:
    """Parameters one rank-``rank`` adapter on all seven Llama projections adds to each token's path."""
    total = 0
    for layer in model.model.layers:  # type: ignore[union-attr]
        for parent in (layer.self_attn, layer.mlp):
            for name in ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"):
                proj = getattr(parent, name, None)
                if proj is not None:
                    total += rank * (proj.in_features + proj.out_features)
    return total


def flops_per_token(model: torch.nn.Module, lora_rank: int = 0) -> float:
    """2 x parameters (base + one adapter): the matmul FLOPs of one token, attention scores aside."""
    return 2.0 * (count_parameters(model) + (lora_parameters(model, lora_rank) if lora_rank else 0))
