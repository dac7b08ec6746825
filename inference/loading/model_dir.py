"""Is a folder a loadable causal LM? Checked without torch, so `serve` can check before it listens."""

from __future__ import annotations

import json
from pathlib import Path


class ModelLoadError(RuntimeError):
    """The model path is missing or not a loadable causal LM."""


def check_model_dir(path: Path) -> None:
    """Raise ModelLoadError with one readable line if ``path`` is not a causal-LM folder."""
    if not path.exists():
        raise ModelLoadError(f"model path {path} does not exist (run `switchboard fetch-model`?)")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ModelLoadError(f"model path {path} has no config.json: not a Hugging Face model folder")
    try:
        json.loads(config_file.read_text())
    except ValueError as exc:
        raise ModelLoadError(f"model path {path}: config.json is not valid JSON ({exc})") from exc
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        raise ModelLoadError(f"model path {path} has no weights (*.safetensors or *.bin)")
