"""Bucketed decode attention over the paged cache equals one padded, masked attention."""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F

from inference.paged_attention import attend, build_layout, context_slots, plan_buckets

BS, HKV, GROUP, DIM = 4, 2, 3, 8


def test_buckets_cover_every_sequence_once_shortest_first() -> None:
    lengths = [30, 650, 31, 200, 640, 35, 210, 400]
    buckets = plan_buckets(lengths, slot_bytes=4, slack=1.3, max_bytes=1 << 30)
    assert sorted(i for b in buckets for i in b) == list(range(len(lengths)))
    flat = [lengths[i] for b in buckets for i in b]
    assert flat == sorted(lengths)
    for b in buckets:  # padding to the longest stays within the slack
        assert max(lengths[i] for i in b) * len(b) <= 1.3 * sum(lengths[i] for i in b)
    assert [sorted(lengths[i] for i in b) for b in buckets] == [[30, 31, 35], [200, 210], [400, 640, 650]]


def test_byte_cap_splits_equal_lengths() -> None:
    buckets = plan_buckets([100] * 6, slot_bytes=10, slack=2.0, max_bytes=2000)
    assert [len(b) for b in buckets] == [2, 2, 2]
    assert plan_buckets([], 10) == []
    with pytest.raises(ValueError, match="slack"):
        plan_buckets([1], 10, slack=0.5)


def _cache(seed: int, lengths: list[int], in_order: bool = False):
    rng = random.Random(seed)
    num_blocks = sum(-(-n // BS) for n in lengths) + 8
    blocks = list(range(1, num_blocks + 1))
    if not in_order:
        rng.shuffle(blocks)
    tables, used = [], 0
    for n in lengths:
        need = -(-n // BS)
        tables.append(blocks[used : used + need])
        used += need
    gen = torch.Generator().manual_seed(seed)
    kc = torch.randn((num_blocks + 1) * BS, HKV, DIM, generator=gen)
    vc = torch.randn((num_blocks + 1) * BS, HKV, DIM, generator=gen)
    return kc, vc, tables


def _padded_reference(q, kc, vc, lengths, tables) -> torch.Tensor:
    width = max(lengths)
    slots = context_slots(tables, width, BS, torch.device("cpu"))
    k = kc[slots].transpose(1, 2)  # [B, Hkv, W, D]
    v = vc[slots].transpose(1, 2)
    mask = (torch.arange(width)[None] < torch.tensor(lengths)[:, None])[:, None, None, :]
    out = F.scaled_dot_product_attention(q[:, :, None, :], k, v, attn_mask=mask, enable_gqa=True)
    return out[:, :, 0, :]


@pytest.mark.parametrize("lengths", [[37], [5, 5, 5], [3, 90, 17, 64, 65, 8, 33, 120, 1, 44]])
def test_bucketed_decode_equals_padded_attention(lengths: list[int]) -> None:
    kc, vc, tables = _cache(len(lengths), lengths)
    q = torch.randn(len(lengths), HKV * GROUP, DIM, generator=torch.Generator().manual_seed(9))
    rows = list(range(len(lengths)))[::-1]  # rows need not follow the sequences' order
    layout = build_layout(
        rows, lengths, tables, [], BS, slot_bytes=HKV * DIM * 4, device=torch.device("cpu")
    )
    out = attend(q[rows], q[rows], q[rows], kc, vc, layout, DIM**-0.5)
    ref = _padded_reference(q, kc, vc, lengths, tables)
    assert torch.allclose(out[rows], ref, atol=1e-5)
    if len(lengths) > 3:
        assert len(layout.decode) > 1  # several buckets were exercised
    if len(set(lengths)) == 1:
        assert layout.decode[0].mask is None  # nothing padded, nothing masked


@pytest.mark.parametrize("in_order", [True, False])
def test_lone_sequence_in_consecutive_blocks_reads_a_view(in_order: bool) -> None:
    lengths = [29]
    kc, vc, tables = _cache(4, lengths, in_order=in_order)
    q = torch.randn(1, HKV * GROUP, DIM, generator=torch.Generator().manual_seed(2))
    layout = build_layout([0], lengths, tables, [], BS, slot_bytes=HKV * DIM * 4, device=torch.device("cpu"))
    assert (layout.decode[0].first_slot is not None) == in_order
    out = attend(q, q, q, kc, vc, layout, DIM**-0.5)
    assert torch.allclose(out, _padded_reference(q, kc, vc, lengths, tables), atol=1e-5)
