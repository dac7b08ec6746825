"""LoRA adapters in PEFT format, kept unmerged so one batch can mix adapters per sequence."""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from inference.lora_folder import ADAPTER_CONFIG, ADAPTER_WEIGHTS, is_lora_folder
from inference.request import UnknownAdapterError

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
_KEY = re.compile(r"layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)\.lora_([AB])(?:\.\w+)?\.weight$")
_uids = itertools.count(1)


class AdapterLoadError(ValueError):
    """An adapter folder is missing, malformed, or does not fit the base model."""


@dataclass(frozen=True)
class LoraAdapter:
    """One loaded adapter: per (layer, projection) the factors A^T [in, r] and scale*B^T [r, out]."""

    name: str
    uid: int  # unique per load, so a reloaded adapter never reuses the old one's prefix cache
    rank: int
    weights: dict[tuple[int, str], tuple[torch.Tensor, torch.Tensor]]


def _pattern_value(patterns: dict[str, float], module: str, default: float) -> float:
    # PEFT's rank_pattern/alpha_pattern keys are regexes matched against the end of the module name.
    for key, value in patterns.items():
        if re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def load_adapter(name: str, path: Path, model: Any) -> LoraAdapter:
    """Read a PEFT LoRA folder and prepare its factors on the model's device and dtype."""
    from safetensors.torch import load_file

    path = Path(path)
    config_file, weights_file = path / ADAPTER_CONFIG, path / ADAPTER_WEIGHTS
    if not is_lora_folder(path):
        raise AdapterLoadError(
            f"adapter {name!r}: {path} needs adapter_config.json and adapter_model.safetensors"
        )
    try:
        config = json.loads(config_file.read_text())
    except ValueError as exc:
        raise AdapterLoadError(f"adapter {name!r}: adapter_config.json is not valid JSON ({exc})") from exc
    if config.get("peft_type", "LORA") != "LORA":
        raise AdapterLoadError(f"adapter {name!r}: peft_type {config.get('peft_type')!r} is not LORA")
    for flag in ("use_dora", "lora_bias"):
        if config.get(flag):
            raise AdapterLoadError(f"adapter {name!r}: {flag} is not supported")
    if config.get("modules_to_save"):
        raise AdapterLoadError(f"adapter {name!r}: modules_to_save is not supported (LoRA factors only)")
    rank, alpha = int(config["r"]), float(config.get("lora_alpha", config["r"]))
    rslora = bool(config.get("use_rslora"))

    # Deltas are added to hidden states, so they take the embedding's dtype and device (the
    # projections themselves may be quantized).
    embed = model.model.embed_tokens.weight
    device, dtype = embed.device, embed.dtype
    layers = model.model.layers
    factors: dict[tuple[int, str], dict[str, torch.Tensor]] = {}
    for key, tensor in load_file(str(weights_file)).items():
        match = _KEY.search(key)
        if match is None:
            raise AdapterLoadError(f"adapter {name!r}: unsupported weight {key!r}")
        layer, proj, which = int(match.group(1)), match.group(2), match.group(3)
        if proj not in PROJECTIONS or layer >= len(layers):
            raise AdapterLoadError(f"adapter {name!r}: weight {key!r} does not match the base model")
        factors.setdefault((layer, proj), {})[which] = tensor

    weights: dict[tuple[int, str], tuple[torch.Tensor, torch.Tensor]] = {}
    for (layer, proj), pair in factors.items():
        if set(pair) != {"A", "B"}:
            raise AdapterLoadError(f"adapter {name!r}: layer {layer} {proj} lacks lora_A or lora_B")
        a, b = pair["A"], pair["B"]
        module = _module(layers[layer], proj)
        out_f, in_f = _linear_shape(module)
        if a.shape[1] != in_f or b.shape[0] != out_f or a.shape[0] != b.shape[1]:
            raise AdapterLoadError(
                f"adapter {name!r}: layer {layer} {proj} shapes A{tuple(a.shape)} B{tuple(b.shape)} "
                f"do not fit the base model's {in_f}->{out_f} projection"
            )
        module_name = f"model.layers.{layer}.{'self_attn' if proj in PROJECTIONS[:4] else 'mlp'}.{proj}"
        r = int(_pattern_value(config.get("rank_pattern") or {}, module_name, rank))
        al = _pattern_value(config.get("alpha_pattern") or {}, module_name, alpha)
        scale = al / math.sqrt(r) if rslora else al / r
        a_t = a.t().contiguous().to(device=device, dtype=dtype)
        b_t = (b.t().float() * scale).contiguous().to(device=device, dtype=dtype)
        weights[(layer, proj)] = (a_t, b_t)
    if not weights:
        raise AdapterLoadError(f"adapter {name!r}: {weights_file} holds no LoRA weights")
    return LoraAdapter(name=name, uid=next(_uids), rank=rank, weights=weights)


def _module(layer: torch.nn.Module, proj: str) -> torch.nn.Module:
    parent = layer.self_attn if proj in PROJECTIONS[:4] else layer.mlp
    return getattr(parent, proj)


def _linear_shape(module: torch.nn.Module) -> tuple[int, int]:
    # Quantized replacements do not always keep .weight in the float shape; they keep the features.
    out_f = getattr(module, "out_features", None)
    in_f = getattr(module, "in_features", None)
    if out_f is None or in_f is None:
        out_f, in_f = module.weight.shape  # type: ignore[union-attr,misc]
    return int(out_f), int(in_f)


class LoraRegistry:
    """Name -> loaded adapter; safe to change from one thread while another thread runs steps."""

    def __init__(self, model: torch.nn.Module) -> None:
        self._model = model
        self._adapters: dict[str, LoraAdapter] = {}
        self._lock = threading.Lock()

    def load(self, name: str, path: Path | str) -> LoraAdapter:
        """Load (or replace) adapter ``name`` from a PEFT folder."""
        if not name or not isinstance(name, str):
            raise AdapterLoadError("adapter name must be a non-empty string")
        # Reading and preparing weights happens outside the lock so steps are not held up.
        adapter = load_adapter(name, Path(path), self._model)
        with self._lock:
            self._adapters[name] = adapter
        return adapter

    def unload(self, name: str) -> None:
        """Forget ``name``; requests already running with it finish with the weights they hold."""
        with self._lock:
            if name not in self._adapters:
                raise UnknownAdapterError(name, list(self._adapters))
            del self._adapters[name]

    def get(self, name: str | None) -> LoraAdapter | None:
        """The adapter for ``name`` (None = base model); UnknownAdapterError if it is not loaded."""
        if name is None:
            return None
        with self._lock:
            adapter = self._adapters.get(name)
            if adapter is None:
                raise UnknownAdapterError(name, list(self._adapters))
            return adapter

    def names(self) -> list[str]:
        """Loaded adapter names, sorted."""
        with self._lock:
            return sorted(self._adapters)
