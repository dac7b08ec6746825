"""`switchboard router ...`: build the labelled data, train + calibrate, evaluate, compare classifiers."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

import typer

from app.router.training.fit import DEFAULT
from app.router.training.labelled import EVAL_SETS, ROUTER_DATA

router_app = typer.Typer(help="Build data for, train and evaluate the intent router.", no_args_is_help=True)
EVAL_PATH = ROUTER_DATA.parent / "eval.json"


def _fail(message: str) -> None:
    """One red line on stderr, exit 1."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _model_path(path: Path | None) -> Path:
    from app.config import settings

    return path or settings.router_path


def cpu_name() -> str:
    """CPU model and the SIMD flags that matter for numpy, for every committed figure."""
    model, flags = platform.processor() or "unknown CPU", []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                flags = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16") if f in have]
                break
    except OSError:
        pass
    return f"{model} ({' '.join(flags) or 'no avx2'})"


@router_app.command("build-data")
def build_data(
    source: Path = typer.Option(Path("/work/shared/data"), help="Folder with the public data sets."),
    out: Path = typer.Option(ROUTER_DATA),
    seed: int = typer.Option(0),
) -> None:
    """Write the router's train.jsonl / calibration.jsonl from the public sets and the written topics."""
    from app.router.training.build import build_router_data

    try:
        train, calib = build_router_data(source, out=out, seed=seed)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    typer.echo(f"router data: {len(train)} train, {len(calib)} calibration in {out}")


@router_app.command("train")
def train(
    data: Path = typer.Option(ROUTER_DATA / "train.jsonl"),
    calibration: Path = typer.Option(ROUTER_DATA / "calibration.jsonl"),
    out: Path = typer.Option(None, help="Model file (default: settings.router_path)."),
    kind: str = typer.Option(DEFAULT, help="Classifier (see `router compare`)."),
    seed: int = typer.Option(0),
) -> None:
    """Fit the classifier on train.jsonl, choose thresholds on calibration.jsonl, save the JSON model."""
    from app.router.router import IntentRouter
    from app.router.training.calibrate import calibrate
    from app.router.training.fit import fit_classifier, save_model
    from app.router.training.labelled import read_labelled

    try:
        items, held = read_labelled(data), read_labelled(calibration)
        model = fit_classifier([i.text for i in items], [i.label for i in items], kind=kind, seed=seed)
    except ValueError as exc:
        _fail(str(exc))
    cal = calibrate(IntentRouter(model), held, seed=seed)
    path = _model_path(out)
    save_model(
        model, path, cal.thresholds(), {"kind": kind, "messages": len(items), "calibration": cal.report}
    )
    typer.echo(
        f"saved {path}: {kind}, {len(items)} messages, {len(model.featurizer.vocab)} features, "
        f"labels {model.labels}; thresholds {cal.thresholds()} (calibration macro-F1 "
        f"{cal.report['routed_macro_f1']:.4f}, follow-ups {cal.report['follow_up_accuracy']:.4f})"
    )


def _print_metrics(name: str, size: int, routed: Any, raw: Any) -> None:
    typer.echo(f"\n== {name} ({size} messages)")
    typer.echo(f"routed outcome: accuracy {routed.accuracy:.4f}  macro-F1 {routed.macro_f1:.4f}")
    typer.echo(
        f"raw classifier ({len(raw.labels)} labels, English): accuracy {raw.accuracy:.4f}  "
        f"macro-F1 {raw.macro_f1:.4f}"
    )
    for label, c in routed.per_class.items():
        if c["support"]:
            prf = f"P {c['precision']:.3f}  R {c['recall']:.3f}  F1 {c['f1']:.3f}"
            typer.echo(f"  {label:13s} {prf}  n {c['support']}")
    typer.echo("  confusion (rows gold, columns predicted):")
    typer.echo("  " + " " * 13 + "".join(f"{lab[:11]:>12s}" for lab in routed.labels))
    for lab, row in zip(routed.labels, routed.confusion, strict=True):
        typer.echo(f"  {lab:13s}" + "".join(f"{v:12d}" for v in row))


