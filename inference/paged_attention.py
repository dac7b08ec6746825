"""Attention over the paged KV cache: decodes in length buckets, prefill chunks one by one.

Gathering every decoding sequence's K/V padded to the longest context (the old layout) wrote ~2x
the valid slots per layer at batch 32 and fell out of cache. Decodes are instead grouped into
buckets of similar context length whose padded K fits in L2, and each query head group is folded
onto its KV head (``[b, Hkv, G, D]`` queries against ``[b, Hkv, L, D]`` keys) so no K/V is
repeated per query head. Measured on a 2-vCPU Sapphire Rapids, one layer of SmolLM2-135M
attention at batch 32 with contexts 30-650: 81 ms padded vs 15 ms bucketed (tiny shape 2.4 vs
0.7 ms); equal at batch 1 (docs/benchmarks/engine/attention.md).

On CUDA the decodes go instead to ``flex_decode`` (paged flex_attention, no gather at all), padded
to a fixed batch bucket; on a CPU that can build it, to the compiled kernel of
``cpu_decode_kernel`` (reads the pool through the block tables, no gather, no buckets). Prefill
chunks take the same SDPA path on every device.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from inference.decode_buckets import pick_bucket
from inference.kv_cache import NULL_BLOCK

if TYPE_CHECKING:
    from inference.flex_decode import FlexDecodeBuffers, FlexDecoder

# A bucket may pad its longest context onto the others by at most this factor of valid slots...
BUCKET_SLACK = 1.3
# ...and its padded K (one of K/V) stays under this many bytes, so K, V and scores stay in L2.
BUCKET_BYTES = 256 * 1024


@dataclass(frozen=True)
class DecodeBucket:
    """Decoding sequences of similar context length, attended to in one SDPA call."""

    rows: torch.Tensor  # [b] flat token rows (their single query token each)
    slots: torch.Tensor  # [b * width] cache slots of their contexts, padded to the longest
    width: int
    mask: torch.Tensor | None  # [b, 1, 1, width] True = attend; None when nothing is padded
    # A lone sequence whose blocks follow each other in the pool (usual at batch 1: its blocks
    # are handed out in order) reads its context as a view from this slot: no gather at all.
    first_slot: int | None = None


@dataclass(frozen=True)
class PrefillSpan:
    """One prefill chunk: rows s..e; ``slots``/``mask`` None when the chunk is its whole context."""

    start: int
    end: int
    slots: torch.Tensor | None
    mask: torch.Tensor | None


@dataclass(frozen=True)
class FlexDecodes:
    """This step's decodes on the flex path: their rows, in the bucket's first ``len(rows)`` rows."""

    decoder: FlexDecoder
    buffers: FlexDecodeBuffers
    rows: torch.Tensor  # [n] flat token rows


@dataclass(frozen=True)
class KernelDecodes:
    """This step's decodes on the compiled CPU kernel: rows, block tables and context lengths."""

    rows: torch.Tensor  # [n] flat token rows
    tables: torch.Tensor  # [n, blocks] int64, padded with the null block
    lengths: torch.Tensor  # [n] int64
    block_size: int


@dataclass
class AttentionLayout:
    """Per-step attention plan, built once and reused by every layer."""

    decode: list[DecodeBucket] = field(default_factory=list)
    prefills: list[PrefillSpan] = field(default_factory=list)
    flex: FlexDecodes | None = None
    kernel: KernelDecodes | None = None


def plan_buckets(
    lengths: Seq[int], slot_bytes: int, slack: float = BUCKET_SLACK, max_bytes: int = BUCKET_BYTES
) -> list[list[int]]:
    """Group indices of ``lengths`` into buckets, shortest first (a pure function of the lengths).

    Greedy over the sorted lengths: a bucket closes when adding the next sequence would make its
    padded slots exceed ``slack`` x its valid slots, or its padded K exceed ``max_bytes``.
    """
    if slack < 1:
        raise ValueError(f"bucket slack must be >= 1, got {slack}")
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    buckets: list[list[int]] = []
    current: list[int] = []
    valid = 0
    for i in order:
        n = lengths[i]
        padded = n * (len(current) + 1)  # sorted: the newcomer is the longest
        if current and (padded > slack * (valid + n) or padded * slot_bytes > max_bytes):
            buckets.append(current)
            current, valid = [], 0
        current.append(i)
        valid += n
    if current:
        buckets.append(current)
    return buckets


