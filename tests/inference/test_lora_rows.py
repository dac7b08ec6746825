"""Stacked per-row LoRA equals the per-slice LoRA of the eager forward."""

from __future__ import annotations

import torch

from inference.lora import LoraAdapter
from inference.lora_rows import LoraStack, RowLora, grown_stack
from inference.model_runner import SegmentLora


def _adapter(uid: int, rank: int, keys: list[tuple[int, str]], seed: int) -> LoraAdapter:
    gen = torch.Generator().manual_seed(seed)
    weights = {k: (torch.randn(6, rank, generator=gen), torch.randn(rank, 5, generator=gen)) for k in keys}
    return LoraAdapter(name=f"a{uid}", uid=uid, rank=rank, weights=weights)


def test_row_lora_equals_segment_lora() -> None:
    a = _adapter(101, 2, [(0, "q_proj"), (1, "q_proj")], seed=1)
    b = _adapter(102, 4, [(0, "q_proj")], seed=2)  # another rank, one projection only
    stack = LoraStack([a, b])
    x = torch.randn(6, 6)
    order = [a, a, None, b, b, b]  # grouped the way the eager forward groups rows
    rows = torch.tensor(stack.row_index(order))
    assert rows.tolist() == [0, 0, -1, 1, 1, 1]
    for layer in (0, 1):
        seg_out, row_out = torch.zeros(6, 5), torch.zeros(6, 5)
        SegmentLora([(a, 0, 2), (b, 3, 6)]).add(layer, "q_proj", x, seg_out)
        RowLora(stack, rows, torch.float32).add(layer, "q_proj", x, row_out)
        assert torch.allclose(seg_out, row_out, atol=1e-5)
        assert row_out[2].abs().sum() == 0  # the base-model row gets no delta
    untouched = torch.zeros(6, 5)
    RowLora(stack, rows, torch.float32).add(0, "v_proj", x, untouched)
    assert untouched.abs().sum() == 0


def test_grown_stack_keeps_covering_stacks_and_caps_growth() -> None:
    a, b = _adapter(201, 2, [(0, "q_proj")], 1), _adapter(202, 2, [(0, "q_proj")], 2)
    first = grown_stack(None, [a, None])
    assert first.key == (201,)
    assert grown_stack(first, [a]) is first  # covered: captured graphs stay valid
    both = grown_stack(first, [b])
    assert both.key == (201, 202)
    many = [_adapter(300 + i, 1, [(0, "q_proj")], i) for i in range(3)]
    capped = grown_stack(both, many, limit=4)
    assert capped.key == (300, 301, 302)  # 5 would pass the limit: only the batch's are kept
