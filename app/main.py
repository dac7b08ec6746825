"""The FastAPI app factory: migrate, build engine + backend + router, mount the routes and assets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from app.api import (
    admin,
    auth_pages,
    chat_pages,
    customer_desk,
    desk_settings,
    error_pages,
    health,
    inbox,
    inbox_events,
    kb_pages,
    knowledge,
    openai_api,
    operator_console,
    sites,
    staff,
    widget,
)
from app.api.openai_errors import install_openai_errors
from app.api.security_headers import add_security_headers, docs_options
from app.chat import websocket
from app.chat.hub import ConversationHub, InProcessHub
from app.chat.metrics import AppMetrics
from app.chat.orphans import OrphanSweeper
from app.chat.planning import ReplyPlanner, Router, load_router
from app.chat.service import ChatService
from app.chat.tokens import CustomerTokens
from app.chat.watch_lease import WatchLeases
from app.config import REPO_ROOT, Settings
from app.db.session import get_session, session_factory, upgrade_database
from app.generation.backend import GenerationBackend
from app.generation.embedded import EmbeddedBackend
from app.generation.engine_factory import adapter_dirs, build_engine
from app.generation.starting import StartingBackend
from app.knowledge.importer import seed_knowledge
from app.limits.api_limits import api_limits_for
from app.limits.chat_limits import chat_limits_for

if TYPE_CHECKING:  # torch-backed: the engine loads after the server listens
    from inference import AsyncEngine

log = logging.getLogger(__name__)
WEB_DIR = REPO_ROOT / "web"


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    backend: GenerationBackend | None = None,
    router: Router | None = None,
    hub: ConversationHub | None = None,
    resume_grace_s: float = 15.0,
) -> FastAPI:
    """Build the app; tests inject a prebuilt engine/backend/router, `serve` builds them from settings."""
    if settings is None:
        from app.config import settings as configured

        settings = configured
    cfg = settings
    sessions = session_factory(cfg.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(upgrade_database, cfg.database_url)
        await asyncio.to_thread(seed_knowledge, sessions)
        eng = engine
        be = backend
        if be is None and cfg.redis_url:
            from app.generation.redis_backend import RedisBackend

            # Scale-out: workers run the engine; this node only queues jobs and relays events.
            be = RedisBackend(cfg.redis_url, max_queue_depth=cfg.max_queue_depth)
        if be is None and eng is not None:
            be = EmbeddedBackend(eng, max_queue_depth=cfg.max_queue_depth)
        if be is None:
            # Listen first, load the engine behind it; early messages wait (app/generation/starting.py).
            be = StartingBackend(lambda: load_embedded(app, cfg), max_pending=cfg.max_queue_depth)
        # The engine's load (seconds of torch imports) must not compete with the rest of start-up.
        loads_behind = isinstance(be, StartingBackend)
        if not loads_behind:
            await be.start()
        # Workers (and a loading engine) load the adapters found in adapters_dir: plan with those names.
        adapters = eng.adapters() if eng is not None else list(adapter_dirs(cfg.adapters_dir))
        planner = ReplyPlanner(router or load_router(cfg.router_path), adapters, cfg.business_name)
        app.state.engine = eng
        app.state.backend = be
        app.state.chat.connect(be, planner)
        sweep_task = await start_sweeper(app, sessions, be)
        if loads_behind:
            await be.start()  # returns at once; uvicorn listens right after this
        try:
            yield
        finally:
            sweep_task.cancel()
            await be.stop()

    app = FastAPI(title="Switchboard", lifespan=lifespan, **docs_options(cfg.environment))
    add_security_headers(app)
    install_openai_errors(app)
    app.state.settings = cfg
    app.state.sessions = sessions
    app.state.metrics = AppMetrics()
    app.state.hub = hub or _default_hub(cfg, app.state.metrics)
    # The one façade of every channel; staff work needs no engine, replies wait for `connect`.
    app.state.chat = ChatService(
        sessions,
        None,
        None,
        app.state.hub,
        app.state.metrics,
        resume_grace_s=resume_grace_s,
        leases=WatchLeases(cfg.redis_url, ttl_s=max(2.0, resume_grace_s)),
        number_guard=cfg.number_guard,
    )
    app.state.customer_tokens = CustomerTokens(cfg.secret_key)
    app.state.chat_limits = chat_limits_for(cfg)
    app.state.api_limits = api_limits_for(cfg)
    app.state.templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    app.state.templates.env.globals["business_name"] = cfg.business_name

    def _session() -> Iterator[Session]:
        with sessions() as session:
            yield session

    # Every route that asks for get_session gets this app's database, not the global default.
    app.dependency_overrides[get_session] = _session
    for module in (
        chat_pages,
        health,
        openai_api,
        websocket,
        auth_pages,
        staff,
        operator_console,
        knowledge,
        kb_pages,
        admin,
        inbox,
        inbox_events,
        desk_settings,
        customer_desk,
        sites,
        widget,
    ):
        app.include_router(module.router)
    error_pages.install(app)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    return app


async def load_embedded(app: FastAPI, cfg: Settings) -> GenerationBackend:
    """Build the in-process engine off the event loop; /metrics shows it from then on."""
    engine = await asyncio.to_thread(build_engine, cfg)
    app.state.engine = engine
    return EmbeddedBackend(engine, max_queue_depth=cfg.max_queue_depth)


async def start_sweeper(app: FastAPI, sessions: Any, backend: GenerationBackend) -> asyncio.Task[None]:
    """Finalise replies a previous run (or a dead node) left `streaming`, then keep sweeping."""
    cfg = app.state.settings
    sweeper = app.state.sweeper = OrphanSweeper(
        sessions,
        app.state.chat.recorder,
        min_age_s=cfg.orphan_sweep_min_age_s,
        interval_s=cfg.orphan_sweep_interval_s,
    )
    # In process, no job from before this start can be alive; with workers only old rows are orphans.
    shared = getattr(backend, "jobs_outlive_node", False)
    try:
        await sweeper.sweep_once(None if shared else 0.0)
        if not shared:  # their jobs died with the last run: the rows are final before we serve
            await sweeper.wait_idle()
    except Exception:  # noqa: BLE001 - a database still starting must not stop the server; the loop retries
        log.warning("start-up sweep of streaming replies failed", exc_info=True)
    return asyncio.create_task(sweeper.run())


def _default_hub(cfg: Settings, metrics: AppMetrics) -> ConversationHub:
    """Redis pub/sub when nodes share a Redis (a staff reply reaches any node), else in process."""
    if cfg.redis_url:
        from app.chat.redis_hub import RedisHub

        failures = metrics.hub_failures
        return RedisHub(cfg.redis_url, on_failure=lambda kind: failures.labels(kind=kind).inc())
    return InProcessHub()
