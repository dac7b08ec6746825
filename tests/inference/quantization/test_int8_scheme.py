"""The int8 scheme is chosen by probing the kernel; the AVX2 scheme is tested on any CPU."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from inference.quantization import QuantizationError, quantize_model
from inference.quantization.dynamic import DynamicInt8Linear
from inference.quantization.int8_scheme import (
    SAFE_SCHEME,
    SATURATION_TOLERANCE,
    choose_scheme,
    detected_scheme,
    probe_error,
    weight_range,
)
from tests.inference.quantization.int16_kernel import avx2_int16_kernel, exact_int32_kernel


def _rel(out: torch.Tensor, ref: torch.Tensor) -> float:
    return float((out - ref).norm() / ref.norm())


def _through(kernel, layer: DynamicInt8Linear, x: torch.Tensor) -> torch.Tensor:  # type: ignore[no-untyped-def]
    packed = layer.inner._packed_params._packed_params
    return kernel(x, packed, layer.scheme == "act7")


def test_the_emulated_avx2_kernel_reproduces_the_reported_damage() -> None:
    # The failure seen on an AVX2-only EPYC: ~0.2 relative error with full-range int8.
    torch.manual_seed(0)
    linear = nn.Linear(128, 64)
    x = torch.randn(21, 128)
    with torch.no_grad():
        ref = linear(x)
        layer = DynamicInt8Linear(linear, "full")
        assert _rel(_through(avx2_int16_kernel, layer, x), ref) > 0.1
        assert _rel(_through(exact_int32_kernel, layer, x), ref) < 0.02


def test_the_probe_tells_a_saturating_kernel_from_an_exact_one() -> None:
    assert probe_error(avx2_int16_kernel) > 0.3
    assert probe_error(exact_int32_kernel) < SATURATION_TOLERANCE
    assert choose_scheme("auto", kernel=avx2_int16_kernel).scheme == SAFE_SCHEME
    assert choose_scheme("auto", kernel=exact_int32_kernel).scheme == "full"


@pytest.mark.parametrize("scheme", ["weight7", "act7"])
def test_safe_schemes_are_accurate_on_the_avx2_kernel(scheme: str) -> None:
    torch.manual_seed(0)
    linear = nn.Linear(576, 256)
    x = torch.randn(32, 576)
    with torch.no_grad():
        layer = DynamicInt8Linear(linear, scheme)  # type: ignore[arg-type]
        emulated = _through(avx2_int16_kernel, layer, x)
        exact = _through(exact_int32_kernel, layer, x)
        # No saturation at all: the AVX2 result is the exact integer result.
        assert torch.allclose(emulated, exact, atol=1e-4)
        assert _rel(emulated, linear(x)) < 0.03


def test_weight7_keeps_weights_inside_the_7_bit_grid() -> None:
    layer = DynamicInt8Linear(nn.Linear(64, 32), "weight7")
    w = layer.inner.weight().int_repr()
    low, high = weight_range("weight7")
    assert int(w.min()) >= low and int(w.max()) <= high


def test_the_real_kernel_is_accurate_with_the_scheme_detected_here() -> None:
    torch.manual_seed(0)
    linear = nn.Linear(128, 64)
    x = torch.randn(9, 128)
    with torch.no_grad():
        assert _rel(DynamicInt8Linear(linear)(x), linear(x)) < 0.02
    assert detected_scheme().reason


def test_quantize_model_forces_a_scheme_everywhere(tiny_model: nn.Module) -> None:
    model = quantize_model(copy.deepcopy(tiny_model), "dynamic-int8", int8_scheme="weight7")
    layers = [m for m in model.modules() if isinstance(m, DynamicInt8Linear)]
    assert layers and {m.scheme for m in layers} == {"weight7"}


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(QuantizationError, match="int8 scheme"):
        choose_scheme("int7")
