"""RTN weight-only quantization: codes round-trip, error bounds, int4 packing, bad options."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inference.quantization import QuantizationError
from inference.quantization.rtn import RTNLinear, dequantize_groups, fake_quantize, quantize_groups


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize(("bits", "bound"), [(8, 0.01), (4, 0.15)])
def test_group_quantization_error_is_bounded(bits: int, bound: float) -> None:
    w = torch.randn(32, 128, generator=torch.Generator().manual_seed(0))
    codes, scale, offset = quantize_groups(w, bits, 32)
    assert codes.dtype == torch.uint8 and int(codes.max()) < (1 << bits)
    assert _rel(dequantize_groups(codes, scale, offset, 32), w) < bound


def test_each_weight_is_within_half_a_step_of_its_grid() -> None:
    w = torch.randn(8, 64, generator=torch.Generator().manual_seed(1))
    codes, scale, offset = quantize_groups(w, 4, 16)
    err = (dequantize_groups(codes, scale, offset, 16) - w).abs().reshape(8, 4, 16)
    # fp16 side data adds a little on top of the rounding's half step.
    assert bool((err <= scale.float().unsqueeze(-1) * 0.5 + 1e-2).all())


@pytest.mark.parametrize(("bits", "bound"), [(8, 0.01), (4, 0.15)])
def test_rtn_linear_is_close_to_the_float_linear(bits: int, bound: float) -> None:
    torch.manual_seed(0)
    linear = nn.Linear(128, 48)
    q = RTNLinear(linear, bits=bits, group_size=32)
    x = torch.randn(5, 128)
    assert q.in_features == 128 and q.out_features == 48
    assert _rel(q(x), linear(x)) < bound
    assert torch.allclose(q.weight, fake_quantize(linear.weight, bits, 32))


def test_int4_codes_are_packed_two_per_byte() -> None:
    q = RTNLinear(nn.Linear(64, 16, bias=False), bits=4, group_size=64)
    assert q.codes.shape == (16, 32)
    assert q.quantized_bytes() < 64 * 16 * 4 / 6  # well under a sixth of the fp32 weight


@pytest.mark.parametrize(
    ("bits", "group", "field"), [(3, 32, "bits"), (4, 48, "group_size"), (8, 0, "group_size")]
)
def test_bad_options_name_the_field(bits: int, group: int, field: str) -> None:
    with pytest.raises(QuantizationError, match=field):
        RTNLinear(nn.Linear(64, 8), bits=bits, group_size=group)
