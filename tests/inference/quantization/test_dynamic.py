"""Dynamic int8 Linear: close to the float Linear, Linear-shaped, refuses what it cannot run."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inference.quantization import QuantizationError
from inference.quantization.dynamic import DynamicInt8Linear
from inference.quantization.int8_scheme import Int8Scheme, detected_scheme, probe_error

# None = the scheme probed on this CPU; the others are forced so every CPU tests every scheme it
# can compute. "full" is wrong by design where the kernel saturates (AVX2 without VNNI: int8_scheme)
# and is never chosen there; test_full_range_saturates_where_the_probe_says_so checks that instead.
SCHEMES = [None, "full", "weight7", "act7"]


def _skip_full_where_it_saturates(scheme: Int8Scheme | None) -> None:
    if scheme == "full" and detected_scheme().scheme != "full":
        pytest.skip(f"full-range int8 saturates on this CPU's kernel: {detected_scheme().reason}")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_dynamic_int8_linear_is_close_to_the_float_linear(scheme: Int8Scheme | None) -> None:
    _skip_full_where_it_saturates(scheme)
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
    _skip_full_where_it_saturates(scheme)
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


def test_full_range_saturates_where_the_probe_says_so() -> None:
    """The probe and the kernel agree: where auto picks a 7-bit scheme, forced full-range products
    on ordinary activations are visibly wrong and the auto scheme is not; elsewhere full is exact."""
    torch.manual_seed(0)
    linear = nn.Linear(128, 64)
    x = torch.randn(3, 7, 128)
    with torch.no_grad():
        ref = linear(x)
        full = float((DynamicInt8Linear(linear, "full")(x) - ref).norm() / ref.norm())
        auto = float((DynamicInt8Linear(linear)(x) - ref).norm() / ref.norm())
    if detected_scheme().scheme == "full":
        assert probe_error() <= 0.05 and full < 0.02
    else:
        assert probe_error() > 0.05 and full > 0.05 and auto < 0.02
