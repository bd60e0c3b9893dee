"""The agency fixture: the shipped process, teams, people and tokens, and the app."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from conftest import ROOT
from engine.context import EngineContext
from engine.deadlines.timers import TimerPolicy
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.identity.users import create_team, create_user, issue_token
from http_support import PEOPLE, SETUP, Agency
from workflows.app import create_app
from workflows.bootstrap import Services
from workflows.settings import Settings


@pytest.fixture
def agency(ctx: EngineContext, database_url: str, tmp_path: Any) -> Agency:
    ctx.clock.move_to(datetime(2025, 3, 3, 14, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    deploy_bundle(ctx, SETUP, read_bundle([ROOT / "bpmn"]))
    create_team(ctx, SETUP, "north", "North", "region-1")
    create_team(ctx, SETUP, "south", "South", "region-2")
    tokens = {}
    for user, roles, team, unit, security in PEOPLE:
        create_user(
            ctx, SETUP, user, user.title(), roles, team_id=team, unit=unit, security_group=security
        )
        tokens[user] = issue_token(ctx, SETUP, user)
    settings = Settings.from_env(
        {"CASEWORK_DATABASE_URL": database_url, "CASEWORK_DATA_DIR": str(tmp_path / "var")}
    )
    app = create_app(settings, Services(settings, ctx, TimerPolicy()))
    app.config["TESTING"] = True
    return Agency(ctx, app, app.test_client(), tokens)
