"""KVBlockPool: sizing, allocation that follows lengths, prefix sharing, copy-on-write, freeing."""

from __future__ import annotations

import pytest
import torch

from inference.kv_cache import KVBlockPool, KVShape, blocks_for_budget
from inference.sequence import Sequence

SHAPE = KVShape(num_layers=2, num_kv_heads=2, head_dim=4, dtype=torch.float32)


def _pool(blocks: int = 8, block_size: int = 4) -> KVBlockPool:
    return KVBlockPool(SHAPE, blocks, block_size, torch.device("cpu"))


def _seq(tokens: list[int]) -> Sequence:
    return Sequence(token_ids=list(tokens), prompt_len=len(tokens))


def test_budget_in_tokens_or_bytes() -> None:
    assert blocks_for_budget(SHAPE, 4, budget_tokens=64) == 16
    assert SHAPE.bytes_per_token == 2 * 2 * 2 * 4 * 4
    assert blocks_for_budget(SHAPE, 4, budget_bytes=SHAPE.bytes_per_token * 40) == 10
    with pytest.raises(ValueError, match="exactly one"):
        blocks_for_budget(SHAPE, 4, budget_tokens=64, budget_bytes=100)
    with pytest.raises(ValueError, match="smaller than one block"):
        blocks_for_budget(SHAPE, 16, budget_tokens=8)


def test_memory_follows_actual_length() -> None:
    pool = _pool()
    seq = _seq([1, 2, 3, 4, 5])
    assert pool.prepare_write(seq, 0, 5)
    assert pool.num_used == 2 and len(seq.block_table) == 2
    seq.num_computed = 5
    seq.token_ids += [6, 7, 8]
    assert pool.prepare_write(seq, 5, 8)
    assert pool.num_used == 2  # still fits in the second block
    seq.token_ids.append(9)
    assert pool.prepare_write(seq, 8, 9)
    assert pool.num_used == 3
    assert pool.slots(seq, 3, 5) == [seq.block_table[0] * 4 + 3, seq.block_table[1] * 4]
    pool.free(seq)
    assert pool.num_used == 0 and seq.block_table == [] and seq.num_computed == 0


def test_full_pool_refuses_without_partial_allocation() -> None:
    pool = _pool(blocks=2)
    seq = _seq(list(range(12)))
    assert not pool.prepare_write(seq, 0, 12)
    assert pool.num_used == 0 and seq.block_table == []


def test_prefix_blocks_are_shared_per_adapter_key() -> None:
    pool = _pool()
    first = _seq(list(range(10)))
    pool.prepare_write(first, 0, 10)
    first.num_computed = 10
    pool.register_full_blocks(first, key="sales")
    second = _seq(list(range(9)) + [99])
    assert pool.match_prefix(second, key="sales") == 8  # two full blocks of four
    assert second.block_table == first.block_table[:2]
    assert pool.refcount[first.block_table[0]] == 2
    assert (pool.prefix_queries, pool.prefix_hits) == (2, 2)
    other = _seq(list(range(10)))
    assert pool.match_prefix(other, key="general") == 0  # LoRA changes K/V: no sharing across adapters


def test_prefix_match_leaves_last_prompt_token_to_compute() -> None:
    pool = _pool()
    first = _seq(list(range(8)))
    pool.prepare_write(first, 0, 8)
    first.num_computed = 8
    pool.register_full_blocks(first, key=0)
    same = _seq(list(range(8)))
    assert pool.match_prefix(same, key=0) == 4  # the second block must run to give logits


def test_freed_blocks_stay_reusable_until_handed_out() -> None:
    pool = _pool(blocks=3)
    first = _seq(list(range(8)))
    pool.prepare_write(first, 0, 8)
    first.num_computed = 8
    pool.register_full_blocks(first, key=0)
    cached = list(first.block_table)
    pool.free(first)
    again = _seq(list(range(8)) + [1])
    assert pool.match_prefix(again, key=0) == 8 and again.block_table == cached
    pool.free(again)
    filler = _seq(list(range(100, 112)))
    assert pool.prepare_write(filler, 0, 12)  # takes every block, evicting the cached ones
    pool.free(filler)
    late = _seq(list(range(8)) + [1])
    assert pool.match_prefix(late, key=0) == 0


