"""One batched Llama forward over the paged KV cache, mixing prefill chunks, decodes and adapters."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from inference import cpu_small_gemm
from inference.cpu_small_gemm import MAX_ROWS
from inference.decode_buckets import CUDA_GROWTH, bucket_sizes
from inference.kv_cache import KVBlockPool, KVShape
from inference.lora import LoraAdapter
from inference.paged_attention import AttentionLayout, attend, build_layout

ATTENTION_BACKENDS = ("auto", "sdpa", "flex", "kernel")
# attention(layer, q [T, H, D], k/v [T, Hkv, D], flat caches kc/vc [slots, Hkv, D]) -> [T, H, D]
AttendFn = Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


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


def _tracing() -> bool:
    return bool(torch.compiler.is_compiling())


def small_linear_for(model: Any, device: torch.device) -> Any | None:
    """The compiled few-row matmul for the model's weight dtype on this CPU, or None."""
    return cpu_small_gemm.linear_for(activation_dtype(model)) if device.type == "cpu" else None


def resolve_attention(name: str, device: torch.device, kv_dtype: torch.dtype = torch.float32) -> str:
    """'auto' is flex_attention on CUDA (where it compiles to a paged kernel), the compiled CPU
    kernel on a CPU that can build it (cpu_decode_kernel; fp32/bf16 caches), else SDPA buckets."""
    if name not in ATTENTION_BACKENDS:
        raise ValueError(f"attention backend must be one of {ATTENTION_BACKENDS}, got {name!r}")
    from inference import cpu_decode_kernel

    cpu_kernel = device.type == "cpu" and kv_dtype in cpu_decode_kernel.DTYPES
    if name == "kernel" and not (cpu_kernel and cpu_decode_kernel.load() is not None):
        raise ValueError(
            f"'kernel' attention needs a CPU, fp32/bf16 K/V and a C++ build: {device}, {kv_dtype}"
        )
    if name != "auto":
        return name
    if cpu_kernel:
        return "kernel" if cpu_decode_kernel.load() is not None else "sdpa"
    from inference.flex_decode import flex_supported

    return "flex" if device.type == "cuda" and flex_supported() is None else "sdpa"


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LoraDeltas(Protocol):
    """Adds this step's LoRA deltas to one projection's output."""

    def add(self, layer: int, name: str, x: torch.Tensor, out: torch.Tensor) -> None: ...


class SegmentLora:
    """Tokens grouped by adapter: each group's delta is added on its own contiguous slice."""

    def __init__(self, segments: list[tuple[LoraAdapter, int, int]]) -> None:
        self.segments = segments

    def add(self, layer: int, name: str, x: torch.Tensor, out: torch.Tensor) -> None:
        """out[s:e] += x[s:e] @ A @ B for each adapter slice that has this projection."""
        for adapter, s, e in self.segments:
            factors = adapter.weights.get((layer, name))
            if factors is not None:
                a, b = factors
                out[s:e].addmm_(x[s:e] @ a, b)