def build_layout(
    decode_rows: Seq[int],
    decode_lengths: Seq[int],
    decode_tables: Seq[Seq[int]],
    prefills: Seq[tuple[int, int, int, Seq[int]]],
    block_size: int,
    slot_bytes: int,
    device: torch.device,
    flex: FlexDecoder | None = None,
    buckets: Seq[int] = (),
    kernel: bool = False,
) -> AttentionLayout:
    """The plan for one step: decodes (row, context length, block table) and prefill chunks
    (row start, row end, first position, block table). With ``flex``, decodes that fit one of
    ``buckets`` go to paged flex_attention instead of SDPA buckets; with ``kernel``, all of them go
    to the compiled CPU kernel."""
    layout = AttentionLayout()
    if kernel and decode_rows:
        width = max(-(-n // block_size) for n in decode_lengths)
        padded = [list(t[:width]) + [NULL_BLOCK] * (width - min(width, len(t))) for t in decode_tables]
        layout.kernel = KernelDecodes(
            torch.tensor(list(decode_rows), dtype=torch.long, device=device),
            torch.tensor(padded, dtype=torch.long, device=device),
            torch.tensor(list(decode_lengths), dtype=torch.long, device=device),
            block_size,
        )
        decode_lengths = []
    size = pick_bucket(len(decode_rows), buckets) if flex is not None and layout.kernel is None else None
    if flex is not None and size is not None:
        buffers = flex.load(size, decode_tables, decode_lengths)
        rows = torch.tensor(list(decode_rows), dtype=torch.long, device=device)
        layout.flex = FlexDecodes(flex, buffers, rows)
        decode_lengths = []
    for bucket in plan_buckets(decode_lengths, slot_bytes):
        lengths = [decode_lengths[i] for i in bucket]
        width = lengths[-1]
        slots = context_slots([decode_tables[i] for i in bucket], width, block_size, device)
        mask = None
        if lengths[0] != width:
            valid = torch.tensor(lengths, device=device)[:, None]
            mask = (torch.arange(width, device=device)[None, :] < valid)[:, None, None, :]
        rows = torch.tensor([decode_rows[i] for i in bucket], device=device)
        table = decode_tables[bucket[0]][: -(-width // block_size)]
        run = len(bucket) == 1 and all(b == table[0] + j for j, b in enumerate(table))
        first = table[0] * block_size if run else None
        layout.decode.append(DecodeBucket(rows, slots.reshape(-1), width, mask, first))
    for s, e, start, table in prefills:
        if start == 0:
            layout.prefills.append(PrefillSpan(s, e, None, None))
            continue
        ctx_len = start + (e - s)
        gather = context_slots([table], ctx_len, block_size, device)[0]
        q_pos = torch.arange(start, ctx_len, device=device)
        causal = torch.arange(ctx_len, device=device)[None, :] <= q_pos[:, None]
        layout.prefills.append(PrefillSpan(s, e, gather, causal[None, None]))
    return layout


def attend(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, kc: torch.Tensor, vc: torch.Tensor,
    layout: AttentionLayout, scale: float,
) -> torch.Tensor:
    """Attention output [T, H, D] of queries q [T, H, D] over the flat caches kc/vc [slots, Hkv, D]
    (this step's k/v [T, Hkv, D] already written into them)."""
    out = torch.empty_like(q)
    heads, kv_heads, dim = q.shape[1], kc.shape[1], q.shape[2]
    if layout.flex is not None:
        f = layout.flex
        n, size = f.rows.shape[0], f.buffers.lengths.shape[0]
        qd = q.new_zeros(size, heads, dim)  # padded rows attend the null block; dropped below
        qd[:n] = q.index_select(0, f.rows)
        out.index_copy_(0, f.rows, f.decoder.attend(qd, kc, vc, f.buffers, scale)[:n])
    if layout.kernel is not None:
        from inference.cpu_decode_kernel import paged_decode

        kern = layout.kernel
        qk = q.index_select(0, kern.rows)
        out.index_copy_(
            0, kern.rows, paged_decode(qk, kc, vc, kern.tables, kern.lengths, kern.block_size, scale)
        )
    for b in layout.decode:
        n = b.rows.shape[0]
        qd = q.index_select(0, b.rows).view(n, kv_heads, heads // kv_heads, dim)
        if b.first_slot is not None:
            kd = kc.narrow(0, b.first_slot, b.width)[None].transpose(1, 2)
            vd = vc.narrow(0, b.first_slot, b.width)[None].transpose(1, 2)
        else:
            kd = kc.index_select(0, b.slots).view(n, b.width, kv_heads, dim).transpose(1, 2)
            vd = vc.index_select(0, b.slots).view(n, b.width, kv_heads, dim).transpose(1, 2)
        od = F.scaled_dot_product_attention(qd, kd, vd, attn_mask=b.mask, scale=scale)
        out.index_copy_(0, b.rows, od.reshape(n, heads, dim))
    for p in layout.prefills:
        qp = q[p.start : p.end].transpose(0, 1)[None]
        if p.slots is None:  # the whole context is this chunk: use it directly, causal
            kp, vp = k[p.start : p.end].transpose(0, 1)[None], v[p.start : p.end].transpose(0, 1)[None]
        else:
            kp = kc.index_select(0, p.slots).transpose(0, 1)[None]
            vp = vc.index_select(0, p.slots).transpose(0, 1)[None]
        op = F.scaled_dot_product_attention(
            qp, kp, vp, attn_mask=p.mask, is_causal=p.slots is None, scale=scale, enable_gqa=True
        )
        out[p.start : p.end] = op[0].transpose(0, 1)
    return out


def context_slots(tables: Seq[Seq[int]], width: int, bs: int, dev: torch.device) -> torch.Tensor:
    """Slots of positions 0..width-1 per sequence [B, width]; missing blocks read the null block."""
    num = -(-width // bs)
    padded = [list(t[:num]) + [NULL_BLOCK] * (num - min(num, len(t))) for t in tables]
    table = torch.tensor(padded, dtype=torch.long, device=dev)
    pos = torch.arange(width, device=dev)
    # Positions past a sequence's length are masked out; they point into its own (zeroed-on-
    # allocation) last block or the null block, so they never carry another request's values.
    return table[:, pos // bs] * bs + pos % bs
