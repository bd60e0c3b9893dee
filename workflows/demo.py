"""The demo agency that ``make run`` seeds: one team, its supervisor and workers, a screener,
a designer, an administrator, an auditor. Passwords and API tokens are generated once and kept
in the data folder so the same credentials work on every start."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from werkzeug.security import generate_password_hash

from engine.context import Actor
from engine.errors import Conflict
from engine.identity import create_team, create_user, issue_token
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
    ctx = services.engine
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
                user_id,
                name,
                roles,
                team_id=team,
                unit="region-1",
                security_group=security,
                password_hash=generate_password_hash(password),
            )
        except Conflict:
            continue
        token = issue_token(ctx, SEEDER, user_id, "demo")
        credentials.append(
            {"user": user_id, "roles": ",".join(roles), "password": password, "token": token}
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(credentials, indent=2))
    path.chmod(0o600)
    return credentials
