"""Find the trained adapters on disk: name, PEFT folder and the system prompt each one was trained with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from inference.lora_folder import is_lora_folder


@dataclass(frozen=True)
class AdapterSpec:
    """One servable adapter: its name (the intent), its PEFT folder and its system prompt."""

    name: str
    path: Path
    system_prompt: str

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ValueError(f"adapter name must be letters, digits and '_'; got {self.name!r}")
        if not self.system_prompt.strip():
            raise ValueError(f"adapter {self.name!r} has an empty system prompt")


def read_system_prompt(path: Path) -> str:
    """The adapter's system prompt: system_prompt.txt, else the field in switchboard.json."""
    text_file, meta_file = path / "system_prompt.txt", path / "switchboard.json"
    if text_file.is_file():
        return text_file.read_text().strip()
    if meta_file.is_file():
        prompt = json.loads(meta_file.read_text()).get("system_prompt", "")
        if prompt:
            return str(prompt).strip()
    raise ValueError(f"adapter {path} has no system_prompt.txt or switchboard.json system_prompt")


def load_adapter_specs(adapters_dir: Path) -> dict[str, AdapterSpec]:
    """Every sub-folder of ``adapters_dir`` holding a PEFT adapter, keyed by folder name."""
    if not adapters_dir.is_dir():
        raise ValueError(f"adapters_dir {adapters_dir} is not a folder")
    specs: dict[str, AdapterSpec] = {}
    for sub in sorted(adapters_dir.iterdir()):
        if is_lora_folder(sub):
            specs[sub.name] = AdapterSpec(sub.name, sub, read_system_prompt(sub))
    return specs
