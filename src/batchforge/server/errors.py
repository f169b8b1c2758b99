"""Exception handlers: every error becomes ``{"message", "code", ...}``, never a traceback."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from batchforge.errors import BatchforgeError
from batchforge.server import guard

log = logging.getLogger("batchforge.server")


def _field_path(location: tuple[object, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if not errors:
        return "Malformed request.", None
    first = errors[0]
    field = _field_path(tuple(first.get("loc", ())))
    kind = first.get("type", "")
    if kind == "json_invalid":
        return "The request body is not valid JSON.", None
    reason = str(first.get("msg", "invalid value"))
    extra = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{field}: {reason}{extra}", field


def install(app: FastAPI) -> None:
    """JSON errors for every failure, and the input guard in front of every route."""
    guard.install(app)

    @app.exception_handler(BatchforgeError)
    async def _batchforge_error(_: Request, exc: BatchforgeError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, field = _validation_message(exc)
        body = {"message": message, "code": "invalid-input"}
        if field:
            body["field"] = field
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        return JSONResponse({"message": str(exc.detail), "code": code}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.error("unexpected error (incident %s): %s", incident, type(exc).__name__, exc_info=exc)
        return JSONResponse(
            {
                "message": f"Internal error (incident {incident}); the server log has details.",
                "code": "internal",
            },
            status_code=500,
        )
