"""LoRA training on the tiny model: PEFT round trip, determinism, config validation, QLoRA guard."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from adapters.train import TrainConfig, TrainError, train


def _config(base: Path, data: Path, out: Path, seed: int = 0, **kw) -> TrainConfig:
    return TrainConfig(
        intent="tech_support",
        base=base,
        out=out,
        rank=4,
        alpha=8,
        max_steps=3,
        batch_size=2,
        max_len=64,
        seed=seed,
        data_dir=data,
        **kw,
    )


def test_adapter_round_trips_through_peft(tiny_model_dir: Path, tiny_data: Path, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "ts"
    summary = train(_config(tiny_model_dir, tiny_data, out), progress=False)
    assert summary["steps"] == 3
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    assert "technical-support" in (out / "system_prompt.txt").read_text()
    weights = load_file(str(out / "adapter_model.safetensors"))
    assert weights and all(t.dtype == torch.float16 for t in weights.values())
    assert any("down_proj" in k for k in weights)

    base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    model = PeftModel.from_pretrained(base, str(out)).eval()
    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    ids = tok("hello", return_tensors="pt")["input_ids"]
    gen = model.generate(
        input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=4, do_sample=False
    )
    assert gen.shape[1] == ids.shape[1] + 4


def test_same_seed_same_weights_other_seed_differs(
    tiny_model_dir: Path, tiny_data: Path, tmp_path: Path
) -> None:
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        train(_config(tiny_model_dir, tiny_data, tmp_path / name, seed=seed), progress=False)
    a, b, c = (load_file(str(tmp_path / n / "adapter_model.safetensors")) for n in "abc")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_training_moves_the_lora_weights_off_zero(
    tiny_model_dir: Path, tiny_data: Path, tmp_path: Path
) -> None:
    train(_config(tiny_model_dir, tiny_data, tmp_path / "x"), progress=False)
    weights = load_file(str(tmp_path / "x" / "adapter_model.safetensors"))
    # PEFT starts lora_B at zero: a non-zero B proves the optimiser stepped.
    assert any(float(t.abs().sum()) > 0 for k, t in weights.items() if "lora_B" in k)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rank", 0, "rank"),
        ("lr", 2.0, "lr"),
        ("target_modules", ("q_proj", "nope"), "target_modules"),
        ("intent", "billing", "intent"),
        ("max_len", 4, "max_len"),
    ],
)
def test_bad_config_names_the_field(field: str, value: object, message: str, tmp_path: Path) -> None:
    kwargs = {"intent": "sales", "base": tmp_path, "out": tmp_path, field: value}
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.skipif(torch.cuda.is_available(), reason="the guard is for machines without CUDA")
def test_qlora_without_cuda_is_a_clear_error(tiny_model_dir: Path, tiny_data: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainError, match="--qlora needs a CUDA GPU"):
        train(_config(tiny_model_dir, tiny_data, tmp_path / "q", qlora=True), progress=False)


def test_missing_base_model_is_a_clear_error(tiny_data: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainError, match="does not exist"):
        train(_config(tmp_path / "nowhere", tiny_data, tmp_path / "o"), progress=False)


def test_first_layer_trains_only_the_upper_layers(
    tiny_model_dir: Path, tiny_data: Path, tmp_path: Path
) -> None:
    from transformers import AutoConfig

    layers = AutoConfig.from_pretrained(str(tiny_model_dir)).num_hidden_layers
    out = tmp_path / "top"
    train(_config(tiny_model_dir, tiny_data, out, first_layer=layers - 1, bf16=True), progress=False)
    keys = load_file(str(out / "adapter_model.safetensors")).keys()
    assert keys and all(f"layers.{layers - 1}." in k for k in keys)


def test_init_from_continues_an_adapter(tiny_model_dir: Path, tiny_data: Path, tmp_path: Path) -> None:
    train(_config(tiny_model_dir, tiny_data, tmp_path / "first"), progress=False)
    summary = train(
        _config(tiny_model_dir, tiny_data, tmp_path / "second", init_from=tmp_path / "first"), progress=False
    )
    first = load_file(str(tmp_path / "first" / "adapter_model.safetensors"))
    second = load_file(str(tmp_path / "second" / "adapter_model.safetensors"))
    assert summary["steps"] == 3 and first.keys() == second.keys()
    assert any(not torch.equal(first[k], second[k]) for k in first)
    with pytest.raises(TrainError, match="init-from"):
        train(
            _config(tiny_model_dir, tiny_data, tmp_path / "x", init_from=tmp_path / "nothing"), progress=False
        )


def test_max_minutes_stops_early_and_saves(tiny_model_dir: Path, tiny_data: Path, tmp_path: Path) -> None:
    config = _config(tiny_model_dir, tiny_data, tmp_path / "short", max_minutes=1e-9)
    summary = train(config, progress=False)
    assert summary["steps"] == 1 and summary["planned_steps"] == 3
    assert (tmp_path / "short" / "adapter_model.safetensors").is_file()


def test_lr_factor_warms_up_decays_and_follows_the_clock() -> None:
    from adapters.train import lr_factor

    assert lr_factor(0, 100, 10) == pytest.approx(0.1)
    assert lr_factor(9, 100, 10) == pytest.approx(1.0)
    assert lr_factor(55, 100, 10) == pytest.approx(0.5)
    assert lr_factor(100, 100, 10) == 0.0
    # Half the minutes spent at step 20: decay as if half the run were done.
    assert lr_factor(20, 100, 10, time_done=0.55) == pytest.approx(0.5)
    assert lr_factor(20, 100, 10, time_done=1.2) == 0.0
