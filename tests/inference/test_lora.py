"""LoraRegistry: PEFT folders load with the right scaling; bad folders and names fail clearly."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from inference.loading.dummy import build_random_llama
from inference.lora import AdapterLoadError, LoraRegistry, load_adapter
from inference.request import UnknownAdapterError
from tests.inference.lora_factory import ALL_PROJECTIONS, make_adapter


@pytest.fixture(scope="module")
def base() -> torch.nn.Module:
    return build_random_llama("tiny", seed=0, initializer_range=0.5)


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_adapter(tmp_path_factory.mktemp("wide") / "a", 4, ALL_PROJECTIONS, seed=1, alpha=6)


def test_loads_all_projections_with_alpha_over_r(base, wide) -> None:
    adapter = load_adapter("wide", wide, base)
    assert adapter.rank == 4
    assert set(adapter.weights) == {(layer, p) for layer in range(2) for p in ALL_PROJECTIONS}
    raw = load_file(str(wide / "adapter_model.safetensors"))
    a_raw = raw["base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"]
    b_raw = raw["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"]
    a, b = adapter.weights[(1, "down_proj")]
    assert torch.allclose(a, a_raw.t())
    assert torch.allclose(b, b_raw.t() * 6 / 4)


def test_rslora_scales_by_sqrt_rank(base, tmp_path) -> None:
    path = make_adapter(tmp_path / "rs", 9, ["q_proj"], seed=3, alpha=3, rslora=True)
    adapter = load_adapter("rs", path, base)
    raw = load_file(str(path / "adapter_model.safetensors"))
    b_raw = raw["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"]
    assert torch.allclose(adapter.weights[(0, "q_proj")][1], b_raw.t() * 3 / math.sqrt(9))


def test_registry_names_unknown_and_reload(base, wide) -> None:
    registry = LoraRegistry(base)
    assert registry.get(None) is None
    first = registry.load("sales", wide)
    assert registry.names() == ["sales"]
    with pytest.raises(UnknownAdapterError, match="'support' is not loaded.*sales"):
        registry.get("support")
    second = registry.load("sales", wide)
    assert second.uid != first.uid  # a reload never shares the old prefix-cache entries
    registry.unload("sales")
    assert registry.names() == []
    with pytest.raises(UnknownAdapterError):
        registry.unload("sales")


def test_concurrent_load_and_get_is_safe(base, wide) -> None:
    registry = LoraRegistry(base)
    errors: list[Exception] = []

    def churn(name: str) -> None:
        try:
            for _ in range(5):
                registry.load(name, wide)
                registry.get(name)
                registry.unload(name)
        except Exception as exc:  # pragma: no cover - only on a bug
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(f"a{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and registry.names() == []


def test_missing_folder_and_bad_config(base, wide, tmp_path) -> None:
    with pytest.raises(AdapterLoadError, match="needs adapter_config.json"):
        load_adapter("x", tmp_path / "nothing", base)
    bad = tmp_path / "dora"
    bad.mkdir()
    config = json.loads((wide / "adapter_config.json").read_text())
    (bad / "adapter_config.json").write_text(json.dumps({**config, "use_dora": True}))
    (bad / "adapter_model.safetensors").write_bytes((wide / "adapter_model.safetensors").read_bytes())
    with pytest.raises(AdapterLoadError, match="use_dora"):
        load_adapter("x", bad, base)
    (bad / "adapter_config.json").write_text("{not json")
    with pytest.raises(AdapterLoadError, match="not valid JSON"):
        load_adapter("x", bad, base)


def test_adapter_for_another_model_shape_is_refused(base, wide, tmp_path) -> None:
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "adapter_config.json").write_text((wide / "adapter_config.json").read_text())
    tensors = load_file(str(wide / "adapter_model.safetensors"))
    key = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"
    tensors[key] = torch.zeros(4, 32)
    save_file(tensors, str(wrong / "adapter_model.safetensors"))
    with pytest.raises(AdapterLoadError, match="do not fit the base model"):
        load_adapter("x", wrong, base)
