"""Reference int8 GEMMs in plain torch: the AVX2 (pairwise int16, saturating) one and an exact one.

They let a VNNI machine compute what an AVX2-only machine computes, so the scheme that machine
gets is tested everywhere. Same signature as torch.ops.quantized.linear_dynamic.
"""

from __future__ import annotations

import torch


def _quantize_activation(x: torch.Tensor, reduce_range: bool) -> tuple[torch.Tensor, float, int]:
    # torch's dynamic quantization: the range always holds 0; u8 over [0, 255] or [0, 127].
    qmax = 127 if reduce_range else 255
    low, high = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    scale = max((high - low) / qmax, 1e-12)
    zero_point = int(min(max(round(-low / scale), 0), qmax))
    q = torch.clamp(torch.round(x / scale) + zero_point, 0, qmax).to(torch.int64)
    return q, scale, zero_point


def _gemm(x: torch.Tensor, packed: object, reduce_range: bool, saturate: bool) -> torch.Tensor:
    weight, bias = torch.ops.quantized.linear_unpack(packed)
    wq = weight.int_repr().to(torch.int64)  # [out, in]
    w_scale = weight.q_per_channel_scales().to(torch.float64)
    rows = x.reshape(-1, x.shape[-1]).to(torch.float64)
    xq, x_scale, x_zp = _quantize_activation(rows, reduce_range)
    products = xq[:, None, :] * wq[None, :, :]  # [rows, out, in]
    if products.shape[-1] % 2:
        products = torch.nn.functional.pad(products, (0, 1))
    pairs = products[..., 0::2] + products[..., 1::2]  # vpmaddubsw: two products into one int16
    if saturate:
        pairs = pairs.clamp(-32768, 32767)
    acc = pairs.sum(-1) - x_zp * wq.sum(-1)[None, :]
    y = acc.to(torch.float64) * x_scale * w_scale[None, :]
    if bias is not None:
        y = y + bias.to(torch.float64)
    return y.to(x.dtype).reshape(*x.shape[:-1], wq.shape[0])


def avx2_int16_kernel(x: torch.Tensor, packed: object, reduce_range: bool) -> torch.Tensor:
    """fbgemm's AVX2 path without VNNI: adjacent u8 x s8 products summed into a saturating int16."""
    return _gemm(x, packed, reduce_range, saturate=True)


def exact_int32_kernel(x: torch.Tensor, packed: object, reduce_range: bool) -> torch.Tensor:
    """A VNNI/Arm-dotprod-like kernel: the same products accumulated exactly in int32."""
    return _gemm(x, packed, reduce_range, saturate=False)
