"""The Flask application factory."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, jsonify

from engine.event_topics import TOPICS, envelope_schema
from workflows import web
from workflows.bootstrap import Services, bootstrap
from workflows.http import api, auth, health, metrics, problems, request_log, webhooks_api
from workflows.http.operations import openapi
from workflows.settings import Settings

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the web app. Tests pass ``settings`` (and may pass prebuilt ``services``)."""
    settings = settings or (services.settings if services else Settings.from_env())
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.session_secret(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        JSON_SORT_KEYS=False,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),  # a working day; then sign in again
    )
    services = services or bootstrap(settings)
    app.extensions["casework"] = services
    problems.register(app)
    request_log.register(app)
    auth.register(app)
    metrics.register(app, services.engine)
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

    return app


def services_of(app: Flask) -> Services:
    services: Services = app.extensions["casework"]
    return services
