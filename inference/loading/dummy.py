"""Dummy-weights mode: a randomly initialised Llama of a named shape, for tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ModelShape:
    """The sizes that decide a Llama's cost; vocab defaults to SmolLM2's tokenizer."""

    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int = 49152
    max_position_embeddings: int = 8192
    tie_word_embeddings: bool = True


SHAPES: dict[str, ModelShape] = {
    # Fast enough for unit tests on two CPU cores; GQA (4 heads, 2 KV heads) like the real models.
    "tiny": ModelShape(64, 128, 2, 4, 2, max_position_embeddings=2048),
    "smollm2-135m": ModelShape(576, 1536, 30, 9, 3),
    "llama-3.2-1b": ModelShape(2048, 8192, 16, 32, 8, vocab_size=128256),
    "llama-3-8b": ModelShape(4096, 14336, 32, 32, 8, vocab_size=128256, tie_word_embeddings=False),
}


def build_random_llama(
    shape: ModelShape | str,
    *,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
    vocab_size: int | None = None,
    initializer_range: float = 0.02,
) -> torch.nn.Module:
    """Build a LlamaForCausalLM with seeded random weights (eval mode)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    s = SHAPES[shape] if isinstance(shape, str) else shape
    config = LlamaConfig(
        hidden_size=s.hidden_size,
        intermediate_size=s.intermediate_size,
        num_hidden_layers=s.num_hidden_layers,
        num_attention_heads=s.num_attention_heads,
        num_key_value_heads=s.num_key_value_heads,
        vocab_size=vocab_size or s.vocab_size,
        max_position_embeddings=s.max_position_embeddings,
        tie_word_embeddings=s.tie_word_embeddings,
        rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 100000.0},
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
        # Tests raise this so random logits are peaked: near-ties make token-identity checks flaky.
        initializer_range=initializer_range,
    )
    torch.manual_seed(seed)
    with torch.device(device):
        model: torch.nn.Module = LlamaForCausalLM(config)
    return model.to(dtype).eval()
