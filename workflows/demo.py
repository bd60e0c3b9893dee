"""The demo agency that ``make run`` seeds: one team, its supervisor and workers, a screener,
a designer, an administrator, an auditor. Passwords and API tokens are generated once and kept
in the data folder so the same credentials work on every start."""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from werkzeug.security import generate_password_hash

from engine.cases.casefile import file_intake
from engine.context import Actor
from engine.errors import Conflict, EngineError
from engine.identity.users import NewUser, create_team, create_user, issue_token, load_principal
from engine.tasks.completion import complete
from engine.tasks.worklists import Worklist, worklist
from workflows.bootstrap import Services

SEEDER = Actor("setup", "administrator")
PEOPLE = [
    ("sue.supervisor", "Sue Supervisor", ["supervisor", "intake_supervisor"], "north", False),
    ("ivy.investigator", "Ivy Investigator", ["investigator"], "north", False),
    ("ian.investigator", "Ian Investigator", ["investigator"], "north", False),
    ("cal.caseworker", "Cal Caseworker", ["ongoing_caseworker"], "north", False),
    ("amy.attorney", "Amy Attorney", ["attorney"], "north", False),
    ("sam.screener", "Sam Screener", ["intake_screener"], "north", False),
    ("pat.director", "Pat Director", ["program_director"], None, True),
    ("dana.designer", "Dana Designer", ["process_designer"], None, False),
    ("alex.admin", "Alex Admin", ["administrator"], None, False),
    ("olga.auditor", "Olga Auditor", ["auditor"], None, False),
]


def seed(services: Services) -> list[dict[str, str]]:
    """Create the demo agency if it is not there; return everyone's credentials."""
    path = Path(services.settings.data_dir) / "demo-credentials.json"
    if path.exists():
        credentials: list[dict[str, str]] = json.loads(path.read_text())
        return credentials
    ctx = services.ctx
    try:
        create_team(ctx, SEEDER, "north", "North investigations", "region-1")
    except Conflict:
        pass
    credentials = []
    for user_id, name, roles, team, security in PEOPLE:
        password = secrets.token_urlsafe(9)
        try:
            create_user(
                ctx,
                SEEDER,
                NewUser(
                    user_id,
                    name,
                    roles,
                    team_id=team,
                    unit="region-1",
                    security_group=security,
                    password_hash=generate_password_hash(password),
                ),
            )
        except Conflict:
            continue
        token = issue_token(ctx, SEEDER, user_id, "demo")
        credentials.append(
            {"user": user_id, "roles": ",".join(roles), "password": password, "token": token}
        )
    try:
        _seed_cases(services)
    except EngineError as exc:  # e.g. bpmn/ did not deploy: the accounts are still useful
        logging.getLogger(__name__).warning("demo cases not seeded: %s", exc.message)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(credentials, indent=2))
    path.chmod(0o600)
    return credentials


def _report(child: str, birth: str, summary: str, kind: str) -> dict[str, Any]:
    return {
        "team": "north",
        "summary": summary,
        "reporter": {"name": "Demo Reporter", "relationship": "teacher", "mandated": True},
        "children": [{"name": child, "birth_date": birth}],
        "caregivers": [{"name": f"Parent of {child.split()[0]}"}],
        "alleged_perpetrators": [{"name": "Demo Boyfriend", "relationship": "mother's partner"}],
        "allegations": [{"victim": 0, "perpetrator": 0, "type": kind, "narrative": summary}],
    }


def _seed_cases(services: Services) -> None:
    """Two reports so the pages are not empty: one screened in and waiting for an
    investigator's first contact, one waiting in the screener's queue."""
    ctx = services.ctx
    screener = load_principal(ctx, "sam.screener")
    if screener is None:
        return
    screened = file_intake(
        ctx, screener, _report("Lia Demo", "2022-01-05", "Bruises on a toddler's face", "PHAB")
    )
    tasks, _ = worklist(ctx, screener, Worklist(view="queue", case_id=screened.id))
    received = (ctx.clock.now() - timedelta(hours=2)).isoformat()
    for task in tasks:
        complete(
            ctx,
            screener,
            uuid.UUID(task["id"]),
            {
                "received_at": received,
                "channel": "phone",
                "narrative": "Teacher saw bruises on the cheek; mother's partner at home tonight",
                "screening": {"jurisdiction": "THIS"},
                "indicators": {"physical_abuse": True, "ap_access_24h": True},
                "reporter": {"name": "Demo Reporter", "anonymous": False},
            },
        )
    file_intake(
        ctx, screener, _report("Ben Demo", "2016-06-30", "Left alone overnight, age 9", "NSUP")
    )
