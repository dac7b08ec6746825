"""Paged KV cache: fixed-size blocks, per-sequence block tables, prefix sharing and copy-on-write."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from collections.abc import Sequence as Seq
from dataclasses import dataclass

import torch

from inference.sequence import Sequence

# Block 0 is never handed out: padded gathers point at it, and it stays all zeros so that a
# masked-out slot can never carry NaN/Inf from a previous owner into another sequence's attention.
NULL_BLOCK = 0


@dataclass(frozen=True)
class KVShape:
    """The model dimensions that size one cache block."""

    num_layers: int
    num_kv_heads: int
    head_dim: int
    dtype: torch.dtype

    @property
    def bytes_per_token(self) -> int:
        """Bytes of K and V for one token across all layers."""
        elem = torch.empty((), dtype=self.dtype).element_size()
        return 2 * self.num_layers * self.num_kv_heads * self.head_dim * elem


def blocks_for_budget(
    shape: KVShape, block_size: int, budget_tokens: int | None = None, budget_bytes: int | None = None
) -> int:
    """Number of usable blocks that fit a token or byte budget (exactly one must be given)."""
    if (budget_tokens is None) == (budget_bytes is None):
        raise ValueError("give exactly one of kv budget_tokens or budget_bytes")
    if budget_bytes is not None:
        if budget_bytes <= 0:
            raise ValueError("kv budget_bytes must be positive")
        budget_tokens = budget_bytes // shape.bytes_per_token
    assert budget_tokens is not None
    if budget_tokens < block_size:
        raise ValueError(f"kv budget of {budget_tokens} tokens is smaller than one block ({block_size})")
    return budget_tokens // block_size


class KVBlockPool:
    """Per-layer K/V tensors [num_blocks, block_size, n_kv_heads, head_dim] plus block bookkeeping."""

    def __init__(self, shape: KVShape, num_blocks: int, block_size: int, device: torch.device) -> None:
        if block_size <= 0:
            raise ValueError("block_size must be positive")
        if num_blocks <= 0:
            raise ValueError("num_blocks must be positive")
        self.shape = shape
        self.block_size = block_size
        self.num_blocks = num_blocks  # usable blocks, not counting the null block
        dims = (num_blocks + 1, block_size, shape.num_kv_heads, shape.head_dim)
        # Not zero-filled: a 32k-token pool is hundreds of MB whose pages the OS then maps only as
        # blocks are used (zero-filling took seconds at start). Only the null block must be zeros
        # now; every other block is cleared when handed out (``zero_new_blocks``).
        self.k = [torch.empty(dims, dtype=shape.dtype, device=device) for _ in range(shape.num_layers)]
        self.v = [torch.empty(dims, dtype=shape.dtype, device=device) for _ in range(shape.num_layers)]
        for tensor in (*self.k, *self.v):
            tensor[NULL_BLOCK].zero_()
        self.refcount = [0] * (num_blocks + 1)
        # Free blocks in least-recently-freed order; a freed block keeps its prefix hash so a later
        # request can still reuse it until the block is handed out again.
        self._free: OrderedDict[int, None] = OrderedDict((b, None) for b in range(1, num_blocks + 1))
        self._hash_to_block: dict[int, int] = {}
        self._block_hash: dict[int, int] = {}
        self._dirty: list[int] = []
        # Shared blocks whose K/V one owner has still to compute (resumed beams share the prompt
        # before it is recomputed); that owner's writes must not trigger copy-on-write.
        self._writer: dict[int, int] = {}
        self.prefix_queries = 0  # full prompt blocks looked up
        self.prefix_hits = 0  # of those, found in the cache

    @property
    def num_free(self) -> int:
        """Blocks that can be handed out now (including cached-but-unreferenced ones)."""
        return len(self._free)

    @property
    def num_used(self) -> int:
        """Blocks referenced by at least one sequence."""
        return self.num_blocks - len(self._free)

    @property
    def usage(self) -> float:
        """Fraction of blocks in use, 0..1."""
        return self.num_used / self.num_blocks

    def blocks_needed(self, num_tokens: int) -> int:
        """Blocks that hold ``num_tokens`` tokens."""
        return -(-num_tokens // self.block_size)

    def _take(self) -> int:
        block, _ = self._free.popitem(last=False)
        old = self._block_hash.pop(block, None)
        if old is not None and self._hash_to_block.get(old) == block:
            del self._hash_to_block[old]
        self.refcount[block] = 1
        self._dirty.append(block)
        return block

    def _release(self, block: int) -> None:
        self.refcount[block] -= 1
        if self.refcount[block] == 0:
            self._free[block] = None
            self._writer.pop(block, None)

    def match_prefix(self, seq: Sequence, key: Hashable) -> int:
        """Attach cached full blocks of the prompt to an empty sequence; returns tokens reused."""
        assert not seq.block_table, "prefix matching needs a sequence without blocks"
        # Keep at least one prompt token uncomputed: its forward yields the first sampled token.
        max_blocks = (seq.prompt_len - 1) // self.block_size
        parent = 0
        for i in range(max_blocks):
            h = _chain_hash(parent, key, seq.token_ids[i * self.block_size : (i + 1) * self.block_size])
            self.prefix_queries += 1
            block = self._hash_to_block.get(h)
            if block is None:
                break
            self.prefix_hits += 1
            if self.refcount[block] == 0:
                del self._free[block]
            self.refcount[block] += 1
            seq.block_table.append(block)
            seq.block_hashes.append(h)
            parent = h
        seq.num_computed = len(seq.block_table) * self.block_size
        return seq.num_computed

    def register_full_blocks(self, seq: Sequence, key: Hashable) -> None:
        """Publish newly completed full blocks of ``seq`` so later requests can share them."""
        full = seq.num_computed // self.block_size
        parent = seq.block_hashes[-1] if seq.block_hashes else 0
        for i in range(len(seq.block_hashes), full):
            h = _chain_hash(parent, key, seq.token_ids[i * self.block_size : (i + 1) * self.block_size])
            block = seq.block_table[i]
            # Two requests may compute the same prefix concurrently; the first one stays canonical.
            if h not in self._hash_to_block:
                self._hash_to_block[h] = block
                self._block_hash[block] = h
            seq.block_hashes.append(h)
            parent = h

    def prepare_write(self, seq: Sequence, start: int, end: int) -> bool:
        """Make slots [start, end) writable: allocate blocks and copy shared ones; False if full."""
        first, last = start // self.block_size, (end - 1) // self.block_size
        missing = max(0, last + 1 - len(seq.block_table))
        written = range(first, min(last + 1, len(seq.block_table)))
        table = seq.block_table
        shared = [
            i for i in written if self.refcount[table[i]] > 1 and self._writer.get(table[i]) != seq.seq_id
        ]
        if missing + len(shared) > self.num_free:
            return False
        for i in shared:
            self._copy_on_write(seq, i)
        for i in written:
            if end >= (i + 1) * self.block_size:
                self._writer.pop(table[i], None)  # filled by this write: an ordinary block again
        for _ in range(missing):
            table.append(self._take())
        return True

    def share_prefix(self, src: Sequence, dst: Sequence, num_blocks: int) -> None:
        """Give empty ``dst`` the first ``num_blocks`` blocks of ``src`` (same tokens there).

        Blocks ``src`` has not computed yet are filled by ``src``; ``dst`` must wait for that
        before it reads them (the scheduler holds it back via ``Sequence.wait_for``).
        """
        assert not dst.block_table, "sharing needs a sequence without blocks"
        for i, block in enumerate(src.block_table[:num_blocks]):
            self.refcount[block] += 1
            if (i + 1) * self.block_size > src.num_computed:
                self._writer[block] = src.seq_id
            dst.block_table.append(block)
        dst.block_hashes = list(src.block_hashes[:num_blocks])
        dst.num_computed = num_blocks * self.block_size
        dst.wait_for = dst.num_computed if src.num_computed < dst.num_computed else 0

    def _copy_on_write(self, seq: Sequence, index: int) -> None:
        src = seq.block_table[index]
        dst = self._take()
        for layer in range(self.shape.num_layers):
            self.k[layer][dst].copy_(self.k[layer][src])
            self.v[layer][dst].copy_(self.v[layer][src])
        self._dirty.remove(dst)  # fully overwritten by the copy
        self._release(src)
        seq.block_table[index] = dst
        # A shared block beyond the hashed prefix is partial, so the copy has no hash to keep.
        del seq.block_hashes[index:]

    def fork(self, parent: Sequence, child: Sequence) -> None:
        """Let ``child`` share every block of ``parent`` (copy-on-write happens at the next write)."""
        child.block_table = list(parent.block_table)
        child.block_hashes = list(parent.block_hashes)
        child.num_computed = parent.num_computed
        for block in child.block_table:
            self.refcount[block] += 1

    def free(self, seq: Sequence) -> None:
        """Drop the sequence's references; its K/V must be recomputed if it runs again."""
        for block in seq.block_table:
            self._release(block)
        seq.block_table = []
        seq.block_hashes = []
        seq.num_computed = 0
        seq.wait_for = 0

    def slots(self, seq: Sequence, start: int, end: int) -> list[int]:
        """Flat slot index (block * block_size + offset) of each token position in [start, end)."""
        bs, table = self.block_size, seq.block_table
        return [table[p // bs] * bs + p % bs for p in range(start, end)]

    def zero_new_blocks(self) -> None:
        """Clear blocks handed out since the last call (stale NaNs must not leak through masks)."""
        if not self._dirty:
            return
        idx = torch.tensor(self._dirty, device=self.k[0].device)
        for layer in range(self.shape.num_layers):
            self.k[layer].index_fill_(0, idx, 0)
            self.v[layer].index_fill_(0, idx, 0)
        self._dirty.clear()


def _chain_hash(parent: int, key: Hashable, tokens: Seq[int]) -> int:
    # The parent's hash makes a block's identity depend on every token before it, and the adapter
    # key is included because LoRA on k/v projections changes the cached values.
    return hash((parent, key, tuple(tokens)))
