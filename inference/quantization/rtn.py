"""Weight-only round-to-nearest (RTN) post-training quantization, group-wise, to int8 or int4."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inference.quantization.errors import QuantizationError
from inference.quantization.targets import tensor_bytes


def _check(bits: int, group_size: int, in_features: int) -> None:
    if bits not in (4, 8):
        raise QuantizationError(f"bits must be 4 or 8, got {bits}")
    if group_size <= 0 or in_features % group_size:
        raise QuantizationError(
            f"group_size must be a positive divisor of in_features ({in_features}), got {group_size}"
        )


def quantize_groups(
    weight: torch.Tensor, bits: int, group_size: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Asymmetric min/max RTN per group of ``group_size`` inputs: codes (uint8), scales, offsets."""
    out_f, in_f = weight.shape
    _check(bits, group_size, in_f)
    w = weight.detach().float().reshape(out_f, in_f // group_size, group_size)
    lo = w.amin(dim=-1, keepdim=True).clamp(max=0)  # keep 0 exactly representable
    hi = w.amax(dim=-1, keepdim=True).clamp(min=0)
    qmax = (1 << bits) - 1
    scale = ((hi - lo) / qmax).clamp(min=1e-8)
    codes = torch.round((w - lo) / scale).clamp(0, qmax).to(torch.uint8)
    # fp16 side data: 3 bytes per group, small next to the group's codes.
    return codes.reshape(out_f, in_f), scale.squeeze(-1).half(), lo.squeeze(-1).half()


def dequantize_groups(
    codes: torch.Tensor, scale: torch.Tensor, offset: torch.Tensor, group_size: int
) -> torch.Tensor:
    """Float32 weight back from codes: code * scale + offset, per group."""
    out_f, in_f = codes.shape
    q = codes.reshape(out_f, in_f // group_size, group_size).float()
    w = q * scale.float().unsqueeze(-1) + offset.float().unsqueeze(-1)
    return w.reshape(out_f, in_f)


def fake_quantize(weight: torch.Tensor, bits: int, group_size: int) -> torch.Tensor:
    """Quantize then dequantize: the float weight a quantized model effectively uses."""
    return dequantize_groups(*quantize_groups(weight, bits, group_size), group_size).to(weight.dtype)


def _pack4(codes: torch.Tensor) -> torch.Tensor:
    return codes[:, 0::2] | (codes[:, 1::2] << 4)


def _unpack4(packed: torch.Tensor) -> torch.Tensor:
    return torch.stack((packed & 0xF, packed >> 4), dim=-1).reshape(packed.shape[0], -1)


class RTNLinear(nn.Linear):
    """A Linear whose weight is stored as group-wise int8/int4 codes and dequantized per call.

    It subclasses nn.Linear (without a float weight parameter) so PEFT wraps it like any Linear
    and the engine reads its in/out features; ``weight`` is the dequantized float weight.
    """

    def __init__(self, linear: nn.Linear, bits: int = 4, group_size: int = 64) -> None:
        nn.Module.__init__(self)  # skip nn.Linear's float weight allocation
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.bits, self.group_size = bits, group_size
        self.compute_dtype = linear.weight.dtype
        codes, scale, offset = quantize_groups(linear.weight, bits, group_size)
        if bits == 4:
            codes = _pack4(codes)  # two 4-bit codes per byte: the memory saving is real
        self.codes: torch.Tensor
        self.scale: torch.Tensor
        self.offset: torch.Tensor
        self.register_buffer("codes", codes)
        self.register_buffer("scale", scale)
        self.register_buffer("offset", offset)
        self.bias = None if linear.bias is None else nn.Parameter(linear.bias.detach().clone(), False)

    @property
    def weight(self) -> torch.Tensor:  # type: ignore[override]
        """The dequantized weight [out, in] in the original float dtype."""
        codes = _unpack4(self.codes) if self.bits == 4 else self.codes
        w = dequantize_groups(codes, self.scale, self.offset, self.group_size)
        return w.to(self.compute_dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x @ W^T (+ b) with W dequantized on the fly."""
        return F.linear(x, self.weight.to(x.dtype), self.bias)

    def quantized_bytes(self) -> int:
        """Bytes of codes, scales and offsets (the bias is counted as a parameter)."""
        return sum(tensor_bytes(t) for t in (self.codes, self.scale, self.offset))

    def extra_repr(self) -> str:
        shape = f"in_features={self.in_features}, out_features={self.out_features}"
        return f"{shape}, bits={self.bits}, group={self.group_size}"
