"""Decode-only steps at fixed batch sizes from static buffers, replayed as CUDA graphs on CUDA.

At small batches a GPU decode step is mostly Python and kernel launches (hundreds per step for
30 layers). Here a decode-only step is padded to a bucket (``decode_buckets``), its inputs are
written with one host-to-device copy into a static buffer, and the whole forward, flex attention
and LoRA included, is one graph replay per bucket. Nothing in it reads back to the host: the
step's only sync is the caller's read of the sampled token ids.

Without CUDA (tests) the same static forward runs eagerly, which is how its equivalence with the
ordinary forward is checked on CPU; only capture and replay are CUDA-only.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from inference.decode_buckets import pad_rows, pick_bucket
from inference.flex_decode import fill_physical_to_logical, pad_tables
from inference.kv_cache import NULL_BLOCK
from inference.lora import LoraAdapter
from inference.lora_rows import LoraStack, RowLora, grown_stack

if TYPE_CHECKING:
    from inference.model_runner import BatchItem, ModelRunner

FIELDS = ("ids", "pos", "slots", "adapter", "counts", "lengths")


def stage_rows(
    items: Seq[BatchItem], size: int, block_size: int, max_blocks: int, adapter_rows: Seq[int]
) -> list[int]:
    """One step's decode inputs padded to ``size`` rows, flattened in ``FIELDS`` order + tables.

    Padded rows decode token 0 at position 0 into the null block's first slot (they write zeros
    there, see ``ModelRunner.layers``) and attend to that slot alone.
    """
    tables = [it.block_table for it in items]
    lengths = [it.start + 1 for it in items]
    padded, counts, lens = pad_tables(tables, lengths, size, max_blocks, block_size)
    slots = [it.block_table[it.start // block_size] * block_size + it.start % block_size for it in items]
    flat: list[int] = []
    flat += pad_rows([int(it.token_ids[0]) for it in items], size, 0)
    flat += pad_rows([it.start for it in items], size, 0)
    flat += pad_rows(slots, size, NULL_BLOCK * block_size)
    flat += pad_rows(list(adapter_rows), size, -1)
    flat += counts + lens
    for row in padded:
        flat += row
    return flat


@dataclass
class _Bucket:
    size: int
    host: torch.Tensor  # staged inputs (pinned on CUDA)
    device: torch.Tensor  # the same on the device; the forward reads only this
    logits: torch.Tensor | None = None  # static output of the captured forward
    graph: Any = None  # torch.cuda.CUDAGraph once captured


class DecodeGraphs:
    """Runs decode-only batches through per-bucket static forwards (captured when ``capture``)."""

    def __init__(self, runner: ModelRunner, capture: bool) -> None:
        if runner.flex is None:
            raise ValueError("static decode steps need the flex attention backend")
        self.runner = runner
        self.flex = runner.flex
        self.capture = capture
        self.stack: LoraStack | None = None
        self._buckets: dict[int, _Bucket] = {}
        self._pool = torch.cuda.graph_pool_handle() if capture else None
        self.captures = 0  # graphs captured so far (re-captured when the adapter stack changes)

    def accepts(self, items: Seq[BatchItem]) -> bool:
        """Decode-only batches that fit a bucket (one token each, each wanting logits)."""
        return bool(items) and pick_bucket(len(items), self.runner.buckets) is not None and all(
            len(it.token_ids) == 1 and it.want_logits for it in items
        )

    @torch.inference_mode()
    def run(self, items: Seq[BatchItem]) -> torch.Tensor:
        """fp32 logits [n, V] of ``items`` in order (a view of a static buffer, valid until the next step)."""
        size = pick_bucket(len(items), self.runner.buckets)
        assert size is not None
        stack = self._use_stack([it.adapter for it in items])
        rows = stack.row_index([it.adapter for it in items])
        flat = stage_rows(items, size, self.flex.block_size, self.flex.max_blocks, rows)
        return self._replay(size, flat)[: len(items)]

    @torch.inference_mode()
    def warm_up(self, adapters: Seq[LoraAdapter]) -> None:
        """Capture every bucket now, on dummy rows only (they touch nothing but the null block),
        with ``adapters`` stacked so that later batches of them replay these graphs."""
        self._use_stack(list(adapters))
        for size in self.runner.buckets:
            self._replay(size, stage_rows([], size, self.flex.block_size, self.flex.max_blocks, []))

    def _use_stack(self, adapters: Seq[LoraAdapter | None]) -> LoraStack:
        stack = grown_stack(self.stack, adapters)
        if stack is not self.stack:
            self.stack = stack
            for b in self._buckets.values():  # captured graphs hold the old stack's tensors
                b.graph, b.logits = None, None
        return stack

    def _replay(self, size: int, flat: list[int]) -> torch.Tensor:
        bucket = self._bucket(size)
        # Everything here is queued while the device is idle (the last step ended reading its
        # sampled ids), so zeroing new blocks and the one pinned copy never stall it; and the
        # pinned buffer may be rewritten now because that read came after its last copy.
        self.runner.pool.zero_new_blocks()
        bucket.host.copy_(torch.tensor(flat, dtype=torch.long))
        bucket.device.copy_(bucket.host, non_blocking=True)
        if not self.capture:
            return self._forward(bucket)
        if bucket.graph is None:
            self._capture(bucket)
        assert bucket.graph is not None and bucket.logits is not None
        bucket.graph.replay()
        return bucket.logits

    def _bucket(self, size: int) -> _Bucket:
        bucket = self._buckets.get(size)
        if bucket is None:
            n = size * (len(FIELDS) + self.flex.max_blocks)
            host = torch.zeros(n, dtype=torch.long, pin_memory=self.capture)
            bucket = _Bucket(size, host, torch.zeros(n, dtype=torch.long, device=self.runner.device))
            self._buckets[size] = bucket
        return bucket

    def _forward(self, bucket: _Bucket) -> torch.Tensor:
        """The static forward: reads only ``bucket.device`` and fixed buffers (graph-capturable)."""
        size, runner = bucket.size, self.runner
        head = bucket.device[: size * len(FIELDS)].view(len(FIELDS), size)
        ids, pos, slots, adapter, counts, lengths = head
        buf = self.flex.buffers(size)
        buf.tables.copy_(bucket.device[size * len(FIELDS) :].view(size, -1))
        buf.counts.copy_(counts)
        buf.lengths.copy_(lengths)
        fill_physical_to_logical(buf.p2l, buf.tables, buf.counts)
        dtype = runner.decoder.embed_tokens.weight.dtype
        keep = slots != NULL_BLOCK * self.flex.block_size  # only padded rows write the null block
        stack = self.stack
        lora = RowLora(stack, adapter, dtype) if stack is not None and stack.adapters else _NoLora()

        def attention(li: int, q, k, v, kc, vc) -> torch.Tensor:
            return self.flex.attend(q, kc, vc, buf, runner.decoder.layers[li].self_attn.scaling)

        x = runner.layers(ids, pos, slots, attention, lora, keep.to(dtype))
        return runner.logits(x)

    def _capture(self, bucket: _Bucket) -> None:
        # Warm-up runs compile flex for this shape and settle the allocator; they recompute this
        # step's K/V and write the same values to the same slots, so running them is harmless.
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                self._forward(bucket)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        # thread_local: a serving thread loading an adapter onto the GPU meanwhile must not break
        # (or be broken by) this capture; only this thread's stream is being recorded.
        with torch.cuda.graph(graph, pool=self._pool, capture_error_mode="thread_local"):
            bucket.logits = self._forward(bucket)
        bucket.graph = graph
        self.captures += 1


class _NoLora:
    def add(self, layer: int, name: str, x: torch.Tensor, out: torch.Tensor) -> None:
        return None


def graphs_default(device: torch.device, attention: str) -> bool:
    """Static decode graphs are on by default only where they pay: CUDA with flex attention."""
    return device.type == "cuda" and attention == "flex"

