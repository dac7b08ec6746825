"""Roofline measurement and the model's FLOPs per token."""

from __future__ import annotations

import torch

from inference.bench.roofline import count_parameters, flops_per_token, lora_parameters, measure_roofline


def test_roofline_is_positive_and_labelled() -> None:
    roof = measure_roofline("cpu", torch.float32, size=256, repeats=2)
    assert roof.flops_per_s > 0 and roof.matrix_size == 256 and roof.dtype == "float32"


def test_flops_per_token_counts_tied_weights_once_and_adds_lora(tiny_model) -> None:
    params = count_parameters(tiny_model)
    untied = sum(p.numel() for p in tiny_model.parameters())
    assert params <= untied
    # tiny: 2 layers; per layer q,o 64x64, k,v 64x32, gate,up 64x128, down 128x64.
    per_layer_io = (64 + 64) * 2 + (64 + 32) * 2 + (64 + 128) * 3
    assert lora_parameters(tiny_model, 16) == 2 * 16 * per_layer_io
    assert flops_per_token(tiny_model) == 2.0 * params
    assert flops_per_token(tiny_model, 16) == 2.0 * (params + 2 * 16 * per_layer_io)
