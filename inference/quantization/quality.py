"""What quantization costs in quality: held-out perplexity and agreement of greedy replies."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F


@torch.inference_mode()
def perplexity(
    model: Any, tokenizer: Any, texts: list[str], max_len: int = 256, batch_size: int = 8
) -> float:
    """Token-weighted perplexity of ``texts`` (each truncated to ``max_len`` tokens)."""
    if not texts:
        raise ValueError("perplexity needs at least one text")
    total_nll, total_tokens = 0.0, 0
    side, tokenizer.padding_side = tokenizer.padding_side, "right"  # left pads would shift positions
    try:
        for i in range(0, len(texts), batch_size):
            batch = tokenizer(
                texts[i : i + batch_size], return_tensors="pt", padding=True, truncation=True,
                max_length=max_len,
            )
            ids, mask = batch["input_ids"], batch["attention_mask"]
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
            nll = F.cross_entropy(logits[:, :-1].transpose(1, 2), ids[:, 1:], reduction="none")
            total_nll += float(nll[mask[:, 1:].bool()].sum())
            total_tokens += int(mask[:, 1:].sum())
    finally:
        tokenizer.padding_side = side
    return math.exp(total_nll / total_tokens)


@torch.inference_mode()
def greedy_replies(
    model: Any, tokenizer: Any, prompts: list[str], max_new_tokens: int = 32
) -> list[list[int]]:
    """Greedy continuations (token ids) of each prompt, one prompt at a time so padding never matters."""
    replies = []
    for prompt in prompts:
        ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
        out = model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
            do_sample=False, pad_token_id=tokenizer.eos_token_id,
        )
        replies.append(out[0, ids.shape[1] :].tolist())
    return replies


def agreement(reference: list[list[int]], candidate: list[list[int]]) -> float:
    """Share of replies identical to the reference's, token for token."""
    if len(reference) != len(candidate) or not reference:
        raise ValueError("agreement needs two equally long, non-empty lists of replies")
    return sum(a == b for a, b in zip(reference, candidate, strict=True)) / len(reference)
