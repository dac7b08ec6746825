"""`switchboard router ...`: build the labelled data, train the classifier, evaluate it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from app.router.dataset import ROUTER_DATA

router_app = typer.Typer(help="Build data for, train and evaluate the intent router.", no_args_is_help=True)
EVAL_PATH = Path(__file__).resolve().parent / "eval.json"


def _fail(message: str) -> None:
    """One red line on stderr, exit 1."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _model_path(path: Path | None) -> Path:
    from app.config import settings

    return path or settings.router_path


@router_app.command("build-data")
def build_data(
    source: Path = typer.Option(Path("/work/shared/data"), help="Folder with the public data sets."),
    out: Path = typer.Option(ROUTER_DATA),
    seed: int = typer.Option(0),
) -> None:
    """Write the router's train.jsonl / heldout.jsonl (needs `switchboard adapters build-data` first)."""
    from app.router.dataset import build_router_data

    try:
        train, held = build_router_data(source, out=out, seed=seed)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    typer.echo(f"router data: {len(train)} train, {len(held)} held-out in {out}")


@router_app.command("train")
def train(
    data: Path = typer.Option(ROUTER_DATA / "train.jsonl"),
    out: Path = typer.Option(None, help="Model file (default: settings.router_path)."),
    c: float = typer.Option(10.0, help="Inverse regularisation strength of the logistic regression."),
    seed: int = typer.Option(0),
) -> None:
    """Fit TF-IDF + logistic regression on the training split and save the portable JSON model."""
    from app.router.classifier import IntentClassifier
    from app.router.dataset import read_labelled

    try:
        items = read_labelled(data)
        model = IntentClassifier.fit([i.text for i in items], [i.label for i in items], c=c, seed=seed)
    except ValueError as exc:
        _fail(str(exc))
    path = _model_path(out)
    model.save(path)
    typer.echo(
        f"saved {path}: {len(items)} messages, {len(model.featurizer.vocab)} features, labels {model.labels}"
    )


@router_app.command("eval")
def eval_cmd(
    model: Path = typer.Option(None, help="Model file (default: settings.router_path)."),
    data: list[Path] = typer.Option([ROUTER_DATA / "heldout.jsonl", ROUTER_DATA / "hard_heldout.jsonl"]),
    out: Path = typer.Option(EVAL_PATH),
) -> None:
    """Accuracy, macro-F1, per-class report, confusion and p50/p99 latency on the held-out sets."""
    from app.router.dataset import read_labelled
    from app.router.evaluate import evaluate_classifier, evaluate_routing, routing_latency_ms
    from app.router.router import IntentRouter

    try:
        start = time.perf_counter()
        router = IntentRouter.load(_model_path(model))
        load_s = time.perf_counter() - start
        sets = {p.stem: read_labelled(p) for p in data}
    except ValueError as exc:
        _fail(str(exc))
    everything = [i for items in sets.values() for i in items]
    report: dict[str, object] = {"load_seconds": load_s, "thresholds": router.thresholds.__dict__}
    for name, items in {**sets, "all": everything}.items():
        routed, raw = evaluate_routing(router, items), evaluate_classifier(router, items)
        report[name] = {"size": len(items), "routed": routed.to_json(), "classifier": raw.to_json()}
        typer.echo(f"\n== {name} ({len(items)} messages)")
        typer.echo(
            f"routed (3 intents, out-of-scope -> general): accuracy {routed.accuracy:.4f}  "
            f"macro-F1 {routed.macro_f1:.4f}"
        )
        typer.echo(
            f"classifier ({len(raw.labels)} labels): accuracy {raw.accuracy:.4f}  macro-F1 {raw.macro_f1:.4f}"
        )
        for label, c in routed.per_class.items():
            prf = f"P {c['precision']:.3f}  R {c['recall']:.3f}  F1 {c['f1']:.3f}"
            typer.echo(f"  {label:13s} {prf}  n {c['support']}")
        typer.echo(f"  confusion (rows gold, cols predicted {', '.join(routed.labels)}): {routed.confusion}")
    latency = routing_latency_ms(router, [i.text for i in everything])
    report["latency"] = latency
    typer.echo(
        f"\nload {load_s:.3f} s; route() p50 {latency['p50_ms']:.3f} ms, p99 {latency['p99_ms']:.3f} ms "
        f"over {latency['calls']} calls"
    )
    out.write_text(json.dumps(report, indent=2) + "\n")
    typer.echo(f"wrote {out}")
