"""Model bootstrap and loading: clear one-line errors, and the converted default model loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inference import cpu_features
from inference.loading.fetch import is_converted
from inference.loading.loader import ModelLoadError, check_model_dir, load_model, resolve_dtype


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


@pytest.mark.parametrize("bf16_faster", [True, False])
def test_auto_dtype_on_cpu_follows_the_measured_bf16_speed(monkeypatch, bf16_faster: bool) -> None:
    monkeypatch.setattr(cpu_features, "bf16_is_faster", lambda cache_dir=None: bf16_faster)
    want = torch.bfloat16 if bf16_faster else torch.float32
    assert resolve_dtype("auto", torch.device("cpu")) == want
    # dynamic-int8 kernels take fp32 weights, whatever bf16 could do
    assert resolve_dtype("auto", torch.device("cpu"), needs_fp32=True) == torch.float32
    assert resolve_dtype("auto", torch.device("cuda")) == torch.bfloat16


def test_explicit_dtypes_are_kept() -> None:
    assert resolve_dtype("float32", torch.device("cpu")) == torch.float32
    assert resolve_dtype("bfloat16", torch.device("cpu")) == torch.bfloat16


def test_any_local_hf_folder_loads(tmp_path: Path, tiny_model, tokenizer) -> None:
    tiny_model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded = load_model(tmp_path, device="cpu", dtype="float32")
    assert loaded.model.config.num_hidden_layers == tiny_model.config.num_hidden_layers
    assert loaded.dtype == torch.float32
    assert load_model(tmp_path, device="cpu").dtype == resolve_dtype("auto", torch.device("cpu"))


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


@pytest.mark.parametrize("tied", [True, False])
def test_a_converted_folder_loads_directly_and_equals_from_pretrained(
    tmp_path: Path, tokenizer, tied: bool
) -> None:
    from dataclasses import replace

    from transformers import AutoModelForCausalLM

    from inference.loading.direct import load_llama_direct
    from inference.loading.dummy import SHAPES, build_random_llama

    shape = replace(SHAPES["tiny"], tie_word_embeddings=tied)
    build_random_llama(shape, seed=3).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    direct = load_llama_direct(tmp_path, torch.bfloat16)
    reference = AutoModelForCausalLM.from_pretrained(str(tmp_path), dtype=torch.bfloat16)
    assert direct is not None and direct.dtype == torch.bfloat16
    mine, theirs = direct.state_dict(), reference.state_dict()
    assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in theirs)
    assert (direct.lm_head.weight is direct.model.embed_tokens.weight) == tied
    ids = torch.tensor([[1, 5, 9, 2, 7]])
    with torch.inference_mode():
        assert torch.equal(direct.eval()(ids).logits, reference.eval()(ids).logits)  # rotary rebuilt
    assert direct.generation_config.eos_token_id == reference.generation_config.eos_token_id
    assert load_model(tmp_path, device="cpu", dtype="bfloat16").model.dtype == torch.bfloat16


def test_a_folder_the_direct_path_does_not_fit_falls_back(tmp_path: Path, tiny_model) -> None:
    from inference.loading.direct import load_llama_direct

    tiny_model.save_pretrained(tmp_path)
    config = tmp_path / "config.json"
    config.write_text(config.read_text().replace("LlamaForCausalLM", "MistralForCausalLM"))
    assert load_llama_direct(tmp_path, torch.float32) is None  # from_pretrained handles it
    (tmp_path / "model.safetensors").rename(tmp_path / "model-00001-of-00001.safetensors")
    config.write_text(config.read_text().replace("MistralForCausalLM", "LlamaForCausalLM"))
    assert load_llama_direct(tmp_path, torch.float32) is None  # sharded: not one file
