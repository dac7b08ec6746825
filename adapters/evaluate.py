"""Held-out loss of the base model and every adapter on every domain, plus greedy sample replies."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from adapters.encoding import collate, encode, prompt_messages, token_losses
from adapters.examples import ChatExample, read_jsonl
from adapters.intents import INTENTS
from adapters.registry import AdapterSpec

BASE = "base"


@dataclass(frozen=True)
class LossResult:
    """Mean per-token loss over the assistant tokens of a set, and its perplexity."""

    loss: float
    tokens: int
    examples: int

    @property
    def perplexity(self) -> float:
        """exp(loss)."""
        return math.exp(self.loss)


@torch.no_grad()
def heldout_loss(
    model: Any, tokenizer: Any, examples: list[ChatExample], batch_size: int = 8, max_len: int = 256
) -> LossResult:
    """Token-weighted mean cross-entropy of the replies (system and user tokens excluded)."""
    if not examples:
        raise ValueError("examples must not be empty")
    device = next(model.parameters()).device
    encoded = sorted((encode(tokenizer, e, max_len) for e in examples), key=lambda e: len(e.input_ids))
    total, tokens = 0.0, 0
    for i in range(0, len(encoded), batch_size):
        batch = {
            k: v.to(device) for k, v in collate(encoded[i : i + batch_size], tokenizer.pad_token_id).items()
        }
        loss, n = token_losses(model, batch)
        total, tokens = total + float(loss), tokens + n
    return LossResult(total / max(1, tokens), tokens, len(examples))


def spread(examples: list[ChatExample], limit: int) -> list[ChatExample]:
    """At most ``limit`` examples evenly spaced over the file (files are grouped by source and topic)."""
    if limit <= 0 or len(examples) <= limit:
        return examples
    step = len(examples) / limit
    return [examples[int(i * step)] for i in range(limit)]


@contextmanager
def use_adapter(model: Any, name: str) -> Iterator[None]:
    """Run the PEFT model as ``name``, or as the plain base model for BASE."""
    if name == BASE:
        with model.disable_adapter():
            yield
    else:
        model.set_adapter(name)
        with nullcontext():
            yield


def load_with_adapters(base_dir: Path, specs: dict[str, AdapterSpec]) -> tuple[Any, Any]:
    """The base model with every adapter attached by name (PeftModel.from_pretrained + load_adapter)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not specs:
        raise ValueError("no adapters to evaluate")
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    base = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
    names = list(specs)
    model = PeftModel.from_pretrained(base, str(specs[names[0]].path), adapter_name=names[0])
    for name in names[1:]:
        model.load_adapter(str(specs[name].path), adapter_name=name)
    return model.eval(), tokenizer


def evaluate(
    base_dir: Path,
    specs: dict[str, AdapterSpec],
    data_dir: Path,
    limit: int = 80,
    batch_size: int = 8,
    max_len: int = 256,
) -> dict[str, Any]:
    """Loss table {model: {domain: LossResult}} plus each adapter's reduction on its own domain."""
    model, tokenizer = load_with_adapters(base_dir, specs)
    domains = [d for d in INTENTS if (data_dir / d / "heldout.jsonl").is_file()]
    sets = {d: spread(read_jsonl(data_dir / d / "heldout.jsonl"), limit) for d in domains}
    table: dict[str, dict[str, LossResult]] = {}
    for name in [BASE, *specs]:
        with use_adapter(model, name):
            table[name] = {d: heldout_loss(model, tokenizer, sets[d], batch_size, max_len) for d in domains}
    reductions = {
        name: 1.0 - table[name][name].loss / table[BASE][name].loss for name in specs if name in domains
    }
    return {
        "table": table,
        "reductions": reductions,
        "domains": domains,
        "limit": limit,
        "model": model,
        "tokenizer": tokenizer,
        "sets": sets,
    }


@torch.no_grad()
def sample_replies(
    model: Any, tokenizer: Any, examples: list[ChatExample], adapter: str, max_new_tokens: int = 60
) -> list[str]:
    """Greedy replies of the base (adapter=BASE) or an adapter to each example's prompt."""
    out = []
    device = next(model.parameters()).device
    for ex in examples:
        ids = tokenizer.apply_chat_template(
            prompt_messages(ex), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )["input_ids"].to(device)
        with use_adapter(model, adapter):
            gen = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )
        out.append(tokenizer.decode(gen[0, ids.shape[1] :], skip_special_tokens=True).strip())
    return out


def render_markdown(result: dict[str, Any]) -> str:
    """The loss/perplexity table as markdown (rows: models, columns: held-out domains)."""
    domains, table = result["domains"], result["table"]
    head = "| model | " + " | ".join(f"{d} loss (ppl)" for d in domains) + " |"
    lines = [head, "|" + " --- |" * (len(domains) + 1)]
    for name, row in table.items():
        cells = [f"{row[d].loss:.3f} ({row[d].perplexity:.1f})" for d in domains]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"Held-out examples per domain: at most {result['limit'] or 'all'}; loss on assistant tokens only."
    )
    for name, r in result["reductions"].items():
        lines.append(f"- `{name}` lowers its own domain's loss by {100 * r:.1f}% vs the base model")
    return "\n".join(lines) + "\n"


def write_report(result: dict[str, Any], out_dir: Path, samples: list[dict[str, str]] | None = None) -> None:
    """adapters/eval/heldout_loss.{md,json} (and samples.json when given)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "limit": result["limit"],
        "table": {
            m: {
                d: {"loss": r.loss, "perplexity": r.perplexity, "tokens": r.tokens, "examples": r.examples}
                for d, r in row.items()
            }
            for m, row in result["table"].items()
        },
        "reductions": result["reductions"],
    }
    (out_dir / "heldout_loss.json").write_text(json.dumps(payload, indent=2) + "\n")
    (out_dir / "heldout_loss.md").write_text(render_markdown(result))
    if samples is not None:
        (out_dir / "samples.json").write_text(json.dumps(samples, indent=2, ensure_ascii=False) + "\n")
