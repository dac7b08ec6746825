"""What a PEFT LoRA folder is, without tensors: the app discovers adapters before torch is loaded."""

from __future__ import annotations

from pathlib import Path

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


def is_lora_folder(path: Path) -> bool:
    """Whether ``path`` holds a PEFT LoRA adapter (config and weights) the engine can load."""
    return (path / ADAPTER_CONFIG).is_file() and (path / ADAPTER_WEIGHTS).is_file()
