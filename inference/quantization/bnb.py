"""bitsandbytes post-training weight quantization (CUDA only): LLM.int8() and 4-bit NF4 swaps."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from inference.quantization.errors import QuantizationError


def _require_cuda(model: nn.Module, mode: str) -> Any:
    if not torch.cuda.is_available():
        raise QuantizationError(
            f"mode {mode!r} uses bitsandbytes CUDA kernels; this machine has no CUDA device"
        )
    device = next(model.parameters()).device
    if device.type != "cuda":
        raise QuantizationError(f"mode {mode!r}: move the model to CUDA first (it is on {device})")
    try:
        import bitsandbytes as bnb
    except ImportError as exc:
        msg = f"mode {mode!r} needs the bitsandbytes package (pip install bitsandbytes)"
        raise QuantizationError(msg) from exc
    return bnb


def int8_linear(linear: nn.Linear) -> nn.Module:
    """LLM.int8(): int8 weights, outlier activation columns (> 6.0) in fp16."""
    import bitsandbytes as bnb

    device = linear.weight.device
    layer = bnb.nn.Linear8bitLt(
        linear.in_features, linear.out_features, bias=linear.bias is not None,
        has_fp16_weights=False, threshold=6.0,
    )
    # Int8Params quantizes when moved to CUDA, so hand it the float weight on the CPU first.
    layer.weight = bnb.nn.Int8Params(linear.weight.data.cpu(), requires_grad=False, has_fp16_weights=False)
    if linear.bias is not None:
        layer.bias = nn.Parameter(linear.bias.data.cpu(), requires_grad=False)
    return layer.to(device)


def nf4_linear(linear: nn.Linear) -> nn.Module:
    """4-bit NormalFloat weights (QLoRA's format), computing in the layer's original float dtype."""
    import bitsandbytes as bnb

    device, dtype = linear.weight.device, linear.weight.dtype
    layer = bnb.nn.Linear4bit(
        linear.in_features, linear.out_features, bias=linear.bias is not None,
        compute_dtype=dtype, quant_type="nf4",
    )
    layer.weight = bnb.nn.Params4bit(linear.weight.data.cpu(), requires_grad=False, quant_type="nf4")
    if linear.bias is not None:
        layer.bias = nn.Parameter(linear.bias.data.cpu(), requires_grad=False)
    return layer.to(device)


def builder(model: nn.Module, mode: str) -> Any:
    """Check CUDA + bitsandbytes are there, then return the per-Linear swap for ``mode``."""
    _require_cuda(model, mode)
    return int8_linear if mode == "int8" else nf4_linear
