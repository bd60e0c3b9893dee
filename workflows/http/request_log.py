"""One log line per request: method, path, status, time (and the engine's share), the user,
and a request id that the response carries back (``X-Request-Id``), taken from the caller's
header when it is a plausible id, so that a proxy's id follows the request into these logs.

The query string is left out: searches carry names of children and families. So is the path
of a request no route matched (a mistyped address may hold a name); a matched path holds ids
only, and its control characters are escaped, so that it cannot forge a line."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from engine import stopwatch

log = logging.getLogger("casework.request")
HEADER = "X-Request-Id"
PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def register(app: Flask) -> None:
    """Registered before the other request hooks, so that its time covers theirs."""

    @app.before_request
    def open_entry() -> None:
        sent = request.headers.get(HEADER, "")
        g.request_id = sent if PLAUSIBLE_ID.fullmatch(sent) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def write_entry(response: Response) -> Response:
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers[HEADER] = request_id
        started = g.get("request_started")
        spent: stopwatch.Spent | None = g.get("spent")
        principal = g.get("principal")
        ms = round((time.perf_counter() - started) * 1000, 2) if started else None
        user = principal.id if principal is not None else None
        path = _printable(request.path) if request.url_rule is not None else "(no route)"
        log.info(
            "%s %s %d %s ms %s",
            request.method,
            path,
            response.status_code,
            ms,
            user or "-",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "ms": ms,
                "engine_ms": round(spent.engine_seconds * 1000, 2) if spent else None,
                "user": user,
            },
        )
        return response


def _printable(text: str) -> str:
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
