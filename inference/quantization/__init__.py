"""Quantize a loaded causal LM by swapping its projection Linears; one module per mode.

Modes: ``none``, ``dynamic-int8`` (CPU), ``rtn-int8`` / ``rtn-int4`` (weight-only, group-wise,
any device), ``int8`` / ``nf4`` (bitsandbytes, CUDA). LoRA works on every mode because each
replacement still behaves as a Linear: the engine adds its deltas to the module's output, and
PEFT wraps the replacements like any ``nn.Linear`` (bitsandbytes layers natively).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from inference.quantization.errors import QuantizationError
from inference.quantization.targets import replace_projections, tensor_bytes

MODES: tuple[str, ...] = ("none", "dynamic-int8", "rtn-int8", "rtn-int4", "int8", "nf4")
DEFAULT_GROUP_SIZE = 64

__all__ = ["MODES", "QuantizationError", "model_memory_bytes", "quantize_model"]


def _builder(model: nn.Module, mode: str, group_size: int) -> Callable[[nn.Linear], nn.Module]:
    if mode in ("rtn-int8", "rtn-int4"):
        from inference.quantization.rtn import RTNLinear

        bits = 8 if mode == "rtn-int8" else 4
        return lambda linear: RTNLinear(linear, bits=bits, group_size=group_size)
    from inference.quantization.bnb import builder

    return builder(model, mode)  # type: ignore[no-any-return]


def quantize_model(
    model: nn.Module, mode: str, group_size: int = DEFAULT_GROUP_SIZE, int8_scheme: str = "auto"
) -> nn.Module:
    """Quantize ``model``'s projection Linears in place (and return it); ``none`` leaves it as is.

    ``int8_scheme`` (dynamic-int8 only): ``auto`` probes this CPU's kernel; ``full``, ``weight7``
    or ``act7`` force one (tests force the AVX2 scheme on any CPU; see int8_scheme.py).
    """
    if mode not in MODES:
        raise QuantizationError(f"quantization mode must be one of {', '.join(MODES)}; got {mode!r}")
    if mode == "none":
        return model
    keep: Callable[[str], bool] = lambda _: False  # noqa: E731
    if mode == "dynamic-int8":
        from inference.quantization.dynamic import DynamicInt8Linear, keep_in_float
        from inference.quantization.int8_scheme import choose_scheme, detected_scheme

        scheme = (detected_scheme() if int8_scheme == "auto" else choose_scheme(int8_scheme)).scheme
        layers = len(getattr(getattr(model, "model", model), "layers", []))
        build: Callable[[nn.Linear], nn.Module] = lambda linear: DynamicInt8Linear(linear, scheme)  # noqa: E731
        keep = lambda name: keep_in_float(name, layers, scheme)  # noqa: E731
    else:
        build = _builder(model, mode, group_size)
    if replace_projections(model, build, keep) == 0:
        raise QuantizationError(
            f"mode {mode!r}: the model has no float projection Linears (q_proj ... down_proj) to quantize"
        )
    return model


def model_memory_bytes(model: nn.Module) -> int:
    """Bytes of all weights: float parameters/buffers plus quantized storage, tied weights once."""
    seen: set[int] = set()
    total = 0
    for module in model.modules():
        quantized = getattr(module, "quantized_bytes", None)
        if callable(quantized):
            total += int(quantized())
        for t in [*module.parameters(recurse=False), *module.buffers(recurse=False)]:
            if id(t) in seen or (callable(quantized) and t is not getattr(module, "bias", None)):
                continue
            seen.add(id(t))
            total += tensor_bytes(t)
    return total
