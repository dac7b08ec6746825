"""Model bootstrap and loading: clear one-line errors, and the converted default model loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inference.model_fetch import is_converted
from inference.model_loader import ModelLoadError, check_model_dir, load_model, resolve_dtype


def test_missing_path_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist") as info:
        check_model_dir(tmp_path / "nope")
    assert "\n" not in str(info.value)


def test_folder_without_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no config.json"):
        check_model_dir(tmp_path)


def test_broken_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        check_model_dir(tmp_path)


def test_folder_without_weights_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(ModelLoadError, match="no weights"):
        check_model_dir(tmp_path)


def test_auto_dtype_is_fp32_on_cpu_and_bf16_on_cuda() -> None:
    assert resolve_dtype("auto", torch.device("cpu")) == torch.float32
    assert resolve_dtype("auto", torch.device("cuda")) == torch.bfloat16


def test_any_local_hf_folder_loads(tmp_path: Path, tiny_model, tokenizer) -> None:
    tiny_model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded = load_model(tmp_path, device="cpu")
    assert loaded.model.config.num_hidden_layers == tiny_model.config.num_hidden_layers
    assert loaded.dtype == torch.float32


@pytest.mark.real_model
def test_default_model_is_converted_smollm2(model_dir: Path) -> None:
    assert is_converted(model_dir)
    loaded = load_model(model_dir, device="cpu")
    assert loaded.model.config.hidden_size == 576
    assert loaded.model.config.num_hidden_layers == 30
    ids = loaded.tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hello"}], add_generation_prompt=True, tokenize=True
    )
    ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
    out = loaded.model.generate(torch.tensor([ids]), max_new_tokens=8, do_sample=False)
    assert out.shape[1] > len(ids)
