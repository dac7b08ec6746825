"""Which modules quantization replaces: the Llama projection Linears the engine and PEFT call."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import nn

# The engine adds LoRA deltas to exactly these outputs; embeddings, norms and lm_head stay float
# (lm_head is tied to the embedding in SmolLM2, and its logits decide every greedy token).
PROJECTIONS: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def projection_linears(model: nn.Module) -> Iterator[tuple[nn.Module, str, nn.Linear]]:
    """Yield (parent, attribute, linear) for every plain float projection Linear of the model."""
    for _, parent, attr, child in named_projections(model):
        yield parent, attr, child


def named_projections(model: nn.Module) -> Iterator[tuple[str, nn.Module, str, nn.Linear]]:
    """Like projection_linears, with the Linear's qualified name (``model.layers.3.mlp.down_proj``)."""
    for name, parent in list(model.named_modules()):
        for attr in PROJECTIONS:
            child = getattr(parent, attr, None)
            if type(child) is nn.Linear:
                yield f"{name}.{attr}" if name else attr, parent, attr, child


def replace_projections(
    model: nn.Module, build: Callable[[nn.Linear], nn.Module], keep: Callable[[str], bool] = lambda _: False
) -> int:
    """Swap each projection Linear for ``build(linear)`` in place, except names ``keep`` accepts."""
    swapped = 0
    for name, parent, attr, linear in list(named_projections(model)):
        if not keep(name):
            setattr(parent, attr, build(linear))
            swapped += 1
    return swapped


def tensor_bytes(t: torch.Tensor) -> int:
    """Storage a tensor's elements take (quantized tensors count their integer storage)."""
    return t.numel() * t.element_size()
