"""Load a one-file Llama folder (what `switchboard fetch-model` converts) straight from its safetensors.

``from_pretrained`` resolves classes, checks hub options, allocates and skips weight init, then
copies each tensor in. For the folder the converter writes (one ``model.safetensors``, a
``LlamaForCausalLM`` config) the model can instead be built on the meta device (no memory, no
init) and given the file's tensors as its parameters. Anything else (sharded, ``.bin``, another
architecture, a key that does not match) returns None and the caller uses ``from_pretrained``.
"""

from __future__ import annotations

import json
import logging
from itertools import chain
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)
WEIGHTS = "model.safetensors"


def load_llama_direct(path: Path, dtype: torch.dtype) -> Any | None:
    """``LlamaForCausalLM`` from ``path/model.safetensors`` in ``dtype`` (CPU), or None if not that shape."""
    weights = path / WEIGHTS
    config_data = json.loads((path / "config.json").read_text())
    if config_data.get("architectures") != ["LlamaForCausalLM"] or not weights.is_file():
        return None
    from safetensors.torch import load_file
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    config = LlamaConfig.from_pretrained(str(path))
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    state = {name: tensor.to(dtype) for name, tensor in load_file(str(weights)).items()}
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
    if unexpected or set(missing) - tied:
        odd = (unexpected or missing)[:3]
        log.info("direct load of %s does not fit (%s): using from_pretrained", path, odd)
        return None
    if tied:
        model.lm_head.weight = model.model.embed_tokens.weight
    # The rotary frequencies are a non-persistent buffer (not in the file): compute them for real.
    model.model.rotary_emb = LlamaRotaryEmbedding(config=config)
    if any(t.is_meta for t in chain(model.parameters(), model.buffers())):
        log.info("direct load of %s left tensors unset: using from_pretrained", path)
        return None
    if (path / "generation_config.json").is_file():  # its EOS ids end requests (inference/engine.py)
        model.generation_config = GenerationConfig.from_pretrained(str(path))
    model.config.dtype = dtype
    return model
