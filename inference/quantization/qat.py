"""Quantization-aware LoRA adapters: train against the fake-quantized base they will run on.

Plain PTQ adapters are trained on the float base, so the quantized base's rounding error is left
uncorrected. Training the adapter on the quantize->dequantize weights lets its low-rank delta
absorb part of that error; the result is loaded on the real quantized model (same numbers).
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from inference.quantization.errors import QuantizationError
from inference.quantization.rtn import fake_quantize
from inference.quantization.targets import PROJECTIONS, projection_linears


@dataclass(frozen=True)
class AdapterTraining:
    """Short LoRA training run; validated so a bad option names its field."""

    steps: int = 40
    rank: int = 8
    alpha: int = 16
    lr: float = 1e-3
    batch_size: int = 4
    max_len: int = 160
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "rank", "batch_size", "max_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0 or not self.alpha > 0:
            raise ValueError(f"lr and alpha must be > 0, got lr={self.lr}, alpha={self.alpha}")


def fake_quantized_copy(model: nn.Module, bits: int, group_size: int) -> nn.Module:
    """A float copy of ``model`` whose projection weights are quantize->dequantize'd (RTN)."""
    fq = copy.deepcopy(model)
    for _, _, linear in projection_linears(fq):
        with torch.no_grad():
            linear.weight.copy_(fake_quantize(linear.weight, bits, group_size))
    return fq


def lora_config(train: AdapterTraining) -> Any:
    """The PEFT LoRA config used for every adapter here: all seven projections."""
    from peft import LoraConfig

    return LoraConfig(
        r=train.rank, lora_alpha=train.alpha, lora_dropout=0.0, target_modules=list(PROJECTIONS),
        task_type="CAUSAL_LM",
    )


def train_adapter(base: nn.Module, tokenizer: Any, texts: list[str], train: AdapterTraining) -> Any:
    """Train a LoRA on ``base`` (left untouched: a copy is wrapped) with the causal-LM loss."""
    from peft import get_peft_model

    if not texts:
        raise QuantizationError("train_adapter needs at least one training text")
    torch.manual_seed(train.seed)
    model = get_peft_model(copy.deepcopy(base), lora_config(train))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=train.lr)
    rng = random.Random(train.seed)
    for _ in range(train.steps):
        batch = tokenizer(
            rng.sample(texts, min(train.batch_size, len(texts))), return_tensors="pt", padding=True,
            truncation=True, max_length=train.max_len,
        )
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optim.step()
        optim.zero_grad(set_to_none=True)
    return model.eval()
