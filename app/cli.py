"""The `switchboard` command: serve, fetch-model, and the sub-commands each part contributes."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup


def _typer_app(module: str, name: str) -> Callable[[], typer.Typer]:
    return lambda: getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


# Each part's sub-commands, imported only when invoked (or listed by --help): importing them all
# (the router's trainer, the knowledge evaluation, the admin audit, ...) cost `serve` a second.
SUB_APPS: dict[str, Callable[[], typer.Typer]] = {
    "bench": _typer_app("app.bench_cli", "bench_app"),
    "users": _typer_app("app.users_cli", "users_app"),
    "admin": _typer_app("app.admin.cli", "admin_app"),
    "adapters": _typer_app("adapters.cli", "adapters_app"),
    "router": _typer_app("app.router.training.cli", "router_app"),
    "kb": _typer_app("app.knowledge.cli", "kb_app"),
}


class LazyGroup(TyperGroup):
    """The root command group: the commands defined here, plus SUB_APPS loaded on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        """Every command name, loaded or not."""
        return sorted({*self.commands, *SUB_APPS})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command, importing its part's module the first time it is asked for."""
        if cmd_name not in self.commands and cmd_name in SUB_APPS:
            group = typer.main.get_group(SUB_APPS[cmd_name]())
            group.name = cmd_name
            self.commands[cmd_name] = group
        return self.commands.get(cmd_name)


cli = typer.Typer(
    help="Switchboard: customer-service chat over one multi-LoRA engine.", no_args_is_help=True, cls=LazyGroup
)


@cli.callback()
def _pass_defaults(ctx: typer.Context) -> None:
    # Sub-commands of parts below the app (adapters) must not read app.config: hand them what they need.
    from app.config import settings

    ctx.obj = {"model_dir": settings.model_dir}


def _fail(message: str) -> None:
    """Print one clear line on stderr and exit 1 (no traceback for expected failures)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


@cli.command("fetch-model")
def fetch_model() -> None:
    """Install SmolLM2-135M-Instruct (GGUF) and convert it once to safetensors in the cache dir."""
    from app.config import settings
    from inference.loading.fetch import ModelFetchError, ensure_default_model

    if settings.model:
        typer.echo(f"SWITCHBOARD_MODEL is set; using {settings.model_dir} as is")
        return
    try:
        path = ensure_default_model(settings.model_dir)
    except ModelFetchError as exc:
        _fail(str(exc))
    typer.echo(f"model ready at {path}")


def _ensure_model() -> None:
    """Fetch the default model on first run, or check SWITCHBOARD_MODEL; one clear line on failure."""
    from app.config import settings
    from inference.loading.fetch import ModelFetchError, ensure_default_model
    from inference.loading.model_dir import ModelLoadError, check_model_dir

    try:
        if settings.model:
            check_model_dir(settings.model_dir)
        else:
            ensure_default_model(settings.model_dir)
    except (ModelFetchError, ModelLoadError) as exc:
        _fail(str(exc))


@cli.command("serve")
def serve(
    host: str = typer.Option(None, help="Bind address (default from settings)."),
    port: int = typer.Option(None, help="Port (default from settings)."),
) -> None:
    """Run the web app (migrates the database and loads the model first)."""
    import uvicorn

    from app.auth.proxies import uvicorn_proxy_options
    from app.config import settings

    _ensure_model()

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        # Frames a bit over max_frame_bytes get the chat's clear error; absurd ones close the socket.
        ws_max_size=max(1 << 20, 4 * settings.max_frame_bytes),
        **uvicorn_proxy_options(settings.trusted_proxies),
    )


@cli.command("worker")
def worker(
    dummy: str = typer.Option(None, help="Serve random weights of a shape (e.g. tiny) for load tests."),
    max_jobs: int = typer.Option(32, min=1, help="Jobs this worker runs at once."),
    claim_idle_ms: int = typer.Option(10_000, min=100, help="Reclaim a dead worker's jobs after this idle."),
    alive_file: Path = typer.Option(None, help="Touched every heartbeat while Redis answers (healthchecks)."),
    metrics_port: int = typer.Option(
        None,
        min=0,
        max=65535,
        envvar="SWITCHBOARD_WORKER_METRICS_PORT",
        help="Serve GET /metrics (engine + worker, Prometheus) on this port.",
    ),
    metrics_host: str = typer.Option(
        "127.0.0.1", envvar="SWITCHBOARD_WORKER_METRICS_HOST", help="Metrics address (0.0.0.0 in containers)."
    ),
) -> None:
    """Serve generation jobs from REDIS_URL's queue on this machine's engine (scale out with more)."""
    import asyncio
    import logging
    import signal

    from app.config import settings
    from app.generation.worker import Worker, WorkerConfig
    from app.generation.worker_engine import build_worker_engine

    if not settings.redis_url:
        _fail("REDIS_URL (or SWITCHBOARD_REDIS_URL) must be set for a worker")
    if dummy is None:
        _ensure_model()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = WorkerConfig(
            str(settings.redis_url), max_jobs=max_jobs, claim_idle_ms=claim_idle_ms, alive_file=alive_file,
            metrics_port=metrics_port, metrics_host=metrics_host,
        )  # fmt: skip
        engine = build_worker_engine(settings, dummy)
    except ValueError as exc:
        _fail(str(exc))

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        typer.echo(f"worker {config.consumer} serving {settings.redis_url}", err=True)
        await Worker(engine, config).run(stop)

    asyncio.run(_main())


def main() -> None:
    """Entry point of the `switchboard` console script."""
    cli(prog_name="switchboard")


if __name__ == "__main__":
    main()
    sys.exit(0)
