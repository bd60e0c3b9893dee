"""Every role x every case endpoint x own / team / foreign / sensitive case: allowed or refused
(a refused read is 404, so a case's existence does not leak), and the role-only endpoints."""

from __future__ import annotations

import itertools
import uuid

import pytest
from sqlalchemy import select, update

from engine.access import readable_case, reads_as_assignee
from engine.cases import open_case
from engine.context import Actor
from engine.identity import load_principal
from engine.tables import Case, HumanTask, Team, User
from http_support import Agency

OPENER = Actor("hotline-import", "intake_screener")

# Which cases each user may read. own: assigned to ivy (north); team: assigned to ian (north);
# foreign: assigned to zed (south); sensitive: north, assigned to ian, marked sensitive.
VISIBLE = {
    "sam": set(),  # intake staff: none of these is in intake or theirs
    "sue": {"own", "team"},  # north supervisor; not the security group
    "ivy": {"own"},
    "ian": {"team", "sensitive"},  # assignee of the sensitive case too
    "cal": set(),
    "amy": set(),
    "zed": {"foreign"},
    "sol": {"foreign"},  # south supervisor
    "pat": {"own", "team"},  # program director of region-1 (north)
    "sec": {"sensitive"},  # an investigator with no case of their own, in the security group
    "dana": set(),
    "alex": set(),
    "olga": set(),
}
READS = ["", "/people", "/allegations", "/timeline", "/contacts", "/position", "/tasks"]
CONTACT = {
    "occurred_at": "2025-03-03T16:00:00+00:00",
    "type": "phone",
    "location": "office",
    "narrative": "called the school",
}


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


@pytest.mark.parametrize("user", sorted(VISIBLE))
def test_case_reads_and_writes_follow_the_record_level_rules(
    agency: Agency, cases: dict[str, uuid.UUID], user: str
) -> None:
    for name, case_id in cases.items():
        allowed = name in VISIBLE[user]
        for suffix in READS:
            response = agency.get(user, f"/api/v1/cases/{case_id}{suffix}")
            assert response.status_code == (200 if allowed else 404), (user, name, suffix)
            if not allowed:
                assert response.json["code"] == "not_found"
        write = agency.post(user, f"/api/v1/cases/{case_id}/contacts", CONTACT)
        assert write.status_code == (201 if allowed else 404), (user, name, "contact")
    listed = {item["id"] for item in agency.get(user, "/api/v1/cases?per_page=200").json["items"]}
    assert listed == {str(cases[n]) for n in VISIBLE[user]}, user


ROLE_ENDPOINTS = [
    ("get", "/api/v1/audit", {"olga"}),
    ("get", "/api/v1/caseload", {"sue", "sol", "pat"}),
    ("get", "/api/v1/definitions", {"dana", "alex", "sue", "sol", "pat"}),
    ("get", "/api/v1/tasks?view=team", {"sue", "sol", "pat"}),
]


@pytest.mark.parametrize(
    ("method", "path", "allowed"), ROLE_ENDPOINTS, ids=[p for _, p, _ in ROLE_ENDPOINTS]
)
def test_role_only_endpoints(agency: Agency, method: str, path: str, allowed: set[str]) -> None:
    for user in VISIBLE:
        response = agency.get(user, path)
        assert response.status_code == (200 if user in allowed else 403), (user, path)


def test_filing_a_report_needs_an_intake_role(agency: Agency) -> None:
    report = {
        "children": [{"name": "Lia"}],
        "allegations": [{"victim": 0, "perpetrator": None, "type": "NSUP"}],
    }
    for user in VISIBLE:
        response = agency.post(user, "/api/v1/intakes", report)
        assert response.status_code == (201 if user in {"sam", "sue"} else 403), user


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
    from engine.identity import revoke_tokens

    assert agency.get("ivy", "/api/v1/me").status_code == 200
    revoke_tokens(agency.ctx, Actor("alex", "administrator"), "ivy")

    assert agency.get("ivy", "/api/v1/me").status_code == 401


def test_a_team_view_lists_the_teams_tasks_and_no_other_teams_or_unseen_sensitive_ones(
    agency: Agency,
) -> None:
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

    assert listed("sue") == {str(opened["north"])}
    assert listed("sol") == {str(opened["south"])}


@pytest.mark.parametrize("assigned", ["case", "task"])
def test_reading_as_assignee_never_allows_what_the_rules_refuse(
    agency: Agency, assigned: str
) -> None:
    """The completion's shortcut (no access query for the case's or the task's own worker)
    is a subset of ``visible_cases``, for every role, sensitive and screened-out cases too."""
    shortcuts = set()
    for user in VISIBLE:
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
