"""Liveness with dependencies (/healthz), readiness to answer (/readyz), Prometheus metrics (/metrics)."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from app.db.session import ping

router = APIRouter(tags=["health"])
DB_TIMEOUT_S = 5.0


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers and the engine serves or is loading; 503 naming what failed.

    ``ready`` says whether replies are generated now; while the engine loads it is false, the
    engine's status is ``loading`` and messages are stored and answered once it runs.
    """
    body = await _check(request)
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 once the database answers and the engine generates; 503 while it loads or when broken."""
    body = await _check(request)
    return JSONResponse(body, status_code=200 if body["status"] == "ok" and body["ready"] else 503)


async def _check(request: Request) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "ok"}
    try:
        await asyncio.wait_for(asyncio.to_thread(ping, request.app.state.sessions), DB_TIMEOUT_S)
        body["db"] = "ok"
    except Exception as exc:
        body["status"], body["db"] = (
            "error",
            f"database unreachable: {type(exc).__name__}: {_first_line(exc)}",
        )
    try:
        engine = await request.app.state.backend.health()
        body["ready"] = bool(engine.get("ready", True))
        body["engine"] = {"status": "ok" if body["ready"] else "loading", **engine}
    except Exception as exc:
        body["ready"] = False
        body["status"], body["engine"] = "error", {"status": f"engine not serving: {_first_line(exc)}"}
    return body


def metrics_allowed(request: Request) -> bool:
    """In production /metrics needs ``Authorization: Bearer $SWITCHBOARD_METRICS_TOKEN`` (none set: off)."""
    settings = request.app.state.settings
    if settings.environment != "production":
        return True
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    return bool(settings.metrics_token) and hmac.compare_digest(
        given.encode(), settings.metrics_token.encode()
    )


@router.get("/metrics", response_model=None)
async def metrics(request: Request) -> PlainTextResponse | JSONResponse:
    """Prometheus text: the engine's metrics (when in process) followed by the app's."""
    if not metrics_allowed(request):  # queue depths and error counts help an attacker time a flood
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    parts = []
    engine = request.app.state.engine
    if engine is not None:
        parts.append(engine.to_prometheus())
    parts.append(request.app.state.metrics.render())
    return PlainTextResponse("".join(parts), media_type=CONTENT_TYPE_LATEST)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
