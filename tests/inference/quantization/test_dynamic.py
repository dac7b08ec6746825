"""Dynamic int8 Linear: close to the float Linear, Linear-shaped, refuses what it cannot run."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inference.quantization import QuantizationError
from inference.quantization.dynamic import DynamicInt8Linear


def test_dynamic_int8_linear_is_close_to_the_float_linear() -> None:
    torch.manual_seed(0)
    linear = nn.Linear(128, 64)
    q = DynamicInt8Linear(linear)
    x = torch.randn(3, 7, 128)
    out, ref = q(x), linear(x)
    assert out.shape == ref.shape
    assert float((out - ref).norm() / ref.norm()) < 0.02
    assert isinstance(q, nn.Linear) and q.weight.shape == (64, 128)


def test_quantized_storage_is_about_a_quarter() -> None:
    q = DynamicInt8Linear(nn.Linear(256, 256, bias=False))
    assert q.quantized_bytes() < 256 * 256 * 4 * 0.3


def test_non_fp32_weights_are_refused_with_a_clear_error() -> None:
    with pytest.raises(QuantizationError, match="float32"):
        DynamicInt8Linear(nn.Linear(16, 16).to(torch.bfloat16))
