"""Per-phase ceilings measured in the bench run: prefill against matmul peak, batch-1 decode
against memory bandwidth, with only the FLOPs and bytes the engine actually computes and reads.

Prefill is compute-bound: its FLOPs are the decoder's linear layers for every prompt token, the
adapter's factors, causal attention over the valid context, and lm_head for the one sampled row.
Batch-1 decode is bandwidth-bound: each step reads every weight once (lm_head included), the
adapter's factors and the request's K/V so far.
"""

from __future__ import annotations

import time
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from typing import Any

import torch

from inference.bench.trace import TraceRequest


@dataclass(frozen=True)
class ModelCost:
    """What one token costs the engine: linear FLOPs, lm_head FLOPs, attention dims, bytes."""

    layer_flops: float  # 2 x decoder-layer linear parameters (embedding and lm_head excluded)
    head_flops: float  # 2 x hidden x vocab: only for rows whose logits are sampled
    attn_width: int  # layers x heads x head_dim: attention costs 4 x this per (query, key) pair
    weight_bytes: int  # every parameter once (tied embedding/lm_head once)
    kv_bytes_per_token: int
    lora_flops: dict[str, float]  # adapter name -> 2 x its factor elements (per token)
    lora_bytes: dict[str, int]

    def request_flops(self, prompt: int, output: int, adapter: str | None) -> tuple[float, float]:
        """(prefill, decode) FLOPs the engine computes for one request of ``output`` tokens."""
        per_token = self.layer_flops + self.lora_flops.get(adapter or "", 0.0)
        # Query at position p attends to p+1 keys; prefill feeds 0..prompt-1, decode prompt..+output-2.
        prefill_pairs = prompt * (prompt + 1) / 2
        decode_tokens = max(0, output - 1)
        decode_pairs = sum(range(prompt + 1, prompt + decode_tokens + 1))
        prefill = prompt * per_token + 4 * self.attn_width * prefill_pairs + self.head_flops
        decode = decode_tokens * (per_token + self.head_flops) + 4 * self.attn_width * decode_pairs
        return prefill, decode

    def decode_step_bytes(self, context: int, adapter: str | None) -> int:
        """Bytes one batch-1 decode step must read at ``context`` tokens of K/V."""
        return self.weight_bytes + self.lora_bytes.get(adapter or "", 0) + context * self.kv_bytes_per_token


def model_cost(model: Any, adapters: dict[str, Any], kv_bytes_per_token: int) -> ModelCost:
    """The cost model of ``model`` with the engine's loaded adapters (name -> LoraAdapter)."""
    cfg = model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    layers = sum(p.numel() for p in model.model.layers.parameters() if p.dim() == 2)
    seen: set[int] = set()
    weight_bytes = 0
    for p in model.parameters():
        if p.data_ptr() not in seen:
            seen.add(p.data_ptr())
            weight_bytes += p.numel() * p.element_size()
    lora_elems = {n: sum(a.numel() + b.numel() for a, b in ad.weights.values()) for n, ad in adapters.items()}
    elem = model.model.embed_tokens.weight.element_size()
    return ModelCost(
        layer_flops=2.0 * layers,
        head_flops=2.0 * cfg.hidden_size * cfg.vocab_size,
        attn_width=cfg.num_hidden_layers * cfg.num_attention_heads * head_dim,
        weight_bytes=weight_bytes,
        kv_bytes_per_token=kv_bytes_per_token,
        lora_flops={n: 2.0 * e for n, e in lora_elems.items()},
        lora_bytes={n: e * elem for n, e in lora_elems.items()},
    )


def measure_bandwidth(megabytes: int = 512, repeats: int = 5, device: torch.device | str = "cpu") -> float:
    """Best read bandwidth (bytes/s) of ``device``'s memory: a sum over a buffer far past cache."""
    device = torch.device(device)
    x = torch.ones(megabytes * (1 << 20) // 4, dtype=torch.float32, device=device)
    x.sum()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        float(x.sum())  # reading the result waits for the device
        best = min(best, time.perf_counter() - start)
    return x.numel() * 4 / best


def prefill_phase(engine: Any, trace: Seq[TraceRequest], cost: ModelCost) -> dict[str, float]:
    """All prompts at once with one output token each: computed prefill FLOPs per second."""
    flops = sum(cost.request_flops(len(r.prompt_ids), 1, r.adapter)[0] for r in trace)
    seconds = _run_all(engine, [(r, 1) for r in trace], "pf")
    return {"requests": len(trace), "prompt_tokens": sum(len(r.prompt_ids) for r in trace),
            "seconds": seconds, "flops_per_s": flops / seconds}


def decode_phase(engine: Any, request: TraceRequest, tokens: int, cost: ModelCost) -> dict[str, float]:
    """One request alone decoding ``tokens`` tokens after its prefill: bytes read per second."""
    from inference.params import SamplingParams
    from inference.request import GenerationRequest

    params = SamplingParams.greedy(max_new_tokens=tokens + 1, ignore_eos=True)
    engine.add_request(
        GenerationRequest(request.prompt_ids, params, adapter=request.adapter, request_id="dc")
    )
    engine.step()  # the prefill (and first token) is not part of the decode phase
    prompt = len(request.prompt_ids)
    start = time.perf_counter()
    while engine.has_unfinished():
        engine.step()
    seconds = time.perf_counter() - start
    read = sum(cost.decode_step_bytes(prompt + i + 1, request.adapter) for i in range(tokens))
    return {"tokens": tokens, "context": prompt, "seconds": seconds, "step_ms": 1e3 * seconds / tokens,
            "bytes_per_s": read / seconds}


def _run_all(engine: Any, work: Seq[tuple[TraceRequest, int]], tag: str) -> float:
    from inference.params import SamplingParams
    from inference.request import GenerationRequest

    start = time.perf_counter()
    for r, n in work:
        params = SamplingParams.greedy(max_new_tokens=n, ignore_eos=True)
        request = GenerationRequest(r.prompt_ids, params, adapter=r.adapter, request_id=f"{tag}{r.index}")
        engine.add_request(request)
    while engine.has_unfinished():
        engine.step()
    return time.perf_counter() - start
