"""build_engine pieces: adapters from adapters_dir, batching policy by name, quantization switch."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import torch

from app.generation.engine_factory import (
    EngineBuildError,
    adapter_dirs,
    build_engine,
    build_llm_engine,
    quantize,
    set_threads,
)
from inference.loading.dummy import build_random_llama
from tests.app.chat_support import make_adapters, settings_for


def test_adapters_present_are_loaded_and_missing_ones_warned(
    tmp_path: Path, tokenizer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    made = make_adapters(tmp_path)
    (made["sales"] / "adapter_config.json").unlink()
    with caplog.at_level(logging.WARNING):
        assert set(adapter_dirs(tmp_path)) == {"general", "tech_support"}
    assert "adapter sales not found" in caplog.text
    settings = settings_for("sqlite://", adapters_dir=tmp_path, max_batch_size=4, kv_cache_tokens=1024)
    engine = build_llm_engine(build_random_llama("tiny", initializer_range=0.5), tokenizer, settings)
    assert sorted(engine.adapters.names()) == ["general", "tech_support"]
    assert engine.config.max_batch_size == 4 and engine.config.kv_budget_tokens == 1024


def test_unknown_batching_policy_is_one_clear_error(tmp_path: Path, tokenizer: Any) -> None:
    settings = settings_for("sqlite://", adapters_dir=tmp_path, batching_policy="telepathy")
    with pytest.raises(EngineBuildError, match="telepathy"):
        build_llm_engine(build_random_llama("tiny"), tokenizer, settings)


def test_quantization_none_is_identity() -> None:
    model = build_random_llama("tiny")
    assert quantize(model, "none") is model


@pytest.mark.real_model
def test_build_engine_loads_the_real_model(tmp_path: Path, model_dir: Path) -> None:
    settings = settings_for("sqlite://", model=str(model_dir), adapters_dir=tmp_path, device="cpu")
    engine = build_engine(settings)
    assert engine.adapters() == [] and engine.core.max_positions >= 2048


def test_bitsandbytes_quantization_on_cpu_is_a_clear_build_error() -> None:
    with pytest.raises(EngineBuildError, match="nf4"):
        quantize(build_random_llama("tiny"), "nf4")


def test_dynamic_int8_quantization_swaps_the_projections() -> None:
    model = quantize(build_random_llama("tiny"), "dynamic-int8")
    assert type(model.model.layers[0].self_attn.q_proj) is not torch.nn.Linear


def test_threads_default_to_every_usable_core() -> None:
    from inference.cpu_features import usable_cores

    before = torch.get_num_threads()
    try:
        assert set_threads(0) == usable_cores() == torch.get_num_threads()
        assert set_threads(1) == 1 == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
