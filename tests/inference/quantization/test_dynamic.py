"""Dynamic int8 Linear: close to the float Linear, Linear-shaped, refuses what it cannot run."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inference.quantization import QuantizationError
from inference.quantization.dynamic import DynamicInt8Linear
from inference.quantization.int8_scheme import Int8Scheme

# None = the scheme probed on this CPU; the others are forced so every CPU tests every scheme.
SCHEMES = [None, "full", "weight7", "act7"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_dynamic_int8_linear_is_close_to_the_float_linear(scheme: Int8Scheme | None) -> None:
    torch.manual_seed(0)
    linear = nn.Linear(128, 64)
    q = DynamicInt8Linear(linear, scheme)
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


@pytest.mark.parametrize("scheme", SCHEMES)
def test_an_outlier_row_does_not_coarsen_the_other_rows(scheme: Int8Scheme | None) -> None:
    torch.manual_seed(0)
    linear = nn.Linear(64, 32)
    q = DynamicInt8Linear(linear, scheme)
    x = torch.randn(6, 64)
    x[0] *= 500.0  # a "massive activation" token
    with torch.no_grad():
        out, ref = q(x), linear(x)
        alone = q(x[1:])
    # The ordinary rows come out exactly as if the outlier were not in the call.
    assert torch.allclose(out[1:], alone)
    assert float((out[1:] - ref[1:]).norm() / ref[1:].norm()) < 0.02
    assert float((out[0] - ref[0]).norm() / ref[0].norm()) < 0.02
