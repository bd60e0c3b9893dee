"""The web pages caseworkers, supervisors, designers and administrators use. They call the
same engine use cases as the API: one rule set for access, validation and audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, render_template, request, send_from_directory
from werkzeug.exceptions import HTTPException

from workflows.http import problems
from workflows.web import (  # noqa: F401  (each module adds its pages to the blueprint)
    admin_pages,
    audit_pages,
    case_pages,
    designer_pages,
    document_pages,
    history_pages,
    record_pages,
    referral_pages,
    session,
    settings_pages,
    supervision_pages,
    words,
    work_pages,
)
from workflows.web.site import bp

NODE_MODULES = Path(__file__).parent / "node_modules"
# The browser libraries casework serves itself (installed from the lockfile, never a CDN).
VENDOR_DIRS = ("bpmn-js/dist", "dmn-js/dist")


# Paths that are not pages: their errors stay problem+json.
NOT_PAGES = ("/api/", "/healthz", "/metrics", "/vendor/", "/assets/")


def register(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def address_error(error: HTTPException) -> Any:
        """An address no page answers (or not with this method: a form's address reloaded)
        is a page with a way back for people; programs get the API's problem document."""
        if request.path.startswith(NOT_PAGES) or not request.accept_mimetypes.accept_html:
            return problems.http_problem(error)
        status = error.code or 404
        message = (
            "This address only takes a form's submission. Go back to the page the form was on."
            if status == 405
            else "There is no page at this address."
        )
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return render_template("error.html", status=status, message=message), status, headers

    @app.get("/vendor/<path:name>")
    def vendor(name: str) -> Response:
        folder = next((d for d in VENDOR_DIRS if name.startswith(d + "/")), None)
        if folder is None:
            abort(404)
        response = send_from_directory(NODE_MODULES / folder, name[len(folder) + 1 :])
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response
