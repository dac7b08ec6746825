"""Next-token selection as small pure tensor functions, with Hugging Face processor semantics.

Order (as ``generate`` applies them): repetition penalty, then for sampled rows temperature,
top-k, top-p, softmax and a multinomial draw from the row's own generator. Greedy rows take the
arg-max after the repetition penalty only. Rows never share randomness, so a seeded request
yields the same tokens whatever else is in the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from inference.params import SamplingParams


def apply_repetition_penalty(logits: torch.Tensor, history: Sequence[int], penalty: float) -> torch.Tensor:
    """Penalise tokens already in ``history`` (1-D logits): divide positive scores, multiply negative."""
    if penalty == 1.0 or len(history) == 0:
        return logits
    ids = torch.as_tensor(list(history), dtype=torch.long, device=logits.device)
    picked = logits.gather(-1, ids)
    picked = torch.where(picked < 0, picked * penalty, picked / penalty)
    return logits.scatter(-1, ids, picked)


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Divide by the temperature (1.0 is a no-op; greedy rows never get here)."""
    if temperature == 1.0:
        return logits
    return logits / temperature


def apply_top_k(logits: torch.Tensor, top_k: int) -> torch.Tensor:
    """Keep the ``top_k`` highest scores (ties at the threshold kept, as HF does); 0 turns it off."""
    if top_k <= 0 or top_k >= logits.shape[-1]:
        return logits
    threshold = torch.topk(logits, top_k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < threshold, float("-inf"))


def apply_top_p(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Nucleus filter: drop the low tail whose total probability is at most 1 - top_p; keep >= 1 token."""
    if top_p >= 1.0:
        return logits
    sorted_logits, sorted_idx = torch.sort(logits, descending=False, dim=-1)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove_sorted = cumulative <= (1 - top_p)
    remove_sorted[..., -1:] = False
    remove = remove_sorted.scatter(-1, sorted_idx, remove_sorted)
    return logits.masked_fill(remove, float("-inf"))


def make_generator(seed: int | None, device: torch.device | str = "cpu") -> torch.Generator | None:
    """A generator seeded for one request, or None (global RNG) when the request has no seed."""
    if seed is None:
        return None
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def sample_row(logits: torch.Tensor, params: SamplingParams, generator: torch.Generator | None) -> int:
    """Warp one row of (already penalised) logits and draw a token from it."""
    scores = apply_temperature(logits, params.temperature)
    scores = apply_top_k(scores, params.top_k)
    scores = apply_top_p(scores, params.top_p)
    probs = scores.softmax(dim=-1)
    return int(torch.multinomial(probs, 1, generator=generator).item())


def select_tokens(
    logits: torch.Tensor,
    params: Sequence[SamplingParams],
    generators: Sequence[torch.Generator | None],
    histories: Sequence[Sequence[int]],
) -> list[int]:
    """Pick one next token per row of ``logits`` [B, V] (history = prompt + generated ids)."""
    batch = logits.shape[0]
    if not len(params) == len(generators) == len(histories) == batch:
        raise ValueError(
            f"select_tokens: logits has {batch} rows but got {len(params)} params, "
            f"{len(generators)} generators and {len(histories)} histories"
        )
    chosen: list[int] = [0] * batch
    # Plain greedy rows are the common case in serving: one batched argmax, no per-row work.
    plain_greedy = [i for i, p in enumerate(params) if not p.do_sample and p.repetition_penalty == 1.0]
    if plain_greedy:
        rows = torch.as_tensor(plain_greedy, device=logits.device)
        for i, token in zip(plain_greedy, logits.index_select(0, rows).argmax(dim=-1).tolist(), strict=True):
            chosen[i] = int(token)
    plain = set(plain_greedy)
    for i, p in enumerate(params):
        if i in plain:
            continue
        row = apply_repetition_penalty(logits[i].float(), histories[i], p.repetition_penalty)
        chosen[i] = sample_row(row, p, generators[i]) if p.do_sample else int(row.argmax().item())
    return chosen
