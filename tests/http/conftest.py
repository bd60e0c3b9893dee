"""The agency fixture: the shipped process, teams, people and tokens (a copy of the agency's
database, see database_templates), the app on it, and that app served for real."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from database_templates import AGENCY_SET_UP_AT, Templates
from engine.context import EngineContext
from engine.deadlines.timers import TimerPolicy
from http_support import Agency
from workflows.app import create_app
from workflows.bootstrap import Services
from workflows.settings import Settings


@pytest.fixture
def agency(ctx: EngineContext, database_url: str, templates: Templates, tmp_path: Any) -> Agency:
    ctx.clock.move_to(AGENCY_SET_UP_AT)  # type: ignore[attr-defined]
    settings = Settings.from_env(
        {"CASEWORK_DATABASE_URL": database_url, "CASEWORK_DATA_DIR": str(tmp_path / "var")}
    )
    app = create_app(settings, Services(settings, ctx, TimerPolicy()))
    app.config["TESTING"] = True
    return Agency(ctx, app, app.test_client(), dict(templates.tokens))


@pytest.fixture
def server(agency: Agency) -> Iterator[str]:
    """The agency's app served for real, on a free port, for tests about HTTP itself."""
    # make_server binds before returning, so the address answers as soon as the thread runs.
    httpd = make_server("127.0.0.1", 0, agency.app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()
