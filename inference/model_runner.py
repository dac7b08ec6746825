"""One batched Llama forward over the paged KV cache, mixing prefill chunks, decodes and adapters."""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass
from typing import Any

import torch

from inference.kv_cache import KVBlockPool, KVShape
from inference.lora import LoraAdapter
from inference.paged_attention import AttentionLayout, attend, build_layout


@dataclass(frozen=True)
class BatchItem:
    """Tokens of one sequence to run now: positions start..start+len, whose K/V go to ``slots``."""

    token_ids: Seq[int]
    start: int
    block_table: Seq[int]
    adapter: LoraAdapter | None
    want_logits: bool


def kv_shape(model: Any) -> KVShape:
    """Cache dimensions of a Llama-like HF model, on its dtype."""
    cfg = model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return KVShape(cfg.num_hidden_layers, cfg.num_key_value_heads, head_dim, activation_dtype(model))


def model_device(model: Any) -> torch.device:
    """Where hidden states live: the embedding's device."""
    return model.model.embed_tokens.weight.device


def activation_dtype(model: Any) -> torch.dtype:
    """The hidden-state dtype: the embedding's, even when projections are quantized (int8/NF4)."""
    return model.model.embed_tokens.weight.dtype


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class ModelRunner:
    """Calls the HF model's own modules so quantized Linear replacements work unchanged."""

    def __init__(self, model: Any, pool: KVBlockPool) -> None:
        self.model = model
        self.pool = pool
        self.device = model_device(model)
        self.decoder = model.model

    @torch.inference_mode()
    def forward(self, items: Seq[BatchItem]) -> torch.Tensor:
        """Run all items in one forward; fp32 logits [n_want, V] in item order for want_logits ones."""
        # Grouping tokens by adapter makes each adapter's tokens one contiguous slice (no gathers).
        order = sorted(range(len(items)), key=lambda i: _adapter_uid(items[i].adapter))
        bs = self.pool.block_size
        tokens: list[int] = []
        positions: list[int] = []
        slots: list[int] = []
        row_of: dict[int, tuple[int, int]] = {}
        segments: list[tuple[LoraAdapter, int, int]] = []
        for i in order:
            it = items[i]
            n, s0 = len(it.token_ids), len(tokens)
            tokens.extend(it.token_ids)
            positions.extend(range(it.start, it.start + n))
            table = it.block_table
            slots.extend(table[p // bs] * bs + p % bs for p in range(it.start, it.start + n))
            row_of[i] = (s0, s0 + n)
            if it.adapter is not None:
                if segments and segments[-1][0] is it.adapter:
                    segments[-1] = (it.adapter, segments[-1][1], s0 + n)
                else:
                    segments.append((it.adapter, s0, s0 + n))
        dev = self.device
        ids = torch.tensor(tokens, dtype=torch.long, device=dev)
        pos = torch.tensor(positions, dtype=torch.long, device=dev)
        slot_t = torch.tensor(slots, dtype=torch.long, device=dev)
        attn = self._attention_layout(items, row_of)
        self.pool.zero_new_blocks()

        x = self.decoder.embed_tokens(ids)
        cos, sin = self.decoder.rotary_emb(x, pos[None])
        cos, sin = cos[0][:, None, :], sin[0][:, None, :]
        for li, layer in enumerate(self.decoder.layers):
            x = x + self._attention_block(li, layer, x, cos, sin, slot_t, attn, segments)
            h = layer.post_attention_layernorm(x)
            mlp = layer.mlp
            gate = self._proj(li, "gate_proj", mlp.gate_proj, h, segments)
            up = self._proj(li, "up_proj", mlp.up_proj, h, segments)
            x = x + self._proj(li, "down_proj", mlp.down_proj, mlp.act_fn(gate) * up, segments)

        want = [row_of[i][1] - 1 for i in range(len(items)) if items[i].want_logits]
        if not want:
            return torch.empty(0, 0, device=dev)
        last = self.decoder.norm(x[torch.tensor(want, device=dev)])
        return self.model.lm_head(last).float()

    def _proj(
        self, li: int, name: str, module: torch.nn.Module, x: torch.Tensor, segments: list
    ) -> torch.Tensor:
        out = module(x)
        for adapter, s, e in segments:
            factors = adapter.weights.get((li, name))
            if factors is not None:
                a, b = factors
                out[s:e].addmm_(x[s:e] @ a, b)
        return out

    def _attention_block(
        self, li, layer, x, cos, sin, slots, attn: AttentionLayout, segments
    ) -> torch.Tensor:
        sa = layer.self_attn
        h = layer.input_layernorm(x)
        t, hd = x.shape[0], self.pool.shape.head_dim
        q = self._proj(li, "q_proj", sa.q_proj, h, segments).view(t, -1, hd)
        k = self._proj(li, "k_proj", sa.k_proj, h, segments).view(t, -1, hd)
        v = self._proj(li, "v_proj", sa.v_proj, h, segments).view(t, -1, hd)
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        kc = self.pool.k[li].view(-1, *self.pool.k[li].shape[2:])
        vc = self.pool.v[li].view(-1, *self.pool.v[li].shape[2:])
        kc.index_copy_(0, slots, k.to(kc.dtype))
        vc.index_copy_(0, slots, v.to(vc.dtype))
        out = attend(q, k, v, kc, vc, attn, sa.scaling)
        return self._proj(li, "o_proj", sa.o_proj, out.reshape(t, -1), segments)

    def _attention_layout(self, items: Seq[BatchItem], row_of: dict[int, tuple[int, int]]) -> AttentionLayout:
        decode = [i for i in range(len(items)) if len(items[i].token_ids) == 1]
        prefills = [
            (*row_of[i], it.start, it.block_table) for i, it in enumerate(items) if len(it.token_ids) > 1
        ]
        shape = self.pool.shape
        slot_bytes = shape.num_kv_heads * shape.head_dim * self.pool.k[0].element_size()
        return build_layout(
            [row_of[i][0] for i in decode], [items[i].start + 1 for i in decode],
            [items[i].block_table for i in decode], prefills, self.pool.block_size, slot_bytes, self.device,
        )


def _adapter_uid(adapter: LoraAdapter | None) -> int:
    return adapter.uid if adapter is not None else 0
