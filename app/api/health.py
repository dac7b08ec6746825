"""Liveness with dependencies (/healthz) and Prometheus metrics (/metrics)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

router = APIRouter(tags=["health"])
DB_TIMEOUT_S = 5.0


def _ping(request: Request) -> None:
    with request.app.state.sessions() as session:
        session.execute(text("SELECT 1"))


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers and the engine serves; 503 naming what failed otherwise."""
    body: dict[str, Any] = {"status": "ok"}
    try:
        await asyncio.wait_for(asyncio.to_thread(_ping, request), DB_TIMEOUT_S)
        body["db"] = "ok"
    except Exception as exc:
        body["status"], body["db"] = (
            "error",
            f"database unreachable: {type(exc).__name__}: {_first_line(exc)}",
        )
    try:
        body["engine"] = {"status": "ok", **await request.app.state.backend.health()}
    except Exception as exc:
        body["status"], body["engine"] = "error", {"status": f"engine not serving: {_first_line(exc)}"}
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


@router.get("/metrics")
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus text: the engine's metrics (when in process) followed by the app's."""
    parts = []
    engine = request.app.state.engine
    if engine is not None:
        parts.append(engine.to_prometheus())
    parts.append(request.app.state.metrics.render())
    return PlainTextResponse("".join(parts), media_type=CONTENT_TYPE_LATEST)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
