"""Which int8 scheme this CPU's dynamic-int8 kernel computes correctly, found by probing the kernel.

fbgemm's AVX2 kernels without VNNI multiply u8 activations by s8 weights pairwise into int16
(``vpmaddubsw``), which saturates once two adjacent products add up past 32,767: full-range
8-bit activations times full-range 8-bit weights reach 2 x 255 x 127 = 64,770. VNNI (and Arm's
dot-product) kernels accumulate straight into int32 and never saturate. Flags alone do not say
which kernel torch's build will pick, so the kernel itself is asked once: a product built to
saturate is computed in int8 and compared with the float answer.

Schemes (``mode=dynamic-int8``):
- ``full``: 8-bit activations x 8-bit per-channel weights (best accuracy; needs a non-saturating kernel);
- ``weight7``: 8-bit activations x 7-bit weights (|w| <= 64): 2 x 255 x 64 = 32,640 cannot saturate;
- ``act7``: 7-bit activations (torch's ``reduce_range``) x 8-bit weights: 2 x 127 x 128 = 32,512.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

import torch
from torch import nn

from inference.quantization.errors import QuantizationError

log = logging.getLogger(__name__)
Int8Scheme = Literal["full", "weight7", "act7"]
SCHEMES: tuple[str, ...] = ("auto", "full", "weight7", "act7")
# Where the kernel saturates, the scheme measured best on SmolLM2 held-out chat (see
# docs/benchmarks/quant): 7-bit per-channel weights lose less than 7-bit per-tensor activations.
SAFE_SCHEME: Int8Scheme = "weight7"
SATURATION_TOLERANCE = 0.05  # relative error; saturation halves outputs (~0.5), rounding is ~0.01
# (x, packed weight, reduce_range) -> y: torch.ops.quantized.linear_dynamic's signature
Kernel = Callable[[torch.Tensor, object, bool], torch.Tensor]


@dataclass(frozen=True)
class SchemeChoice:
    """The scheme dynamic-int8 uses here and why (logged once, written into benchmark results)."""

    scheme: Int8Scheme
    reason: str
    engine: str
    probe_error: float | None = None


def pick_engine() -> str:
    """The quantized engine: 'x86'/'fbgemm' carry the AVX2/AVX-512 int8 GEMMs; qnnpack is for Arm."""
    for name in ("x86", "fbgemm", "qnnpack"):
        if name in torch.backends.quantized.supported_engines:
            return name
    raise QuantizationError("dynamic-int8 needs a quantized engine (x86/fbgemm/qnnpack); none in this torch")


def weight_range(scheme: Int8Scheme) -> tuple[int, int]:
    """The int8 weight grid of ``scheme``: 7-bit for weight7, the full int8 range otherwise."""
    return (-64, 63) if scheme == "weight7" else (-128, 127)


def quantized_dynamic_linear(linear: nn.Linear, scheme: Int8Scheme) -> torch.ao.nn.quantized.dynamic.Linear:
    """torch's dynamic int8 Linear for ``linear``, per-channel symmetric weights on ``scheme``'s grid."""
    torch.backends.quantized.engine = pick_engine()
    low, high = weight_range(scheme)
    observer = torch.ao.quantization.PerChannelMinMaxObserver.with_args(
        dtype=torch.qint8, qscheme=torch.per_channel_symmetric, quant_min=low, quant_max=high
    )
    float_linear = nn.Linear(linear.in_features, linear.out_features, linear.bias is not None)
    float_linear.load_state_dict(linear.state_dict())
    float_linear.qconfig = torch.ao.quantization.QConfig(  # type: ignore[assignment]
        activation=torch.ao.quantization.PlaceholderObserver.with_args(dtype=torch.quint8, is_dynamic=True),
        weight=observer,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization deprecation notice
        return torch.ao.nn.quantized.dynamic.Linear.from_float(float_linear)


def _real_kernel(x: torch.Tensor, packed: object, reduce_range: bool) -> torch.Tensor:
    return torch.ops.quantized.linear_dynamic(x, packed, reduce_range)  # type: ignore[no-any-return]


def probe_error(kernel: Kernel = _real_kernel) -> float:
    """Relative error of a full-range int8 product built to saturate a pairwise-int16 kernel."""
    torch.manual_seed(0)
    linear = nn.Linear(64, 8, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.full((8, 64), 0.5))  # every weight quantizes to +127
    x = torch.ones(4, 64)
    x[:, 0] = 0.0  # the range starts at 0, so the ones quantize to 255 (zero point 0)
    inner = quantized_dynamic_linear(linear, "full")
    packed = inner._packed_params._packed_params
    with torch.no_grad():
        got = kernel(x, packed, False)
        want = x @ linear.weight.t()
    return float((got - want).norm() / want.norm())


def choose_scheme(requested: str = "auto", kernel: Kernel = _real_kernel) -> SchemeChoice:
    """``requested`` if forced; else ``full`` where the kernel cannot saturate, SAFE_SCHEME where it can."""
    if requested not in SCHEMES:
        raise QuantizationError(f"int8 scheme must be one of {', '.join(SCHEMES)}; got {requested!r}")
    engine = pick_engine()
    if requested != "auto":
        return SchemeChoice(requested, "forced", engine)  # type: ignore[arg-type]
    error = probe_error(kernel)
    if error <= SATURATION_TOLERANCE:
        return SchemeChoice("full", "kernel accumulates in int32 (no saturation)", engine, error)
    reason = "kernel saturates full-range int8 products (AVX2 without VNNI)"
    return SchemeChoice(SAFE_SCHEME, reason, engine, error)


@cache
def detected_scheme() -> SchemeChoice:
    """The auto choice for this process's CPU, probed once and logged once."""
    choice = choose_scheme("auto")
    log.info("dynamic-int8 scheme %s on engine %s: %s (probe error %.3f)",
             choice.scheme, choice.engine, choice.reason, choice.probe_error or 0.0)
    return choice