class ModelRunner:
    """Calls the HF model's own modules so quantized Linear replacements work unchanged.

    ``attention``: 'sdpa' (length-bucketed gathers), 'kernel' (the compiled CPU kernel reading the
    pool in place, 'auto' on a CPU that builds it) or 'flex' (paged flex_attention decodes, compiled
    on CUDA); ``max_batch`` sizes flex's padded decode buckets.
    """

    def __init__(
        self, model: Any, pool: KVBlockPool, attention: str = "sdpa", max_batch: int = 64,
        small_gemm: bool = False,
    ) -> None:
        self.model = model
        self.pool = pool
        self.device = model_device(model)
        self.decoder = model.model
        self.attention = resolve_attention(attention, self.device, pool.k[0].dtype)
        self.buckets = bucket_sizes(max_batch, CUDA_GROWTH if self.device.type == "cuda" else 2)
        self.flex: Any = None  # a FlexDecoder on the flex backend
        if self.attention == "flex":
            from inference.flex_decode import FlexDecoder

            cfg, kc = model.config, pool.k[0]
            positions = min(
                int(getattr(cfg, "max_position_embeddings", 1 << 30)), pool.num_blocks * pool.block_size
            )
            self.flex = FlexDecoder(
                group=cfg.num_attention_heads // cfg.num_key_value_heads, pool_blocks=kc.shape[0],
                block_size=pool.block_size, max_blocks=-(-positions // pool.block_size), device=self.device,
                compiled=self.device.type == "cuda",
            )
        # A DecodeGraphs (set by the engine) takes the decode-only steps it accepts.
        self.graphs: Any = None
        # The compiled few-row matmul (cpu_small_gemm) for steps of at most MAX_ROWS tokens, where
        # this CPU has one for the weights' dtype; None keeps every linear on torch.
        self.small_linear = small_linear_for(model, self.device) if small_gemm else None

    @torch.inference_mode()  # as in forward: dynamo guards on it, so a mismatch would recompile
    def warm_up(self) -> None:
        """Compile what the attention backend compiles (flex: one kernel per bucket) ahead of time."""
        if self.flex is not None:
            cfg = self.model.config
            self.flex.warm_up(
                self.buckets, cfg.num_attention_heads, self.pool.shape.head_dim, self.pool.shape.dtype
            )

    @torch.inference_mode()
    def forward(self, items: Seq[BatchItem]) -> torch.Tensor:
        """Run all items in one forward; fp32 logits [n_want, V] in item order for want_logits ones."""
        if self.graphs is not None and self.graphs.accepts(items):
            return self.graphs.run(items)
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

        def attention(li: int, q, k, v, kc, vc) -> torch.Tensor:
            return attend(q, k, v, kc, vc, attn, self.decoder.layers[li].self_attn.scaling)

        want = [row_of[i][1] - 1 for i in range(len(items)) if items[i].want_logits]
        # Copied in before the layers are queued: a host-to-device copy from pageable memory may
        # wait for the stream, which after the layers would stall the GPU before lm_head.
        want_t = torch.tensor(want, device=dev)
        x = self.layers(ids, pos, slot_t, attention, SegmentLora(segments))
        if not want:
            return torch.empty(0, 0, device=dev)
        return self.logits(x[want_t])

    def layers(
        self, ids: torch.Tensor, pos: torch.Tensor, slots: torch.Tensor, attention: AttendFn,
        lora: LoraDeltas, keep: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Hidden states after every layer, writing this step's K/V to ``slots``.

        ``keep`` [T] (1 = real row, 0 = padding): padded rows write zeros, so they may all point
        at the null block without breaking its all-zeros promise (static decode batches).
        """
        x = self.decoder.embed_tokens(ids)
        cos, sin = self.decoder.rotary_emb(x, pos[None])
        cos, sin = cos[0][:, None, :], sin[0][:, None, :]
        for li, layer in enumerate(self.decoder.layers):
            x = x + self._attention_block(li, layer, x, cos, sin, slots, attention, lora, keep)
            h = layer.post_attention_layernorm(x)
            mlp = layer.mlp
            gate = self._proj(li, "gate_proj", mlp.gate_proj, h, lora)
            up = self._proj(li, "up_proj", mlp.up_proj, h, lora)
            x = x + self._proj(li, "down_proj", mlp.down_proj, mlp.act_fn(gate) * up, lora)
        return x

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """fp32 logits of the rows of final hidden states ``hidden``."""
        return self._linear(self.model.lm_head, self.decoder.norm(hidden)).float()

    def _proj(
        self, li: int, name: str, module: torch.nn.Module, x: torch.Tensor, lora: LoraDeltas
    ) -> torch.Tensor:
        out = self._linear(module, x)
        lora.add(li, name, x, out)
        return out

    def _linear(self, module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        # Only a plain Linear (a quantized replacement keeps its own forward), and not while dynamo
        # traces (the decode graphs): it cannot see into the extension.
        small = self.small_linear
        if small is None or x.dim() != 2 or x.shape[0] > MAX_ROWS or type(module) is not torch.nn.Linear:
            return module(x)
        weight = module.weight
        if x.dtype != weight.dtype or not weight.is_contiguous() or _tracing():
            return module(x)
        return small(x, weight, module.bias)

    def _attention_block(
        self, li, layer, x, cos, sin, slots, attention: AttendFn, lora: LoraDeltas, keep
    ) -> torch.Tensor:
        sa = layer.self_attn
        h = layer.input_layernorm(x)
        t, hd = x.shape[0], self.pool.shape.head_dim
        q = self._proj(li, "q_proj", sa.q_proj, h, lora).view(t, -1, hd)
        k = self._proj(li, "k_proj", sa.k_proj, h, lora).view(t, -1, hd)
        v = self._proj(li, "v_proj", sa.v_proj, h, lora).view(t, -1, hd)
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        kc = self.pool.k[li].view(-1, *self.pool.k[li].shape[2:])
        vc = self.pool.v[li].view(-1, *self.pool.v[li].shape[2:])
        kw, vw = (k, v) if keep is None else (k * keep[:, None, None], v * keep[:, None, None])
        kc.index_copy_(0, slots, kw.to(kc.dtype))
        vc.index_copy_(0, slots, vw.to(vc.dtype))
        out = attention(li, q, k, v, kc, vc)
        return self._proj(li, "o_proj", sa.o_proj, out.reshape(t, -1), lora)

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
            flex=self.flex, buckets=self.buckets, kernel=self.attention == "kernel",
        )


def _adapter_uid(adapter: LoraAdapter | None) -> int:
    return adapter.uid if adapter is not None else 0
