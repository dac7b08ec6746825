"""quantize_model / model_memory_bytes over the tiny Llama, and the guarded bitsandbytes modes."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from inference.loading.dummy import build_random_llama
from inference.quantization import MODES, QuantizationError, model_memory_bytes, quantize_model
from inference.quantization.targets import PROJECTIONS


def _projections(model: nn.Module) -> list[nn.Module]:
    return [
        getattr(layer.self_attn if name in PROJECTIONS[:4] else layer.mlp, name)
        for layer in model.model.layers
        for name in PROJECTIONS
    ]


def test_unknown_mode_names_the_choices(tiny_model: nn.Module) -> None:
    with pytest.raises(QuantizationError, match="dynamic-int8"):
        quantize_model(tiny_model, "int3")


def test_none_is_the_same_model(tiny_model: nn.Module) -> None:
    assert quantize_model(tiny_model, "none") is tiny_model


@pytest.mark.parametrize(
    ("mode", "ratio", "kept"), [("dynamic-int8", 0.5, 8), ("rtn-int8", 0.5, 0), ("rtn-int4", 0.4, 0)]
)
def test_modes_swap_the_projections_and_shrink_memory(
    tiny_model: nn.Module, mode: str, ratio: float, kept: int
) -> None:
    model = quantize_model(copy.deepcopy(tiny_model), mode, group_size=32)
    swapped = [m for m in _projections(model) if type(m) is not nn.Linear and isinstance(m, nn.Linear)]
    # dynamic-int8 keeps every down_proj and the whole last layer float (2 layers: 1 + 7 kept).
    assert len(swapped) == len(PROJECTIONS) * len(model.model.layers) - kept
    assert isinstance(model.lm_head, nn.Linear) and type(model.lm_head) is nn.Linear  # logits stay float
    # The tiny model is mostly embedding (kept float), so compare the swapped projections only.
    saved = model_memory_bytes(tiny_model) - model_memory_bytes(model)
    proj_fp32 = sum(m.in_features * m.out_features * 4 for m in swapped)
    assert saved > proj_fp32 * (1 - ratio)


def test_dynamic_keeps_outlier_prone_projections_float() -> None:
    from inference.quantization.dynamic import keep_in_float

    assert keep_in_float("model.layers.3.mlp.down_proj", 30)
    assert keep_in_float("model.layers.29.self_attn.q_proj", 30)
    assert not keep_in_float("model.layers.3.mlp.up_proj", 30)
    # the 7-bit schemes (AVX2 without VNNI) keep the first two layers float as well
    assert not keep_in_float("model.layers.1.self_attn.q_proj", 30)
    assert keep_in_float("model.layers.1.self_attn.q_proj", 30, "weight7")
    assert not keep_in_float("model.layers.2.self_attn.q_proj", 30, "weight7")


def test_memory_counts_tied_weights_once(tiny_model: nn.Module) -> None:
    tensors = {id(t): t for t in (*tiny_model.parameters(), *tiny_model.buffers())}
    assert tiny_model.lm_head.weight is tiny_model.model.embed_tokens.weight
    assert model_memory_bytes(tiny_model) == sum(t.numel() * t.element_size() for t in tensors.values())


@pytest.mark.parametrize(
    ("mode", "scheme", "bound"),
    [
        ("dynamic-int8", "auto", 0.05),
        ("dynamic-int8", "weight7", 0.05),  # what an AVX2-only CPU runs, tested on every CPU
        ("dynamic-int8", "act7", 0.05),
        ("rtn-int8", "auto", 0.02),
        ("rtn-int4", "auto", 0.25),
    ],
)
def test_quantized_model_logits_stay_close(mode: str, scheme: str, bound: float) -> None:
    # Realistic init: the peaked test model (initializer_range=0.5) amplifies any error chaotically.
    base = build_random_llama("tiny", seed=0)
    model = quantize_model(copy.deepcopy(base), mode, group_size=32, int8_scheme=scheme)
    ids = torch.tensor([[5, 300, 1200, 77, 901, 4000]])
    with torch.no_grad():
        ref, out = base(ids).logits, model(ids).logits
    assert float((out - ref).norm() / ref.norm()) < bound


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU guard")
@pytest.mark.parametrize("mode", ["int8", "nf4"])
def test_bitsandbytes_modes_fail_clearly_without_cuda(tiny_model: nn.Module, mode: str) -> None:
    assert mode in MODES
    with pytest.raises(QuantizationError, match="CUDA"):
        quantize_model(copy.deepcopy(tiny_model), mode)
