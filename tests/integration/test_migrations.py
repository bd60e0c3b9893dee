"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from engine.storage import schema
from engine.storage.db import Database
from engine.storage.tables import Base


def test_the_migrated_database_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert schema.current_revision(db.engine) == schema.head_revision()


def test_tasks_take_their_cases_team_when_the_column_is_added(tmp_path: Path) -> None:
    # A plain engine: SQLite leaves foreign keys off, so a task needs no instance row here.
    engine = create_engine(f"sqlite:///{tmp_path / 'before-0006.sqlite3'}")
    schema.upgrade(engine, "0005")
    with engine.begin() as connection:
        for case, team in (("c1", "north"), ("c2", None)):
            connection.execute(
                text(
                    "INSERT INTO cases (id, case_number, profile_id, status, summary, sensitive,"
                    " opened_at, updated_at) VALUES (:id, :id, 'us-tx', 'open', '', false,"
                    " '2025-03-03', '2025-03-03')"
                ),
                {"id": case},
            )
            connection.execute(
                text("UPDATE cases SET team = :team WHERE id = :id"), {"id": case, "team": team}
            )
            connection.execute(
                text(
                    "INSERT INTO human_tasks (id, instance_id, case_id, process_id, bpmn_id, name,"
                    " status, created_at, version) VALUES (:task, 'i', :id, 'p', 'b', 'n',"
                    " 'ready', '2025-03-03', 1)"
                ),
                {"task": f"t-{case}", "id": case},
            )

    schema.upgrade(engine)

    with engine.connect() as connection:
        teams = dict(connection.execute(text("SELECT id, team FROM human_tasks")).all())
    engine.dispose()
    assert teams == {"t-c1": "north", "t-c2": None}
