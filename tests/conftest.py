"""Shared fixtures: an injected clock, a real database (a SQLite file per test, or PostgreSQL
when CASEWORK_TEST_DATABASE_URL is set), and the engine context built on them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from database_templates import Templates
from engine.clock import ManualClock
from engine.context import Actor, EngineContext
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import DefinitionRegistry, Deployment
from engine.spiff.runtime import Runtime
from engine.storage import schema
from engine.storage.db import Database, connect
from workflows.printing import pdf_of

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPORA = ROOT.parent / "shared" / "corpora"
POSTGRES_URL = os.environ.get("CASEWORK_TEST_DATABASE_URL")

DESIGNER = Actor("dana.designer", "process_designer")
SCREENER = Actor("sam.screener", "intake_screener")
INVESTIGATOR = Actor("ivy.investigator", "investigator")
SUPERVISOR = Actor("sue.supervisor", "supervisor")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2025, 3, 3, 15, 15, tzinfo=UTC))


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[Database | None]:
    if not POSTGRES_URL:
        yield None
        return
    db = connect(POSTGRES_URL)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    schema.upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def templates(
    tmp_path_factory: pytest.TempPathFactory, _postgres_schema: Database | None
) -> Templates:
    """The migrated database and the agency's, built once (see database_templates)."""
    return Templates(tmp_path_factory.mktemp("templates"), _postgres_schema)


# Tests that start from the agency (deployed bundle, teams, people) get a copy of its database.
AGENCY_FIXTURES = ("agency", "site")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, templates: Templates) -> str:
    """A migrated database for this test: empty, or holding the agency when it asks for it."""
    with_agency = any(name in request.fixturenames for name in AGENCY_FIXTURES)
    return templates.fresh(tmp_path, with_agency=with_agency)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = connect(database_url)
    yield database
    database.dispose()


@pytest.fixture
def ctx(db: Database, clock: ManualClock) -> EngineContext:
    # Printing as the composition root wires it: report tasks keep their PDF.
    runtime = Runtime(clock, cpu_seconds=1.0)
    return EngineContext(db, runtime, DefinitionRegistry(), clock, printer=pdf_of)


@pytest.fixture
def phases(ctx: EngineContext) -> Deployment:
    """The two-phase test bundle (intake -> investigation) deployed."""
    return deploy_bundle(ctx, DESIGNER, read_bundle([FIXTURES / "phases"]))
