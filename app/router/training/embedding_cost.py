"""What a classifier over the base model's hidden states would cost per message (load + forward).

Measured for the comparison table only: one forward pass already exceeds the router's 10 ms budget
on this CPU, so no such classifier is trained.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

PROBE_TEXTS = (
    "my voltbook wont turn on",
    "how much is cloudkeep family per month",
    "I want to talk to a human",
    "where is my order, it has been 6 days and tracking says nothing",
)


def embedding_cost(model_dir: Path, repeats: int = 10, threads: int = 1) -> dict[str, float]:
    """Load time and p50/p99 of tokenise + forward + mean-pool over PROBE_TEXTS."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    load_s = time.perf_counter() - start
    samples = []
    with torch.inference_mode():
        for _ in range(repeats):
            for text in PROBE_TEXTS:
                start = time.perf_counter()
                ids = tokenizer(text, return_tensors="pt")
                model.model(**ids).last_hidden_state.mean(dim=1)
                samples.append((time.perf_counter() - start) * 1000.0)
    arr = np.array(samples)
    return {
        "load_s": load_s,
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
    }
