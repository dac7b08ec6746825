"""Shared fixtures: the tokenizer, a tiny random Llama, and (in tests/app) database and client."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from app.config import settings
from inference.dummy import build_random_llama
from inference.model_fetch import ensure_default_model


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The converted SmolLM2-135M-Instruct (the test command fetches it before pytest runs)."""
    return ensure_default_model(settings.model_dir)


@pytest.fixture(scope="session")
def tokenizer(model_dir: Path):
    """SmolLM2's real tokenizer; the tiny model shares its vocabulary."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir))


@pytest.fixture(scope="session")
def tiny_model() -> torch.nn.Module:
    """A 2-layer random Llama (fp32, CPU) with peaked logits so greedy ties are rare."""
    torch.set_num_threads(max(1, torch.get_num_threads()))
    return build_random_llama("tiny", seed=0, initializer_range=0.5)