def test_fork_shares_then_copies_on_write() -> None:
    pool = _pool()
    parent = _seq([1, 2, 3, 4, 5, 6])
    pool.prepare_write(parent, 0, 6)
    for layer in range(SHAPE.num_layers):
        pool.k[layer][parent.block_table[1]] = 7.0
    parent.num_computed = 6
    child = parent.fork()
    pool.fork(parent, child)
    assert child.block_table == parent.block_table and pool.refcount[parent.block_table[1]] == 2
    child.token_ids.append(8)
    assert pool.prepare_write(child, 6, 7)
    assert child.block_table[0] == parent.block_table[0]  # full block still shared
    assert child.block_table[1] != parent.block_table[1]  # partial block copied
    assert torch.equal(pool.k[0][child.block_table[1]], pool.k[0][parent.block_table[1]])
    assert pool.refcount[parent.block_table[1]] == 1 and pool.refcount[parent.block_table[0]] == 2
    pool.free(parent)
    pool.free(child)
    assert pool.num_used == 0


def test_new_blocks_are_zeroed_before_use() -> None:
    pool = _pool(blocks=1)
    seq = _seq([1, 2])
    pool.prepare_write(seq, 0, 2)
    pool.zero_new_blocks()
    pool.k[0][seq.block_table[0]] = float("nan")
    pool.free(seq)
    again = _seq([3])
    pool.prepare_write(again, 0, 1)
    pool.zero_new_blocks()
    assert torch.count_nonzero(pool.k[0][again.block_table[0]]) == 0


def test_shared_prefix_is_filled_by_its_first_owner_without_copy() -> None:
    pool = _pool()
    first = _seq([1, 2, 3, 4, 5, 6, 7, 8, 9])
    second = _seq([1, 2, 3, 4, 5, 6, 7, 8, 10])
    assert pool.prepare_write(first, 0, 9)
    pool.share_prefix(first, second, 2)
    assert second.num_computed == 8 and second.wait_for == 8  # first has not computed them yet
    shared = list(first.block_table[:2])
    assert pool.prepare_write(first, 0, 9)  # first writes into the shared blocks: no copy
    assert first.block_table[:2] == shared and second.block_table == shared
    first.num_computed = 9
    assert pool.prepare_write(second, 8, 9)
    assert second.block_table[:2] == shared and pool.refcount[shared[0]] == 2
    pool.free(first)
    pool.free(second)
    assert pool.num_used == 0 and second.wait_for == 0


def test_the_pool_is_not_zero_filled_but_nothing_stale_is_ever_read(tokenizer) -> None:
    from inference import EngineConfig, LLMEngine
    from inference.kv_cache import NULL_BLOCK
    from inference.loading.dummy import build_random_llama

    pool = _pool(blocks=4)
    assert all(torch.count_nonzero(t[NULL_BLOCK]) == 0 for t in (*pool.k, *pool.v))  # padded reads
    # Fresh memory may hold anything: poison every other block, as garbage from the OS could be.
    def run(poison: bool) -> list[int]:
        model = build_random_llama("tiny", seed=0, initializer_range=0.5)
        engine = LLMEngine(model, tokenizer, EngineConfig(max_batch_size=4, kv_budget_tokens=256))
        if poison:
            for t in (*engine.pool.k, *engine.pool.v):
                t[NULL_BLOCK + 1 :] = float("nan")
        from inference import GenerationRequest, SamplingParams

        for i in range(3):
            engine.add_request(GenerationRequest([5 + i, 17, 3, 9, 11][: 3 + i], SamplingParams.greedy(12)))
        tokens: list[int] = []
        while engine.has_unfinished():
            for event in engine.step():
                tokens.extend(event.token_ids)
        return tokens

    assert run(poison=True) == run(poison=False)
