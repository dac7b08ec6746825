"""Build the serving engine from settings: model, optional quantization, the three adapters, policy.

torch, transformers and the engine are imported inside the functions that build it, so that the
app (which only asks ``adapter_dirs`` at start-up) serves its first page before they are loaded.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.intents import INTENTS
from app.config import Settings
from inference.lora_folder import is_lora_folder

if TYPE_CHECKING:
    from inference import AsyncEngine, LLMEngine

log = logging.getLogger(__name__)


class EngineBuildError(RuntimeError):
    """The engine cannot be built from these settings (one readable line)."""


def model_path(settings: Settings) -> Path:
    """The model folder: SWITCHBOARD_MODEL, or the default model fetched and converted on first run."""
    from inference.loading.fetch import ensure_default_model

    if settings.model:
        return settings.model_dir
    return ensure_default_model(settings.model_dir)


def served_model_name(settings: Settings) -> str:
    """The model's name on metrics (``model_name``): its folder's name, e.g. smollm2-135m-instruct."""
    return settings.model_dir.name or "model"


def quantize(model: Any, method: str, int8_scheme: str = "auto") -> Any:
    """Apply quantization ``method`` to the model's projections; 'none' returns it unchanged."""
    if method == "none":
        return model
    from inference.quantization import QuantizationError, quantize_model

    try:
        return quantize_model(model, method, int8_scheme=int8_scheme)
    except QuantizationError as exc:  # e.g. a bitsandbytes mode on a CPU-only machine
        raise EngineBuildError(f"quantization {method!r}: {exc}") from exc


def adapter_dirs(adapters_dir: Path) -> dict[str, Path]:
    """The intents' trained adapters present under ``adapters_dir`` (loadable PEFT folders)."""
    found = {}
    for name in INTENTS:
        path = adapters_dir / name
        if is_lora_folder(path):
            found[name] = path
        else:
            log.warning("adapter %s not found at %s: its intent is served by the base model", name, path)
    return found


def build_llm_engine(model: Any, tokenizer: Any, settings: Settings) -> LLMEngine:
    """LLMEngine with the configured batch size, KV budget, batching policy and adapters loaded."""
    from inference import EngineConfig, LLMEngine
    from inference.copy_bias import CopyBiasConfig

    config = EngineConfig(
        model_name=served_model_name(settings),
        max_batch_size=settings.max_batch_size,
        kv_budget_tokens=settings.kv_cache_tokens,
        policy=settings.batching_policy,
        copy_bias=CopyBiasConfig(strength=settings.copy_bias),
    )
    try:
        engine = LLMEngine(model, tokenizer, config)
    except (KeyError, ValueError) as exc:
        raise EngineBuildError(f"engine settings rejected: {exc}") from exc
    for name, path in adapter_dirs(settings.adapters_dir).items():
        engine.load_adapter(name, path)
    return engine


def set_threads(requested: int) -> int:
    """Torch CPU threads: ``requested``, or (0) every core this process may use; logged once."""
    import torch

    from inference.cpu_features import cpu_info, default_threads

    threads = requested or default_threads()
    torch.set_num_threads(threads)
    log.info("CPU %s: %d torch threads", cpu_info().label(), threads)
    return threads


def build_engine(settings: Settings) -> AsyncEngine:
    """Load the model (fetching the default on first run), quantize, load adapters; not yet started."""
    from inference import AsyncEngine
    from inference.loading.loader import load_model

    set_threads(settings.threads)
    needs_fp32 = settings.quantization == "dynamic-int8"  # its kernels take fp32 weights only
    loaded = load_model(
        model_path(settings), settings.device, settings.dtype, needs_fp32, probe_cache=settings.cache_dir
    )
    model = quantize(loaded.model, settings.quantization, settings.int8_scheme)
    return AsyncEngine(build_llm_engine(model, loaded.tokenizer, settings))
