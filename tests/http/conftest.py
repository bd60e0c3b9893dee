"""The agency fixture: the shipped process, teams, people and tokens (a copy of the agency's
database, see database_templates), and the app on it."""

from __future__ import annotations

from typing import Any

import pytest

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
