"""Quantization-aware adapters: fake-quant copy matches the RTN model; training lowers the loss."""

from __future__ import annotations

import copy

import pytest
import torch

from inference.loading.dummy import build_random_llama
from inference.quantization import quantize_model
from inference.quantization.qat import AdapterTraining, fake_quantized_copy, train_adapter
from inference.quantization.quality import perplexity

TEXTS = [
    "Your CloudKeep backup renews monthly; cancel any time from the account page.",
    "ShieldGuard Plus covers five devices and includes a password manager.",
    "To reset the router, hold the button for ten seconds until the light blinks.",
    "Orders ship within two days and returns are free for thirty days.",
]


def test_fake_quantized_copy_equals_the_rtn_model_and_leaves_the_original() -> None:
    base = build_random_llama("tiny", seed=0)
    before = base.model.layers[0].mlp.up_proj.weight.clone()
    fq = fake_quantized_copy(base, bits=4, group_size=32)
    rtn = quantize_model(copy.deepcopy(base), "rtn-int4", group_size=32)
    assert torch.equal(base.model.layers[0].mlp.up_proj.weight, before)
    ids = torch.tensor([[5, 300, 1200, 77]])
    with torch.no_grad():
        assert torch.allclose(fq(ids).logits, rtn(ids).logits, atol=1e-4)
        assert not torch.allclose(fq(ids).logits, base(ids).logits, atol=1e-4)


def test_a_short_adapter_training_lowers_perplexity(tokenizer) -> None:
    base = fake_quantized_copy(build_random_llama("tiny", seed=0), bits=4, group_size=32)
    before = perplexity(base, tokenizer, TEXTS)
    trained = train_adapter(base, tokenizer, TEXTS, AdapterTraining(steps=8, rank=4, lr=5e-3, batch_size=4))
    assert perplexity(trained, tokenizer, TEXTS) < before * 0.9
    assert perplexity(base, tokenizer, TEXTS) == pytest.approx(before)  # the base was not touched


def test_bad_training_options_name_the_field() -> None:
    with pytest.raises(ValueError, match="steps"):
        AdapterTraining(steps=0)
