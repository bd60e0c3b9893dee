"""The web pages caseworkers, supervisors, designers and administrators use. They call the
same engine use cases as the API: one rule set for access, validation and audit."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, abort, send_from_directory

from workflows.web import (  # noqa: F401  (each module adds its pages to the blueprint)
    admin_pages,
    audit_pages,
    case_pages,
    designer_pages,
    history_pages,
    record_pages,
    session,
    supervision_pages,
    work_pages,
)
from workflows.web.site import bp

NODE_MODULES = Path(__file__).parent / "node_modules"
# The browser libraries casework serves itself (installed from the lockfile, never a CDN).
VENDOR_DIRS = ("bpmn-js/dist", "dmn-js/dist")


def register(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.get("/vendor/<path:name>")
    def vendor(name: str) -> Response:
        folder = next((d for d in VENDOR_DIRS if name.startswith(d + "/")), None)
        if folder is None:
            abort(404)
        response = send_from_directory(NODE_MODULES / folder, name[len(folder) + 1 :])
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response
