"""load_adapter_specs: finds PEFT folders and their system prompts, refuses bad ones clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.registry import load_adapter_specs

REPO_ADAPTERS = Path(__file__).resolve().parents[2] / "adapters"


def _fake_adapter(path: Path, prompt: str | None, meta: dict | None = None) -> None:
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text("{}")
    (path / "adapter_model.safetensors").write_bytes(b"")
    if prompt is not None:
        (path / "system_prompt.txt").write_text(prompt + "\n")
    if meta is not None:
        (path / "switchboard.json").write_text(json.dumps(meta))


def test_specs_from_txt_and_json(tmp_path: Path) -> None:
    _fake_adapter(tmp_path / "sales", "Sell well.")
    _fake_adapter(tmp_path / "general", None, {"system_prompt": "Be general."})
    (tmp_path / "data").mkdir()  # not an adapter: ignored
    specs = load_adapter_specs(tmp_path)
    assert list(specs) == ["general", "sales"]
    assert specs["sales"].system_prompt == "Sell well."
    assert specs["general"].system_prompt == "Be general."
    assert specs["sales"].path == tmp_path / "sales"


def test_adapter_without_prompt_is_an_error(tmp_path: Path) -> None:
    _fake_adapter(tmp_path / "sales", None)
    with pytest.raises(ValueError, match="system_prompt"):
        load_adapter_specs(tmp_path)


def test_missing_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="adapters_dir"):
        load_adapter_specs(tmp_path / "nope")


def test_committed_adapters_are_all_there() -> None:
    specs = load_adapter_specs(REPO_ADAPTERS)
    assert set(specs) == {"general", "tech_support", "sales"}
    for spec in specs.values():
        assert json.loads((spec.path / "adapter_config.json").read_text())["r"] >= 8
        assert (spec.path / "adapter_model.safetensors").stat().st_size <= 12 * 2**20
