"""Dynamic int8 quantization on CPU: int8 weights, activations quantized per call (fbgemm/x86)."""

from __future__ import annotations

import torch
from torch import nn

from inference.quantization.errors import QuantizationError
from inference.quantization.int8_scheme import Int8Scheme, detected_scheme, quantized_dynamic_linear
from inference.quantization.targets import tensor_bytes

OUTLIER_ROW_RATIO = 4.0  # a row whose absmax exceeds 4x the median row's gets its own scale


# Where the kernel saturates (AVX2 without VNNI) one bit is lost (int8_scheme.py); keeping the
# first layers float too, whose inputs carry the model's massive activations, wins most of it
# back: on SmolLM2 held-out chat weight7 went +6.3 % -> +4.9 % perplexity (docs/benchmarks/quant).
SAFE_SCHEME_FLOAT_LAYERS = 2


def keep_in_float(name: str, num_layers: int, scheme: Int8Scheme = "full") -> bool:
    """Projections whose inputs have outliers that one per-tensor int8 activation scale ruins.

    Measured on SmolLM2-135M held-out chat (8-bit activations): all projections int8 -> +69 %
    perplexity; every down_proj float (its input, SwiGLU's output, has rare huge channels) +6 %;
    the last layer float too +4 %; plus outlier rows quantized on their own (16 texts) +4.3 %.
    Kept float: about 1/7 of the projection weights (plus two layers under the 7-bit schemes).
    """
    if name.endswith("mlp.down_proj") or f"layers.{num_layers - 1}." in name:
        return True
    # ... but never so many that a small model has nothing left to quantize
    first = min(SAFE_SCHEME_FLOAT_LAYERS, num_layers - 2) if scheme != "full" else 0
    return any(f"layers.{i}." in name for i in range(first))


class DynamicInt8Linear(nn.Linear):
    """nn.Linear-compatible wrapper of torch's dynamic int8 Linear (so PEFT and the engine see a Linear)."""

    inner: torch.ao.nn.quantized.dynamic.Linear

    def __init__(self, linear: nn.Linear, scheme: Int8Scheme | None = None) -> None:
        nn.Module.__init__(self)  # no float weight: the packed int8 one lives in ``inner``
        if linear.weight.device.type != "cpu" or linear.weight.dtype != torch.float32:
            raise QuantizationError("dynamic-int8 runs on CPU float32 models only (load with dtype float32)")
        self.in_features, self.out_features = linear.in_features, linear.out_features
        # None: what this CPU's kernel computes correctly (probed once per process).
        self.scheme: Int8Scheme = scheme or detected_scheme().scheme
        # Per-channel weight scales: one outlier row no longer coarsens every other row's grid.
        inner = quantized_dynamic_linear(linear, self.scheme)
        # Kept off the module tree: PEFT loads adapters with a partial state dict, which torch's
        # quantized Linear refuses (it needs its own keys). The model is quantized at load time,
        # so its int8 weights never need to travel through a state dict.
        self.__dict__["inner"] = inner
        self.bias = None  # type: ignore[assignment]  # the bias is packed with the weight in ``inner``

    @property
    def weight(self) -> torch.Tensor:  # type: ignore[override]
        """The dequantized float weight (for PEFT's shape/dtype checks, not for compute)."""
        return self.inner.weight().dequantize()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Int8 GEMM with the activation quantized on the fly (8 bits, or 7 under ``act7``)."""
        rows = x.reshape(-1, self.in_features)
        if rows.shape[0] > 1:
            # One activation scale covers all rows of a call; a token with massive activations
            # (the first token of a chat, typically) would coarsen every other token's grid.
            # Such rows get their own call; decode at batch 1 (one row) never takes this path.
            amax = rows.abs().amax(dim=1)
            outlier = amax > OUTLIER_ROW_RATIO * amax.median()
            if bool(outlier.any()):
                out = torch.empty(rows.shape[0], self.out_features, dtype=x.dtype, device=x.device)
                normal = ~outlier
                if bool(normal.any()):
                    out[normal] = self._int8(rows[normal])
                for i in outlier.nonzero().flatten().tolist():
                    out[i] = self._int8(rows[i : i + 1])[0]
                return out.reshape(*x.shape[:-1], self.out_features)
        return self._int8(x)

    def _int8(self, x: torch.Tensor) -> torch.Tensor:
        # torch's own module always passes reduce_range=True (7-bit activations) on x86; here the
        # scheme decides: 8-bit activations wherever the kernel does not saturate (int8_scheme.py).
        packed = self.inner._packed_params._packed_params
        return torch.ops.quantized.linear_dynamic(x, packed, self.scheme == "act7")

    def quantized_bytes(self) -> int:
        """Bytes of the int8 weight, its per-channel scales/zero points, and the float bias."""
        w, b = self.inner._weight_bias()
        total = tensor_bytes(w)
        if w.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric):
            total += tensor_bytes(w.q_per_channel_scales()) + tensor_bytes(w.q_per_channel_zero_points())
        return total + (tensor_bytes(b) if b is not None else 0)

    def extra_repr(self) -> str:
        shape = f"in_features={self.in_features}, out_features={self.out_features}"
        return f"{shape}, dtype=qint8, scheme={self.scheme}"
