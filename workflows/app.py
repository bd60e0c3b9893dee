"""The Flask application factory."""

from __future__ import annotations

from flask import Flask

from workflows.bootstrap import Services, bootstrap
from workflows.http import health
from workflows.settings import Settings


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the web app. Tests pass ``settings`` (and may pass prebuilt ``services``)."""
    settings = settings or (services.settings if services else Settings.from_env())
    app = Flask(__name__)
    app.extensions["casework"] = services or bootstrap(settings)
    app.register_blueprint(health.bp)
    return app


def services_of(app: Flask) -> Services:
    services: Services = app.extensions["casework"]
    return services
