"""Databases built once per test session and copied for each test, instead of migrating and
deploying for every one: the migrated schema, and the agency (the shipped bundle deployed,
teams north and south, the people of ``http_support.PEOPLE`` with passwords and API tokens).

On SQLite a test gets a copy of the template's file; on PostgreSQL (one schema, migrated once)
the tables are emptied and the agency's rows put back, in the order their keys need.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, text
from werkzeug.security import generate_password_hash

from engine.clock import ManualClock
from engine.context import EngineContext
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import DefinitionRegistry
from engine.identity.users import NewUser, create_team, create_user, issue_token
from engine.spiff.runtime import Runtime
from engine.storage import schema
from engine.storage.db import Database, connect
from engine.storage.tables import Base
from http_support import PEOPLE, SETUP, password_of

ROOT = Path(__file__).resolve().parent.parent
# When the agency was set up: the HTTP and browser tests' clocks start here.
# The afternoon of the report the tests record (received 15:15 UTC): what they enter has happened.
AGENCY_SET_UP_AT = datetime(2025, 3, 3, 21, 0, tzinfo=UTC)


@dataclass
class Templates:
    folder: Path
    postgres: Database | None
    tokens: dict[str, str] = field(default_factory=dict)
    _migrated: Path | None = None
    _agency: Path | None = None
    _agency_rows: dict[Table, list[dict[str, Any]]] | None = None

    def fresh(self, tmp_path: Path, *, with_agency: bool) -> str:
        """A database for one test: empty and migrated, or holding the agency."""
        if self.postgres is not None:
            return self._fresh_postgres(with_agency)
        source = self._agency_file() if with_agency else self._migrated_file()
        target = tmp_path / "casework.sqlite3"
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"

    # -- SQLite: files ----------------------------------------------------------------------

    def _migrated_file(self) -> Path:
        if self._migrated is None:
            path = self.folder / "migrated.sqlite3"
            db = connect(f"sqlite:///{path}")
            schema.upgrade(db.engine)
            db.dispose()  # the last connection closed: the WAL is folded into the file
            self._migrated = path
        return self._migrated

    def _agency_file(self) -> Path:
        if self._agency is None:
            path = self.folder / "agency.sqlite3"
            shutil.copyfile(self._migrated_file(), path)
            db = connect(f"sqlite:///{path}")
            self.tokens = set_up_agency(db)
            db.dispose()
            self._agency = path
        return self._agency

    # -- PostgreSQL: rows -------------------------------------------------------------------

    def _fresh_postgres(self, with_agency: bool) -> str:
        assert self.postgres is not None
        rows = self._agency_rows_once() if with_agency else {}
        self._empty(self.postgres)
        if rows:
            with self.postgres.engine.begin() as connection:
                for table, table_rows in rows.items():
                    connection.execute(table.insert(), table_rows)
        return str(self.postgres.engine.url.render_as_string(hide_password=False))

    def _agency_rows_once(self) -> dict[Table, list[dict[str, Any]]]:
        assert self.postgres is not None
        if self._agency_rows is None:
            self._empty(self.postgres)
            url = self.postgres.engine.url.render_as_string(hide_password=False)
            db = connect(url)
            self.tokens = set_up_agency(db)
            db.dispose()
            self._agency_rows = {}
            with self.postgres.engine.connect() as connection:
                for table in Base.metadata.sorted_tables:
                    serial = table.autoincrement_column
                    order = [serial] if serial is not None else list(table.primary_key)
                    found = [
                        {
                            k: v
                            for k, v in row._mapping.items()
                            if serial is None or k != serial.name
                        }
                        for row in connection.execute(table.select().order_by(*order))
                    ]
                    if found:
                        # Serial keys are left out: emptied with RESTART IDENTITY, the table
                        # gives the same rows the same numbers again, in the same order.
                        self._agency_rows[table] = found
        return self._agency_rows

    @staticmethod
    def _empty(db: Database) -> None:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def set_up_agency(db: Database) -> dict[str, str]:
    """The agency on a migrated database: returns each person's API token."""
    clock = ManualClock(AGENCY_SET_UP_AT)
    ctx = EngineContext(db, Runtime(clock, cpu_seconds=1.0), DefinitionRegistry(), clock)
    deploy_bundle(ctx, SETUP, read_bundle([ROOT / "bpmn"]))
    create_team(ctx, SETUP, "north", "North", "region-1")
    create_team(ctx, SETUP, "south", "South", "region-2")
    tokens = {}
    for user, roles, team, unit, security in PEOPLE:
        create_user(
            ctx,
            SETUP,
            NewUser(
                user,
                user.title(),
                roles,
                team_id=team,
                unit=unit,
                security_group=security,
                password_hash=generate_password_hash(password_of(user)),
            ),
        )
        tokens[user] = issue_token(ctx, SETUP, user)
    return tokens
