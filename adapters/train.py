"""LoRA training of one intent adapter over the shared base model (PEFT format out)."""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from adapters.encoding import Encoded, collate, encode, token_losses
from adapters.examples import DATA_DIR, SYSTEM_PROMPTS, read_jsonl
from adapters.intents import check_intent

ALL_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class TrainError(RuntimeError):
    """Training cannot start as configured (bad path, no CUDA for --qlora, no data)."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides an adapter's weights; validated so bad values fail before loading."""

    intent: str
    base: Path
    out: Path
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ALL_PROJECTIONS
    epochs: int = 1
    max_steps: int = 0  # 0 = run the epochs to the end
    lr: float = 5e-4
    batch_size: int = 4
    max_len: int = 256
    seed: int = 0
    qlora: bool = False
    data_dir: Path = DATA_DIR
    limit: int = 0  # 0 = all training examples
    # LoRA only on layers first_layer.. (0 = all): no gradient flows below it, so a step costs less.
    first_layer: int = 0
    bf16: bool = False  # bf16 autocast (CPU AVX-512-BF16 or CUDA); weights and optimizer stay fp32
    threads: int = 0  # torch threads (0 = torch's default)
    init_from: Path | None = None  # continue training this PEFT adapter instead of a fresh LoRA
    train_file: Path | None = None  # train on this JSONL instead of <data_dir>/<intent>/train.jsonl
    # Stop (and save) after this many minutes of training even before max_steps: a shared CPU's
    # step time is not known in advance. 0 = no limit.
    max_minutes: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_intent(self.intent)
        for name in ("rank", "alpha", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)}")
        if self.max_minutes < 0:
            raise ValueError(f"max_minutes must be >= 0; got {self.max_minutes}")
        if self.max_steps < 0 or self.limit < 0 or self.first_layer < 0 or self.threads < 0:
            raise ValueError("max_steps, limit, first_layer and threads must be >= 0")
        if not 0.0 < self.lr < 1.0:
            raise ValueError(f"lr must be in (0, 1); got {self.lr}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {self.dropout}")
        if not 16 <= self.max_len <= 4096:
            raise ValueError(f"max_len must be in 16..4096; got {self.max_len}")
        unknown = set(self.target_modules) - set(ALL_PROJECTIONS)
        if not self.target_modules or unknown:
            raise ValueError(f"target_modules must be a non-empty subset of {','.join(ALL_PROJECTIONS)}")


