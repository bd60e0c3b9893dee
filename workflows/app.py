"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from flask.json.provider import DefaultJSONProvider

from engine.events.topics import TOPICS, envelope_schema
from engine.identity import web_sessions
from engine.strict_json import parse_json
from workflows import access_table, web
from workflows.bootstrap import Services, bootstrap
from workflows.http import api, auth, health, metrics, problems, request_log, webhooks_api
from workflows.http.operations import openapi
from workflows.settings import Settings

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class StrictJSONProvider(DefaultJSONProvider):
    """JSON in and out as the standard has it. Request bodies are read by the rules inbound
    webhooks follow (no NaN or infinities, no lone surrogates, at most 64 levels deep), so that
    what the database cannot store or a walk cannot bound is refused before a use case runs; a
    ValueError saying why reaches the caller. Answers never carry NaN or infinities."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError("request bodies are read one way only")
        return parse_json(s)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the web app. Tests pass ``settings`` (and may pass prebuilt ``services``)."""
    settings = settings or (services.settings if services else Settings.from_env())
    app = Flask(__name__)
    app.json = StrictJSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.session_secret(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        # A bundle, or a document with its form (a bounded 413 beyond, nothing read).
        MAX_CONTENT_LENGTH=max(MAX_UPLOAD_BYTES, settings.max_document_bytes + 1024 * 1024),
        JSON_SORT_KEYS=False,
        # The cookie lives as long as the session it names (engine.identity.web_sessions).
        PERMANENT_SESSION_LIFETIME=web_sessions.LIFETIME,
    )
    services = services or bootstrap(settings)
    app.extensions["casework"] = services
    problems.register(app)
    request_log.register(app)
    auth.register(app)
    metrics.register(app, services.ctx, settings)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(webhooks_api.bp)
    web.register(app)
    document = openapi(
        [api.api, webhooks_api.api],
        "casework API",
        "1",
        webhooks={topic: envelope_schema(topic) for topic in TOPICS},
    )

    @app.get("/api/openapi.json")
    def openapi_document() -> Response:
        return jsonify(document)

    # Last: every route is declared by now, and the caller identified before it runs.
    access_table.register(app)
    return app


def services_of(app: Flask) -> Services:
    services: Services = app.extensions["casework"]
    return services
