"""Errors as ``application/problem+json`` (RFC 9457) with a stable ``code``; the HTTP status of
each engine error is decided here and nowhere else."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from engine.errors import (
    Conflict,
    EngineError,
    Forbidden,
    InvalidDefinition,
    InvalidInput,
    InvalidTaskData,
    NotFound,
    ScriptFailed,
)

STATUS: list[tuple[type[EngineError], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
    (InvalidTaskData, 422),
    (InvalidDefinition, 422),
    (ScriptFailed, 422),
    (InvalidInput, 400),
]
TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 412: "Precondition failed",
          413: "Payload too large", 415: "Unsupported media type", 422: "Unprocessable content",
          428: "Precondition required", 500: "Internal server error"}  # fmt: skip


class Unauthorized(EngineError):
    code = "unauthorized"


def problem(status: int, code: str, detail: str, **extra: Any) -> Response:
    body = {
        "type": f"https://casework.example/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="casework"'
    return response


def engine_problem(error: EngineError) -> Response:
    if isinstance(error, Unauthorized):
        return problem(401, error.code, error.message)
    status = next((s for cls, s in STATUS if isinstance(error, cls)), 400)
    extra: dict[str, Any] = {}
    if isinstance(error, InvalidTaskData):
        extra["errors"] = [e.as_dict() for e in error.errors]
    if isinstance(error, InvalidDefinition):
        extra["problems"] = [p.as_dict() for p in error.problems]
    if isinstance(error, ScriptFailed):
        extra.update({"element_id": error.element_id, "line": error.line, "reason": error.reason})
    return problem(status, error.code, error.message, **extra)


def http_problem(error: HTTPException) -> Response:
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_")
    response = problem(status, code, error.description or "")
    # What the exception says beyond its body stays: Allow on a 405 (RFC 9110 requires it),
    # Retry-After, WWW-Authenticate challenges.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers.add(name, value)
    return response


def register(app: Flask) -> None:
    @app.errorhandler(EngineError)
    def on_engine_error(error: EngineError) -> Response:
        return engine_problem(error)

    app.register_error_handler(HTTPException, http_problem)

    @app.errorhandler(Exception)
    def on_unexpected(error: Exception) -> Response:
        app.logger.exception("unhandled error", exc_info=error)
        return problem(500, "internal_error", "something went wrong; it has been logged")