@router_app.command("eval")
def eval_cmd(
    model: Path = typer.Option(None, help="Model file (default: settings.router_path)."),
    data: list[Path] = typer.Option([*EVAL_SETS, ROUTER_DATA / "calibration.jsonl"]),
    out: Path = typer.Option(EVAL_PATH),
) -> None:
    """Accuracy, macro-F1, per-intent recall, confusion and p50/p99 latency; the first set is the headline."""
    from app.router.router import IntentRouter
    from app.router.training.evaluate import evaluate_classifier, evaluate_routing, routing_latency_ms
    from app.router.training.labelled import read_labelled

    try:
        start = time.perf_counter()
        router = IntentRouter.load(_model_path(model))
        load_s = time.perf_counter() - start
        sets = {p.stem: read_labelled(p) for p in data}
    except ValueError as exc:
        _fail(str(exc))
    report: dict[str, Any] = {
        "cpu": cpu_name(),
        "load_seconds": load_s,
        "thresholds": router.thresholds.__dict__,
    }
    for name, items in sets.items():
        routed, raw = evaluate_routing(router, items), evaluate_classifier(router, items)
        report[name] = {"size": len(items), "routed": routed.to_json(), "classifier": raw.to_json()}
        _print_metrics(name, len(items), routed, raw)
    texts = [i.text for items in sets.values() for i in items]
    latency = routing_latency_ms(router, texts)
    report["latency"] = latency
    typer.echo(
        f"\n{report['cpu']}: load {load_s:.3f} s; route() wall p50 {latency['p50_ms']:.3f} ms, "
        f"p99 {latency['p99_ms']:.3f} ms; CPU p50 {latency['cpu_p50_ms']:.3f} ms, "
        f"p99 {latency['cpu_p99_ms']:.3f} ms over {latency['calls']} calls"
    )
    out.write_text(json.dumps(report, indent=2) + "\n")
    typer.echo(f"wrote {out}")


@router_app.command("compare")
def compare_cmd(
    kinds: list[str] = typer.Option([], help="Candidates (default: all)."),
    out: Path = typer.Option(ROUTER_DATA.parent / "compare.json"),
    seed: int = typer.Option(0),
) -> None:
    """Fit every candidate on train.jsonl, calibrate each on calibration.jsonl, score the eval set."""
    from app.router.training.compare import compare

    rows = compare(kinds or None, seed=seed)
    for r in rows:
        typer.echo(
            f"{r['kind']:24s} calib acc {r['calibration_accuracy']:.4f} F1 {r['calibration_macro_f1']:.4f} | "
            f"eval acc {r['eval_accuracy']:.4f} F1 {r['eval_macro_f1']:.4f} | p50 {r['p50_ms']:.3f} "
            f"p99 {r['p99_ms']:.3f} ms (CPU p99 {r['cpu_p99_ms']:.3f}) | load {r['load_s']:.3f} s | "
            f"fit {r['fit_s']:.0f} s"
        )
    out.write_text(json.dumps({"cpu": cpu_name(), "rows": rows}, indent=2) + "\n")
    typer.echo(f"wrote {out}")


@router_app.command("embedding-cost")
def embedding_cost_cmd(threads: int = typer.Option(1)) -> None:
    """Load time and per-message latency of mean-pooled base-model hidden states (comparison row)."""
    from app.config import settings
    from app.router.training.embedding_cost import embedding_cost

    r = embedding_cost(settings.model_dir, threads=threads)
    typer.echo(
        f"{cpu_name()}: load {r['load_s']:.2f} s; forward + pool p50 {r['p50_ms']:.1f} ms, "
        f"p99 {r['p99_ms']:.1f} ms ({threads} thread)"
    )
