"""Access beyond the route-by-route matrix (test_route_access_matrix.py): credentials, changes
of role and team, revoked tokens, the team view, and the completion's shortcut."""

from __future__ import annotations

import itertools
import uuid

import pytest
from sqlalchemy import select, update

from engine.cases.opening import open_case
from engine.context import Actor
from engine.identity.access import readable_case, reads_as_assignee
from engine.identity.users import load_principal
from engine.storage.tables import Case, HumanTask, Team, User
from http_support import PEOPLE, Agency

OPENER = Actor("hotline-import", "intake_screener")

USERS = [person[0] for person in PEOPLE]


@pytest.fixture
def cases(agency: Agency) -> dict[str, uuid.UUID]:
    made = {}
    for name, team, worker, sensitive in (
        ("own", "north", "ivy", False),
        ("team", "north", "ian", False),
        ("foreign", "south", "zed", False),
        ("sensitive", "north", "ian", True),
    ):
        opened = open_case(
            agency.ctx,
            OPENER,
            {
                "profile_id": "us-tx",
                "team": team,
                "assigned_to": worker,
                "sensitive": sensitive,
                "people": [
                    {"ref": "c", "role": "child", "name": f"child of {name}"},
                    {"ref": "r", "role": "reporter", "name": "Rita"},
                ],
            },
        )
        made[name] = opened.id
    return made


def test_without_credentials_everything_is_401(agency: Agency, cases: dict[str, uuid.UUID]) -> None:
    for path in (
        "/api/v1/cases",
        f"/api/v1/cases/{cases['own']}",
        "/api/v1/tasks",
        "/api/v1/alerts",
        "/api/v1/me",
    ):
        assert agency.get(None, path).status_code == 401
    bogus = agency.client.get("/api/v1/cases", headers={"Authorization": "Bearer cw_not-a-token"})
    assert bogus.status_code == 401
    assert bogus.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_change_of_role_or_team_takes_effect_at_the_next_request(
    agency: Agency, cases: dict[str, uuid.UUID]
) -> None:
    """Access filters are kept per principal: a changed user is another principal, never
    served the filter of what they were."""
    assert agency.get("sue", f"/api/v1/cases/{cases['team']}").status_code == 200
    assert agency.get("ivy", f"/api/v1/cases/{cases['own']}").status_code == 200

    with agency.ctx.db.writer() as session:
        session.execute(update(Team).where(Team.id == "north").values(supervisor_id="sol"))
        session.execute(update(User).where(User.id == "ivy").values(roles=["auditor"]))
        session.commit()

    assert agency.get("sue", f"/api/v1/cases/{cases['team']}").status_code == 404
    assert agency.get("ivy", f"/api/v1/cases/{cases['own']}").status_code == 404


def test_a_revoked_token_stops_working(agency: Agency) -> None:
    from engine.identity.users import revoke_tokens

    assert agency.get("ivy", "/api/v1/me").status_code == 200
    revoke_tokens(agency.ctx, Actor("alex", "administrator"), "ivy")

    assert agency.get("ivy", "/api/v1/me").status_code == 401


def test_a_team_view_lists_the_teams_tasks_sensitive_ones_included_and_no_other_teams(
    agency: Agency,
) -> None:
    """A supervisor is in the chain of their team's sensitive cases (DOMAIN §5): its work
    waits in their team view too, and no other team's does."""
    opened = {}
    for name, team, sensitive in (
        ("north", "north", False),
        ("south", "south", False),
        ("north-sensitive", "north", True),
    ):
        data = {
            "profile_id": "us-tx",
            "team": team,
            "sensitive": sensitive,
            "people": [{"ref": "c", "role": "child", "name": f"child of {name}"}],
        }
        opened[name] = open_case(agency.ctx, OPENER, data, start_process="intake").id

    def listed(user: str) -> set[str]:
        items = agency.get(user, "/api/v1/tasks?view=team&per_page=200").json["items"]
        return {item["case_id"] for item in items}

    assert listed("sue") == {str(opened["north"]), str(opened["north-sensitive"])}
    assert listed("sol") == {str(opened["south"])}


@pytest.mark.parametrize("assigned", ["case", "task"])
def test_reading_as_assignee_never_allows_what_the_rules_refuse(
    agency: Agency, assigned: str
) -> None:
    """The completion's shortcut (no access query for the case's or the task's own worker)
    is a subset of ``visible_cases``, for every role, sensitive and screened-out cases too."""
    shortcuts = set()
    for user in USERS:
        principal = load_principal(agency.ctx, user)
        assert principal is not None
        for status, sensitive in itertools.product(
            ("investigation", "screened_out"), (False, True)
        ):
            data = {
                "profile_id": "us-tx",
                "team": "north",
                "sensitive": sensitive,
                "assigned_to": user if assigned == "case" else "nobody",
                "people": [{"ref": "c", "role": "child", "name": "Lia"}],
            }
            case_id = open_case(agency.ctx, OPENER, data, start_process="intake").id
            with agency.ctx.db.writer() as session:
                session.execute(update(Case).where(Case.id == case_id).values(status=status))
                if assigned == "task":
                    session.execute(
                        update(HumanTask).where(HumanTask.case_id == case_id).values(assignee=user)
                    )
                session.commit()
            with agency.ctx.db.reader() as session:
                case = session.get_one(Case, case_id)
                task = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id)).one()
                if reads_as_assignee(principal, case, task):
                    shortcuts.add((user, status, sensitive))
                    assert readable_case(session, principal, case_id) is case
    # The shortcut is taken where it should be: workers on their cases, sensitive ones too.
    assert {("ivy", "investigation", False), ("ivy", "investigation", True)} <= shortcuts
    assert not any(status == "screened_out" for _, status, _ in shortcuts)
