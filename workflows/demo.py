"""The demo agency that ``make run`` seeds (``demo_agency.json``): a team for each
jurisdiction with its supervisor and workers, a screener, a designer, an administrator, an
auditor, and a few reports. Passwords and API tokens are generated once and kept in the data
folder so the same credentials work on every start."""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from pathlib import Path
from typing import Any

from isodate import parse_duration
from werkzeug.security import generate_password_hash

from engine.cases.casefile import file_intake
from engine.context import Actor
from engine.errors import Conflict, EngineError
from engine.identity.users import NewUser, create_team, create_user, issue_token, load_principal
from engine.tasks.completion import complete
from engine.tasks.worklists import Worklist, worklist
from workflows.bootstrap import Services

SEEDER = Actor("setup", "administrator")
# The demo's teams, people and reports: data, so that the demo shows every jurisdiction the
# bundle has without the code naming one.
AGENCY = Path(__file__).with_name("demo_agency.json")


def seed(services: Services) -> list[dict[str, str]]:
    """Create the demo agency if it is not there; return everyone's credentials."""
    path = Path(services.settings.data_dir) / "demo-credentials.json"
    if path.exists():
        credentials: list[dict[str, str]] = json.loads(path.read_text())
        return credentials
    ctx = services.ctx
    agency = json.loads(AGENCY.read_text())
    for team in agency["teams"]:
        try:
            create_team(ctx, SEEDER, team["id"], team["name"], team["unit"])
        except Conflict:
            pass
    credentials = []
    for person in agency["people"]:
        password = secrets.token_urlsafe(9)
        try:
            create_user(
                ctx,
                SEEDER,
                NewUser(
                    person["id"],
                    person["name"],
                    person["roles"],
                    team_id=person.get("team"),
                    unit=person.get("unit"),
                    security_group=person.get("security_group", False),
                    password_hash=generate_password_hash(password),
                ),
            )
        except Conflict:
            continue
        token = issue_token(ctx, SEEDER, person["id"], "demo")
        credentials.append(
            {
                "user": person["id"],
                "roles": ",".join(person["roles"]),
                "password": password,
                "token": token,
            }
        )
    for filed in agency["reports"]:
        try:
            _seed_case(services, filed)
        except EngineError as exc:  # e.g. bpmn/ did not deploy: the accounts are still useful
            logging.getLogger(__name__).warning("demo case not seeded: %s", exc.message)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(credentials, indent=2))
    path.chmod(0o600)
    return credentials


def _seed_case(services: Services, filed: dict[str, Any]) -> None:
    """One report, and its first task answered when the demo says how (a duration such as
    "-PT2H" is that long before now)."""
    ctx = services.ctx
    filer = load_principal(ctx, filed["filed_by"])
    if filer is None:
        return
    opened = file_intake(ctx, filer, filed["report"])
    answers = filed.get("first_task_answers")
    if answers is None:
        return
    now = ctx.clock.now()
    answers = {
        key: (now + parse_duration(value)).isoformat()
        if isinstance(value, str) and value.startswith("-P")
        else value
        for key, value in answers.items()
    }
    tasks, _ = worklist(ctx, filer, Worklist(view="queue", case_id=opened.id))
    for task in tasks:
        complete(ctx, filer, uuid.UUID(task["id"]), answers)
