"""Decode attention read straight from the paged KV cache with flex_attention (the CUDA path).

The SDPA path (``paged_attention``) gathers each bucket's contexts into a padded copy first. Here
the whole pool is one key sequence ``[1, Hkv, slots, D]`` (a view of the cache, nothing copied),
every decoding sequence is one batch row, and a block mask lists that row's own cache blocks —
its block table — so the kernel visits only them. Inside a visited block, ``mask_mod`` maps the
physical slot back to a logical position through a per-row inverse of the block table and keeps
positions below the row's context length (the last block is usually partial). The mask alone is
exact, so the unfused eager kernel (CPU tests) and the compiled one agree.

A row's query heads are folded onto their KV head as ``G`` query positions (``[B, Hkv, G, D]``):
flex's GQA decoding kernel needs a power-of-two group, and SmolLM2-135M's is 3.

Shapes are static per batch bucket (rows padded with a dummy sequence on the null block), so
``torch.compile`` builds one kernel per bucket and CUDA graphs can capture it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from typing import Any

import torch

from inference.kv_cache import NULL_BLOCK

# flex_attention's query tile; a decode row's G (<= 16 here) query positions fit in one.
Q_TILE = 128


def flex_supported() -> str | None:
    """None when this torch has flex_attention, else why not (the SDPA path is used instead)."""
    try:
        from torch.nn.attention.flex_attention import BlockMask, flex_attention  # noqa: F401
    except ImportError as exc:  # pragma: no cover - torch < 2.5
        return f"flex_attention unavailable: {exc}"
    return None


def pad_tables(
    tables: Seq[Seq[int]], lengths: Seq[int], rows: int, max_blocks: int, block_size: int
) -> tuple[list[list[int]], list[int], list[int]]:
    """Block tables cut to their context, padded to ``rows`` x ``max_blocks``; block counts; lengths.

    Rows past ``len(tables)`` are the dummy sequence: one token on the null block (all zeros, so
    its attention output is 0 and never NaN). Unused table entries read the null block too.
    """
    if len(tables) != len(lengths) or len(tables) > rows:
        raise ValueError(f"{len(tables)} tables / {len(lengths)} lengths for {rows} rows")
    out_tables, counts, lens = [], [], []
    for table, n in zip(tables, lengths, strict=True):
        need = -(-n // block_size)
        if n <= 0 or need > len(table) or need > max_blocks:
            raise ValueError(
                f"context of {n} tokens needs {need} blocks; table has {len(table)}, cap {max_blocks}"
            )
        out_tables.append([*table[:need], *[NULL_BLOCK] * (max_blocks - need)])
        counts.append(need)
        lens.append(n)
    for _ in range(rows - len(tables)):
        out_tables.append([NULL_BLOCK] * max_blocks)
        counts.append(1)
        lens.append(1)
    return out_tables, counts, lens


def physical_to_logical(kv_indices: torch.Tensor, counts: torch.Tensor, num_pool_blocks: int) -> torch.Tensor:
    """Per row, the logical block index of each pool block (-1: not this row's) [B, pool_blocks + 1].

    Entries past a row's count are sent to the spare last column, which no slot maps to.
    """
    rows, width = kv_indices.shape
    out = torch.full((rows, num_pool_blocks + 1), -1, dtype=torch.int32, device=kv_indices.device)
    return fill_physical_to_logical(out, kv_indices, counts)


def fill_physical_to_logical(
    out: torch.Tensor, kv_indices: torch.Tensor, counts: torch.Tensor
) -> torch.Tensor:
    """``physical_to_logical`` into a preallocated buffer (device ops only: CUDA-graph safe)."""
    width = kv_indices.shape[1]
    logical = torch.arange(width, device=kv_indices.device, dtype=torch.int32)[None, :].expand_as(kv_indices)
    live = logical < counts[:, None]
    spare = out.shape[1] - 1
    target = torch.where(live, kv_indices.long(), torch.full_like(kv_indices, spare, dtype=torch.long))
    out.fill_(-1)
    out.scatter_(1, target, torch.where(live, logical, torch.full_like(logical, -1)).contiguous())
    return out


@dataclass
class FlexDecodeBuffers:
    """Static per-bucket tensors the block mask and its mask_mod read; refilled every step."""

    kv_indices: torch.Tensor  # [B, pool_blocks] int32 physical blocks in logical order
    tables: torch.Tensor  # its first max_blocks columns (no row holds more); the rest stay 0
    counts: torch.Tensor  # [B] int32 blocks each row visits
    lengths: torch.Tensor  # [B] int32 context length (positions < length are attended)
    p2l: torch.Tensor  # [B, pool_blocks + 1] int32 inverse block table
    block_mask: Any  # torch BlockMask over the views above


def make_buffers(
    rows: int, group: int, max_blocks: int, pool_blocks: int, block_size: int, device: torch.device
) -> FlexDecodeBuffers:
    """Allocate one bucket's buffers and the block mask that reads them (built once).

    ``group``: query heads per KV head (a row's query length); ``pool_blocks``: physical blocks
    of the cache, the null block included.
    """
    from torch.nn.attention.flex_attention import BlockMask

    # The mask must span the whole pool (flex checks it against the key length), though a row
    # never lists more than max_blocks blocks and the kernel reads only the first ``counts``.
    kv_indices = torch.zeros(rows, pool_blocks, dtype=torch.int32, device=device)
    counts = torch.ones(rows, dtype=torch.int32, device=device)
    lengths = torch.ones(rows, dtype=torch.int32, device=device)
    p2l = torch.full((rows, pool_blocks + 1), -1, dtype=torch.int32, device=device)
    mask_mod = paged_mask_mod(p2l, lengths, block_size)
    args = (counts.view(rows, 1, 1), kv_indices.view(rows, 1, 1, pool_blocks))
    kwargs: dict[str, Any] = {
        "BLOCK_SIZE": (Q_TILE, block_size), "mask_mod": mask_mod,
        "seq_lengths": (group, pool_blocks * block_size),
    }
    try:  # the q-side indices only serve the backward pass; torch >= 2.7 can skip them
        mask = BlockMask.from_kv_blocks(*args, compute_q_blocks=False, **kwargs)
    except TypeError:  # pragma: no cover - older torch
        mask = BlockMask.from_kv_blocks(*args, **kwargs)
    return FlexDecodeBuffers(kv_indices, kv_indices[:, :max_blocks], counts, lengths, p2l, mask)


def paged_mask_mod(p2l: torch.Tensor, lengths: torch.Tensor, block_size: int) -> Callable[..., torch.Tensor]:
    """mask_mod: slot ``kv`` is attended by row ``b`` iff it is one of b's positions < length."""

    def mask_mod(b: torch.Tensor, h: torch.Tensor, q: torch.Tensor, kv: torch.Tensor) -> torch.Tensor:
        logical = p2l[b, kv // block_size]
        pos = logical * block_size + kv % block_size
        return (logical >= 0) & (pos < lengths[b])

    return mask_mod


def load_buffers(
    buf: FlexDecodeBuffers, tables: torch.Tensor, counts: torch.Tensor, lengths: torch.Tensor
) -> None:
    """Copy one step's (padded) tables/counts/lengths in and rebuild the inverse table in place."""
    buf.tables.copy_(tables, non_blocking=True)
    buf.counts.copy_(counts, non_blocking=True)
    buf.lengths.copy_(lengths, non_blocking=True)
    fill_physical_to_logical(buf.p2l, buf.tables, buf.counts)


class FlexDecoder:
    """Per-engine flex decode attention: one buffer set per batch bucket, one compiled kernel each."""

    def __init__(
        self, group: int, pool_blocks: int, block_size: int, max_blocks: int, device: torch.device,
        compiled: bool,
    ) -> None:
        from torch.nn.attention.flex_attention import flex_attention

        self.group, self.pool_blocks, self.block_size = group, pool_blocks, block_size
        self.max_blocks, self.device = min(max_blocks, pool_blocks), device
        self._buffers: dict[int, FlexDecodeBuffers] = {}
        self.compiled = compiled
        if compiled:
            _allow_recompiles()
            self._flex: Callable[..., Any] = torch.compile(flex_attention, dynamic=False)
        else:
            self._flex = _eager(flex_attention)

    def buffers(self, rows: int) -> FlexDecodeBuffers:
        """The static buffers of the ``rows`` bucket (allocated on first use)."""
        buf = self._buffers.get(rows)
        if buf is None:
            buf = make_buffers(
                rows, self.group, self.max_blocks, self.pool_blocks, self.block_size, self.device
            )
            self._buffers[rows] = buf
        return buf

    def warm_up(self, sizes: Seq[int], heads: int, dim: int, dtype: torch.dtype) -> None:
        """Compile the kernel of every bucket now (dummy rows), not inside a timed step."""
        slots = self.pool_blocks * self.block_size
        kc = torch.zeros(slots, heads // self.group, dim, dtype=dtype, device=self.device)
        for size in sizes:
            buf = self.load(size, [], [])
            q = torch.zeros(size, heads, dim, dtype=dtype, device=self.device)
            self.attend(q, kc, kc, buf, 1.0)

    def buffers_in_use(self) -> tuple[int, ...]:
        """The buckets that have buffers so far (for tests and reports)."""
        return tuple(sorted(self._buffers))

    def load(self, rows: int, tables: Seq[Seq[int]], lengths: Seq[int]) -> FlexDecodeBuffers:
        """Fill the ``rows`` bucket for these sequences (host lists; one small copy each)."""
        padded, counts, lens = pad_tables(tables, lengths, rows, self.max_blocks, self.block_size)
        buf = self.buffers(rows)
        load_buffers(buf, torch.tensor(padded, dtype=torch.int32), torch.tensor(counts, dtype=torch.int32),
                     torch.tensor(lens, dtype=torch.int32))
        return buf

    def attend(
        self, q: torch.Tensor, kc: torch.Tensor, vc: torch.Tensor, buf: FlexDecodeBuffers, scale: float
    ) -> torch.Tensor:
        """Queries q [B, H, D] (B = the bucket) over flat caches kc/vc [slots, Hkv, D] -> [B, H, D]."""
        rows, heads, dim = q.shape
        kv_heads = kc.shape[1]
        qf = q.view(rows, kv_heads, heads // kv_heads, dim)
        k = kc.permute(1, 0, 2)[None]  # [1, Hkv, slots, D]: a view of the pool, no copy
        v = vc.permute(1, 0, 2)[None]
        if not self.compiled:
            # Uncompiled flex scores every slot of the pool and multiplies masked-out ones by 0,
            # so a never-written block's stale NaN would poison every row; the compiled kernel
            # reads only each row's own (zeroed-on-allocation) blocks. Tests only: this copies.
            k, v = torch.nan_to_num(k, 0.0, 0.0, 0.0), torch.nan_to_num(v, 0.0, 0.0, 0.0)
        out = self._flex(qf, k, v, block_mask=buf.block_mask, scale=scale)
        return out.reshape(rows, heads, dim)


def _allow_recompiles(limit: int = 64) -> None:
    # One kernel per (bucket, model shape) is by design; dynamo's default cap (8 per function,
    # shared by every engine in the process) would silently fall back to the unfused kernel.
    config = torch._dynamo.config
    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(config, name) and getattr(config, name) < limit:
            setattr(config, name, limit)


def _eager(flex: Callable[..., Any]) -> Callable[..., Any]:
    # Uncompiled flex materialises the scores (fine for CPU tests, the only place it runs) and
    # warns once about it; the warning says nothing the caller does not already know.
    def run(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return flex(*args, **kwargs)

    return run
