"""`switchboard adapters ...`: build the chat data, train one adapter, evaluate all of them."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from adapters.examples import DATA_DIR
from adapters.intents import INTENTS

adapters_app = typer.Typer(
    help="Build data for, train and evaluate the intent LoRA adapters.", no_args_is_help=True
)
ADAPTERS_DIR = Path(__file__).resolve().parent


def _fail(message: str) -> NoReturn:
    """One red line on stderr, exit 1: expected failures never show a traceback."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _base(ctx: typer.Context, base: Path | None) -> Path:
    """--base, else the model folder the `switchboard` command serves (it passes it down in ctx.obj)."""
    if base is not None:
        return base
    served = ctx.obj.get("model_dir") if isinstance(ctx.obj, dict) else None
    if served is None:
        _fail("--base is required: the base model folder")
    return Path(served)


@adapters_app.command("build-data")
def build_data(
    source: Path = typer.Option(Path("/work/shared/data"), help="Folder with the public data sets."),
    out: Path = typer.Option(DATA_DIR, help="Where the per-intent JSONL files go."),
    heldout: float = typer.Option(0.2, help="Fraction of groups (templates, source rows) held out."),
    seed: int = typer.Option(0),
    legacy: bool = typer.Option(False, help="The older ungrounded sets (Bitext + templates) instead."),
) -> None:
    """Write <out>/<intent>/{train,heldout}.jsonl (grounded, from the knowledge seed) + mixed/train.jsonl."""
    from adapters.data import build_all

    try:
        splits = build_all(out, source, heldout, seed, legacy)
    except ValueError as exc:
        _fail(str(exc))
    for intent, s in splits.items():
        typer.echo(f"{intent}: {len(s.train)} train, {len(s.heldout)} held-out")


@adapters_app.command("train")
def train_cmd(
    ctx: typer.Context,
    intent: str = typer.Option(..., help=f"One of {', '.join(INTENTS)}."),
    rank: int = typer.Option(16),
    alpha: int = typer.Option(32),
    target_modules: str = typer.Option("q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"),
    epochs: int = typer.Option(1),
    max_steps: int = typer.Option(0, help="Stop after this many steps (0 = full epochs)."),
    lr: float = typer.Option(5e-4),
    batch_size: int = typer.Option(4),
    max_len: int = typer.Option(256),
    dropout: float = typer.Option(0.05),
    seed: int = typer.Option(0),
    limit: int = typer.Option(0, help="Use only the first N training examples (0 = all)."),
    base: Path = typer.Option(None, help="Base model folder (default: the model `switchboard` serves)."),
    data_dir: Path = typer.Option(DATA_DIR),
    out: Path = typer.Option(None, help="Output dir (default: adapters/<intent>)."),
    qlora: bool = typer.Option(False, help="Train on a 4-bit NF4 base (CUDA + bitsandbytes only)."),
    first_layer: int = typer.Option(0, help="LoRA only on layers from this one up (0 = all layers)."),
    bf16: bool = typer.Option(False, help="bf16 autocast (CPU with AVX-512-BF16, or CUDA)."),
    threads: int = typer.Option(0, help="torch threads (0 = torch's default)."),
    init_from: Path = typer.Option(None, help="Continue training this PEFT adapter folder."),
    train_file: Path = typer.Option(
        None, help="Train on this JSONL instead of <data-dir>/<intent>/train.jsonl."
    ),
    max_minutes: float = typer.Option(0.0, help="Stop and save after this many minutes (0 = no limit)."),
) -> None:
    """Train one LoRA adapter; writes a PEFT dir plus switchboard.json and system_prompt.txt."""
    from adapters.train import TrainConfig, TrainError, train

    try:
        config = TrainConfig(
            intent=intent,
            base=_base(ctx, base),
            out=out or ADAPTERS_DIR / intent,
            rank=rank,
            alpha=alpha,
            dropout=dropout,
            target_modules=tuple(m.strip() for m in target_modules.split(",") if m.strip()),
            epochs=epochs,
            max_steps=max_steps,
            lr=lr,
            batch_size=batch_size,
            max_len=max_len,
            seed=seed,
            qlora=qlora,
            data_dir=data_dir,
            limit=limit,
            first_layer=first_layer,
            bf16=bf16,
            threads=threads,
            init_from=init_from,
            train_file=train_file,
            max_minutes=max_minutes,
        )
        summary = train(config)
    except (ValueError, TrainError) as exc:
        _fail(str(exc))
    typer.echo(f"saved {config.out}: {summary['steps']} steps, final loss {summary['final_loss']:.3f}")


@adapters_app.command("eval")
def eval_cmd(
    ctx: typer.Context,
    base: Path = typer.Option(None, help="Base model folder (default: the model `switchboard` serves)."),
    adapters_dir: Path = typer.Option(ADAPTERS_DIR, help="Folder with one PEFT sub-folder per adapter."),
    data_dir: Path = typer.Option(DATA_DIR),
    out: Path = typer.Option(ADAPTERS_DIR / "eval", help="Where heldout_loss.{md,json} go."),
    limit: int = typer.Option(80, help="Held-out examples per domain (0 = all)."),
    batch_size: int = typer.Option(8),
    max_len: int = typer.Option(256, help="Tokens per example (grounded examples need ~384)."),
    samples: int = typer.Option(2, help="Greedy sample replies per adapter (base vs adapter, same prompt)."),
    min_reduction: float = typer.Option(0.0, help="Exit 1 if an adapter lowers its own loss by less."),
) -> None:
    """Held-out loss/perplexity of the base and every adapter on every domain, as markdown + JSON."""
    from adapters.evaluate import BASE, evaluate, render_markdown, sample_replies, write_report
    from adapters.registry import load_adapter_specs

    try:
        specs = load_adapter_specs(adapters_dir)
        result = evaluate(_base(ctx, base), specs, data_dir, limit, batch_size, max_len)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    rows: list[dict[str, str]] = []
    for name in specs:
        prompts = result["sets"].get(name, [])[:samples]
        for ex, b, a in zip(
            prompts,
            sample_replies(result["model"], result["tokenizer"], prompts, BASE),
            sample_replies(result["model"], result["tokenizer"], prompts, name),
            strict=True,
        ):
            rows.append(
                {"adapter": name, "user": ex.user, "base": b, "adapter_reply": a, "reference": ex.assistant}
            )
    write_report(result, out, rows)
    typer.echo(render_markdown(result))
    typer.echo(f"wrote {out}/heldout_loss.md, heldout_loss.json, samples.json")
    weak = {n: r for n, r in result["reductions"].items() if r < min_reduction}
    if weak:
        _fail(f"adapters below the {100 * min_reduction:.0f}% reduction goal: {weak}")