def load_base(config: TrainConfig) -> tuple[Any, Any, torch.device]:
    """Base model + tokenizer; 4-bit NF4 through bitsandbytes when --qlora (CUDA only)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from inference.loading.loader import ModelLoadError, check_model_dir

    try:
        check_model_dir(config.base)
    except ModelLoadError as exc:
        raise TrainError(str(exc)) from exc
    tokenizer = AutoTokenizer.from_pretrained(str(config.base))
    if config.qlora:
        if not torch.cuda.is_available():
            raise TrainError("--qlora needs a CUDA GPU (bitsandbytes NF4); train without --qlora on CPU")
        from peft import prepare_model_for_kbit_training
        from transformers import BitsAndBytesConfig

        quant = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
        )
        model = AutoModelForCausalLM.from_pretrained(
            str(config.base), quantization_config=quant, device_map={"": 0}
        )
        return prepare_model_for_kbit_training(model), tokenizer, torch.device("cuda")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    full: Any = AutoModelForCausalLM.from_pretrained(str(config.base), dtype=torch.float32)
    return full.to(device), tokenizer, device


def attach_lora(model: Any, config: TrainConfig) -> Any:
    """Wrap the base in a PEFT LoRA model (fresh, or ``init_from``); only the adapter weights train."""
    from peft import LoraConfig, PeftModel, get_peft_model

    if config.init_from is not None:
        if not (config.init_from / "adapter_config.json").is_file():
            raise TrainError(f"--init-from {config.init_from} is not a PEFT adapter folder")
        return PeftModel.from_pretrained(model, str(config.init_from), is_trainable=True)
    n_layers = model.config.num_hidden_layers
    if config.first_layer >= n_layers:
        raise TrainError(f"first_layer must be below the model's {n_layers} layers")
    layers = list(range(config.first_layer, n_layers)) if config.first_layer else None
    lora = LoraConfig(
        layers_to_transform=layers,
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def load_training_set(config: TrainConfig, tokenizer: Any) -> list[Encoded]:
    """Encoded training examples of the intent (never the held-out file)."""
    examples = read_jsonl(config.train_file or config.data_dir / config.intent / "train.jsonl")
    if config.limit:
        examples = examples[: config.limit]
    if not examples:
        raise TrainError(f"no training examples for {config.intent} in {config.data_dir}")
    return [encode(tokenizer, e, config.max_len) for e in examples]


BUCKET_BATCHES = 8  # batches formed together from examples of similar length (less padding)


def batches(data: list[Encoded], config: TrainConfig, epoch: int) -> list[list[Encoded]]:
    """Seeded shuffle per epoch; within each run of BUCKET_BATCHES batches, similar lengths go together."""
    rng = random.Random(config.seed * 1000 + epoch)
    order = list(range(len(data)))
    rng.shuffle(order)
    chunk = config.batch_size * BUCKET_BATCHES
    out: list[list[Encoded]] = []
    for c in range(0, len(order), chunk):
        part = sorted(order[c : c + chunk], key=lambda i: len(data[i].input_ids))
        group = [part[j : j + config.batch_size] for j in range(0, len(part), config.batch_size)]
        rng.shuffle(group)
        out.extend([data[i] for i in b] for b in group)
    return out


def lr_factor(step: int, total: int, warmup: int, time_done: float = 0.0) -> float:
    """Linear warm-up then linear decay to 0, stable on tiny batches.

    The decay follows whichever is further along, the steps or the ``--max-minutes`` budget
    (``time_done``, 0..1), so a run stopped by the clock still ends at a low learning rate instead
    of being cut off at its peak.
    """
    done = max(step / max(1, total), time_done)
    tail = 1.0 - warmup / max(1, total)
    return min((step + 1) / warmup, max(0.0, (1.0 - done) / max(1e-9, tail)))


def train(config: TrainConfig, progress: bool = True) -> dict[str, Any]:
    """Train, save a PEFT adapter dir plus switchboard.json; returns the run summary."""
    from tqdm import tqdm

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    model, tokenizer, device = load_base(config)
    model = attach_lora(model, config)
    data = load_training_set(config, tokenizer)
    per_epoch = -(-len(data) // config.batch_size)
    total = config.max_steps or per_epoch * config.epochs
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    warmup = max(1, total // 10)
    started = time.perf_counter()

    def time_done() -> float:
        return (time.perf_counter() - started) / (60 * config.max_minutes) if config.max_minutes else 0.0

    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, total, warmup, time_done())
    )
    model.train()
    step, losses = 0, []
    out_of_time = False
    bar = tqdm(total=total, desc=f"train {config.intent}", disable=not progress)
    for epoch in range(config.epochs if not config.max_steps else 10**9):
        for batch in batches(data, config, epoch):
            tensors = {k: v.to(device) for k, v in collate(batch, tokenizer.pad_token_id).items()}
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.bf16):
                loss_sum, n_tokens = token_losses(model, tensors)
            loss = loss_sum / max(1, n_tokens)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{sum(losses[-20:]) / len(losses[-20:]):.3f}")
            out_of_time = bool(config.max_minutes) and time.perf_counter() - started > 60 * config.max_minutes
            if step >= total or out_of_time:
                break
        if step >= total or out_of_time:
            break
    bar.close()
    elapsed = time.perf_counter() - started
    summary = {
        "intent": config.intent,
        "system_prompt": SYSTEM_PROMPTS[config.intent],
        "base_model": str(config.base),
        "steps": step,
        "planned_steps": total,
        "train_examples": len(data),
        "final_loss": sum(losses[-20:]) / max(1, len(losses[-20:])),
        "first_loss": sum(losses[:20]) / max(1, len(losses[:20])),
        "train_seconds": round(elapsed, 1),
        "seconds_per_step": round(elapsed / max(1, step), 2),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
    }
    if config.init_from is not None and (config.init_from / "switchboard.json").is_file():
        # The run this one continued: its steps, losses and config stay on record.
        summary["init"] = json.loads((config.init_from / "switchboard.json").read_text())
    save_adapter(model, config.out, summary)
    return summary


def save_adapter(model: Any, out: Path, summary: dict[str, Any]) -> None:
    """Write the PEFT dir with fp16 adapter weights (half the size) and the switchboard metadata."""
    out.mkdir(parents=True, exist_ok=True)
    for name, p in model.named_parameters():
        if "lora_" in name:
            p.data = p.data.to(torch.float16)
    model.save_pretrained(str(out))
    # PEFT writes an empty model-card template; the adapters' README is adapters/README.md.
    (out / "README.md").unlink(missing_ok=True)
    (out / "switchboard.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "system_prompt.txt").write_text(summary["system_prompt"] + "\n")
