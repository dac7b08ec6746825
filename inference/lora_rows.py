"""LoRA for a batch whose rows pick adapters through a tensor, not through Python slices.

The eager forward groups tokens by adapter and adds each group's ``x @ A @ B`` on its slice
(measured fastest on CPU). A captured CUDA graph cannot follow slices that change every step, so
here every adapter's factors are concatenated along the rank: ``x @ [A_1 .. A_n]`` for all rows,
times a row x rank mask that keeps each row's own adapter's columns, then ``@ [B_1; ..; B_n]``.
Two small matmuls per projection whatever the mix, and only the adapters' factors are read (a
per-row gather of factors would read them once per row). The mask is computed on the device
from a per-row adapter index, so a step only copies that index in.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass

import torch

from inference.lora import LoraAdapter


@dataclass(frozen=True)
class StackedFactors:
    """One projection's factors of every stacked adapter: A [in, R], B [R, out], owner [R]."""

    a: torch.Tensor
    b: torch.Tensor
    owner: torch.Tensor  # stack index of the adapter each rank column belongs to


class LoraStack:
    """A fixed set of adapters, concatenated per (layer, projection)."""

    def __init__(self, adapters: Seq[LoraAdapter]) -> None:
        if len({a.uid for a in adapters}) != len(adapters):
            raise ValueError("each adapter may be stacked once")
        self.adapters = tuple(adapters)
        self.index = {a.uid: i for i, a in enumerate(self.adapters)}
        self.key = tuple(a.uid for a in self.adapters)
        keys = sorted({k for a in self.adapters for k in a.weights})
        self.factors: dict[tuple[int, str], StackedFactors] = {}
        owners: dict[tuple[int, ...], torch.Tensor] = {}  # one owner tensor per column pattern
        for key in keys:
            parts = [(i, a.weights[key]) for i, a in enumerate(self.adapters) if key in a.weights]
            pattern = tuple(i for i, (fa, _) in parts for _ in range(fa.shape[1]))
            a_cat = torch.cat([fa for _, (fa, _) in parts], dim=1)
            if pattern not in owners:
                owners[pattern] = torch.tensor(pattern, dtype=torch.long, device=a_cat.device)
            self.factors[key] = StackedFactors(
                a_cat, torch.cat([fb for _, (_, fb) in parts], dim=0), owners[pattern]
            )

    def covers(self, adapters: Seq[LoraAdapter | None]) -> bool:
        """Whether every adapter of a batch is in this stack."""
        return all(a is None or a.uid in self.index for a in adapters)

    def row_index(self, adapters: Seq[LoraAdapter | None]) -> list[int]:
        """Per row, the stack index of its adapter (-1: the base model)."""
        return [-1 if a is None else self.index[a.uid] for a in adapters]


class RowLora:
    """One step's LoRA deltas for rows whose adapter is ``rows[i]`` (a device tensor, -1 = none)."""

    def __init__(self, stack: LoraStack, rows: torch.Tensor, dtype: torch.dtype) -> None:
        self.stack = stack
        self._masks: dict[int, torch.Tensor] = {}
        for f in stack.factors.values():
            if id(f.owner) not in self._masks:
                self._masks[id(f.owner)] = (rows[:, None] == f.owner[None, :]).to(dtype)

    def add(self, layer: int, name: str, x: torch.Tensor, out: torch.Tensor) -> None:
        """out += each row's own adapter delta for this projection (nothing if none covers it)."""
        f = self.stack.factors.get((layer, name))
        if f is not None:
            out.addmm_((x @ f.a) * self._masks[id(f.owner)], f.b)


def grown_stack(stack: LoraStack | None, batch: Seq[LoraAdapter | None], limit: int = 8) -> LoraStack:
    """A stack covering ``batch``: the old one if it does, else the old adapters plus the new ones
    (only the batch's when that would pass ``limit``, so replaced adapters do not pile up)."""
    if stack is not None and stack.covers(batch):
        return stack
    new = {a.uid: a for a in batch if a is not None}
    old = [a for a in (stack.adapters if stack else ()) if a.uid not in new]
    keep = old + list(new.values())
    return LoraStack(keep if len(keep) <= limit else list(new.values()))
