"""Errors on /v1 in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

OpenAI clients read that body to raise a typed error with the message; FastAPI's own 404, 405
and 422 (and an unexpected 500) would otherwise reach them as ``{"detail": ...}`` and surface
as an opaque failure. Paths outside /v1 keep FastAPI's usual answers.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)
PREFIX = "/v1"
KIND_BY_STATUS = {
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    429: "requests",
}


class ApiError(Exception):
    """An error answered in OpenAI's format; ``headers`` go on the response (Retry-After)."""

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        kind: str = "invalid_request_error",
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.kind, self.code = status, message, param, kind, code
        self.headers = headers or {}

    def body(self) -> dict[str, dict[str, str | None]]:
        """The JSON error body OpenAI clients parse."""
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        """The error as an HTTP response."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def _on_v1(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not _on_v1(request):
        return await http_exception_handler(request, exc)
    message = {
        404: f"Unknown path {request.url.path}; see GET /v1/models and /v1/chat/completions",
        405: f"Method {request.method} is not allowed on {request.url.path}",
    }.get(exc.status_code, str(exc.detail))
    code = {404: "unknown_url", 405: "method_not_allowed"}.get(exc.status_code)
    kind = KIND_BY_STATUS.get(
        exc.status_code, "server_error" if exc.status_code >= 500 else "invalid_request_error"
    )
    return ApiError(
        exc.status_code, message, kind=kind, code=code, headers=dict(exc.headers or {})
    ).response()


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not _on_v1(request):
        return await request_validation_exception_handler(request, exc)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    param = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path")) or None
    return ApiError(422, f"{param}: {first['msg']}" if param else str(first["msg"]), param=param).response()


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Starlette still logs the traceback and re-raises for the server; the client gets the shape.
    if not _on_v1(request):
        return PlainTextResponse("Internal Server Error", status_code=500)
    return ApiError(500, "internal server error", kind="server_error").response()


def install_openai_errors(app: FastAPI) -> None:
    """Answer every error under /v1 in OpenAI's shape (others keep FastAPI's)."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
