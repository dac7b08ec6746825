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


# Nucleus filtering looks at the best this many tokens first: sorting all 49k scores of a row
# cost ~4 ms on one core, more than the draw and often more than the row's share of the forward.
TOP_P_CANDIDATES = 1024


def apply_top_p(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Nucleus filter: drop the low tail whose total probability is at most 1 - top_p; keep >= 1 token.

    A token stays when the probability of the tokens ranked above it is below ``top_p`` (the
    same rule as HF's ascending cumulative sum <= 1 - top_p). When the nucleus closes inside the
    best ``TOP_P_CANDIDATES`` scores (the usual case) only those are sorted; a flat row whose
    nucleus is wider falls back to sorting the whole row.
    """
    if top_p >= 1.0:
        return logits
    width = logits.shape[-1]
    if logits.dim() == 1 and width > TOP_P_CANDIDATES:
        top = torch.topk(logits, TOP_P_CANDIDATES)  # sorted, best first
        probs = (top.values - logits.logsumexp(dim=-1)).exp()
        above = probs.cumsum(dim=-1) - probs  # mass of the tokens ranked above each
        if bool(above[-1] >= top_p):  # the last candidate is already out: the nucleus is inside
            kept = top.indices[above < top_p]
            return torch.full_like(logits, float("-inf")).index_copy_(-1, kept, logits[kept])
    return top_p_full_sort(logits, top_p)


def top_p_full_sort(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """HF's nucleus filter over the whole row: ascending sort, cumulative sum, drop <= 1 - top_p."""
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
    if generator is None and (params.top_k > 0 or params.top_p < 1.0):
        # Unseeded: draw among the kept tokens only (same distribution; a draw over the whole
        # vocabulary costs ~1 ms a row). Seeded rows keep HF's exact random stream.
        kept = (probs > 0).nonzero().squeeze(-1)
        return int(kept[torch.multinomial(probs[kept], 1)].item())
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
