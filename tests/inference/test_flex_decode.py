"""Paged flex_attention decode equals one padded, masked SDPA over the gathered contexts."""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F

from inference.flex_decode import FlexDecoder, pad_tables, physical_to_logical
from inference.kv_cache import NULL_BLOCK
from inference.paged_attention import context_slots

BS, HKV, DIM = 4, 2, 8


def test_pad_tables_cuts_to_the_context_and_adds_dummy_rows() -> None:
    tables, counts, lengths = pad_tables([[5, 2, 7], [3]], [6, 4], rows=3, max_blocks=4, block_size=4)
    assert tables == [[5, 2, 0, 0], [3, 0, 0, 0], [0, 0, 0, 0]]  # block 7 is past the context
    assert counts == [2, 1, 1]
    assert lengths == [6, 4, 1]  # the dummy row: one token on the null block
    with pytest.raises(ValueError, match="blocks"):
        pad_tables([[5]], [5], rows=1, max_blocks=4, block_size=4)  # 5 tokens need 2 blocks
    with pytest.raises(ValueError, match="rows"):
        pad_tables([[5], [6]], [1, 1], rows=1, max_blocks=4, block_size=4)


def test_physical_to_logical_inverts_each_table() -> None:
    tables = torch.tensor([[5, 2, 0, 0], [3, 0, 0, 0]], dtype=torch.int32)
    p2l = physical_to_logical(tables, torch.tensor([2, 1], dtype=torch.int32), num_pool_blocks=8)
    assert p2l.shape == (2, 9)
    assert p2l[0].tolist() == [-1, -1, 1, -1, -1, 0, -1, -1, -1]
    # Padding entries (block 0 past the count) map nothing: the null block stays nobody's.
    assert p2l[1].tolist() == [-1, -1, -1, 0, -1, -1, -1, -1, -1]


def _case(seed: int, lengths: list[int], group: int):
    rng = random.Random(seed)
    num_blocks = sum(-(-n // BS) for n in lengths) + 6
    blocks = list(range(1, num_blocks + 1))
    rng.shuffle(blocks)
    tables, used = [], 0
    for n in lengths:
        need = -(-n // BS) + rng.randint(0, 1)  # tables may hold a block past the context
        tables.append(blocks[used : used + need])
        used += need
    gen = torch.Generator().manual_seed(seed)
    kc = torch.randn((num_blocks + 1) * BS, HKV, DIM, generator=gen)
    vc = torch.randn((num_blocks + 1) * BS, HKV, DIM, generator=gen)
    kc[:BS], vc[:BS] = 0, 0  # the null block is zeros
    q = torch.randn(len(lengths), HKV * group, DIM, generator=gen)
    return kc, vc, tables, q, num_blocks + 1


def _reference(q, kc, vc, lengths, tables) -> torch.Tensor:
    width = max(lengths)
    slots = context_slots(tables, width, BS, torch.device("cpu"))
    k, v = kc[slots].transpose(1, 2), vc[slots].transpose(1, 2)
    mask = (torch.arange(width)[None] < torch.tensor(lengths)[:, None])[:, None, None, :]
    return F.scaled_dot_product_attention(q[:, :, None, :], k, v, attn_mask=mask, enable_gqa=True)[:, :, 0, :]


@pytest.mark.parametrize("group", [1, 3, 4])  # SmolLM2's GQA group is 3, not a power of two
@pytest.mark.parametrize("lengths", [[37], [3, 90, 17, 64, 65, 8, 33, 120, 1, 44]])
def test_flex_decode_equals_padded_attention(lengths: list[int], group: int) -> None:
    kc, vc, tables, q, pool_blocks = _case(len(lengths) + group, lengths, group)
    decoder = FlexDecoder(group, pool_blocks, BS, max_blocks=40, device=torch.device("cpu"), compiled=False)
    rows = 16
    buf = decoder.load(rows, tables, lengths)
    padded = torch.zeros(rows, HKV * group, DIM)
    padded[: len(lengths)] = q
    out = decoder.attend(padded, kc, vc, buf, DIM**-0.5)
    assert torch.allclose(out[: len(lengths)], _reference(q, kc, vc, lengths, tables), atol=1e-5)
    assert out[len(lengths) :].abs().max() == 0  # dummy rows read the zero null block
    assert torch.isfinite(out).all()


def test_reloading_a_bucket_forgets_the_last_step() -> None:
    lengths = [9, 30]
    kc, vc, tables, q, pool_blocks = _case(3, lengths, 2)
    decoder = FlexDecoder(2, pool_blocks, BS, max_blocks=20, device=torch.device("cpu"), compiled=False)
    decoder.load(2, [tables[1], tables[0]], [30, 9])
    buf = decoder.load(2, tables, lengths)  # same buffers, new contents
    assert decoder.buffers_in_use() == (2,)
    out = decoder.attend(q, kc, vc, buf, DIM**-0.5)
    assert torch.allclose(out, _reference(q, kc, vc, lengths, tables), atol=1e-5)
    assert int(buf.p2l[0, NULL_BLOCK]) == -1


def _poison_unused_blocks(kc, vc, tables) -> None:
    used = {b for t in tables for b in t} | {NULL_BLOCK}
    for block in range(kc.shape[0] // BS):
        if block not in used:  # a block nobody holds may keep a previous owner's NaN
            kc[block * BS : (block + 1) * BS] = float("nan")
            vc[block * BS : (block + 1) * BS] = float("inf")


def test_stale_nan_in_other_blocks_never_reaches_a_row() -> None:
    lengths = [6, 21]
    kc, vc, tables, q, pool_blocks = _case(5, lengths, 2)
    ref = _reference(q, kc, vc, lengths, tables)
    _poison_unused_blocks(kc, vc, tables)
    decoder = FlexDecoder(2, pool_blocks, BS, max_blocks=20, device=torch.device("cpu"), compiled=False)
    out = decoder.attend(q, kc, vc, decoder.load(2, tables, lengths), DIM**-0.5)
    assert torch.allclose(out, ref, atol=1e-5)


@pytest.mark.slow
def test_compiled_flex_on_cpu_matches_eager() -> None:
    """torch.compile builds the fused kernel through inductor's CPU backend (20-60 s here)."""
    lengths = [5, 70, 33]
    kc, vc, tables, q, pool_blocks = _case(11, lengths, 3)
    _poison_unused_blocks(kc, vc, tables)  # the fused kernel never reads them at all
    eager = FlexDecoder(3, pool_blocks, BS, max_blocks=20, device=torch.device("cpu"), compiled=False)
    fused = FlexDecoder(3, pool_blocks, BS, max_blocks=20, device=torch.device("cpu"), compiled=True)
    padded = torch.zeros(4, HKV * 3, DIM)
    padded[:3] = q
    a = eager.attend(padded, kc, vc, eager.load(4, tables, lengths), DIM**-0.5)
    b = fused.attend(padded, kc, vc, fused.load(4, tables, lengths), DIM**-0.5)
    assert torch.allclose(a, b, atol=1e-5)
