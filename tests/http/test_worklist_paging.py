"""Worklist pages and totals: across its pages a view holds every task it shows once, soonest
due first and undated last, and each page's total counts them. The team view counts its total
in a statement of its own (from indexes, on PostgreSQL); the other views in the page's."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, update

from engine.cases.opening import open_case
from engine.context import Actor
from engine.storage.tables import Case, HumanTask
from http_support import Agency

OPENER = Actor("hotline-import", "intake_screener")
# Hours until each plain case's task is due, out of the order the cases are opened in; None:
# no due date.
DUE_IN_HOURS = [30, 5, None, 12, 48, 1, 20]


def _open(agency: Agency, team: str, *, sensitive: bool = False) -> uuid.UUID:
    data = {
        "profile_id": "us-tx",
        "team": team,
        "sensitive": sensitive,
        "assigned_to": "zed" if team == "south" else "ian",
        "people": [{"ref": "c", "role": "child", "name": "Lia"}],
    }
    return open_case(agency.ctx, OPENER, data, start_process="intake").id


@pytest.fixture
def plain_south_cases(agency: Agency) -> list[uuid.UUID]:
    """Seven plain south cases, each with a ready task for zed, in the order their tasks are
    due; beside them what sol's team view must leave out: a screened-out south case, and
    north cases (a sensitive one too)."""
    now = agency.ctx.clock.now()
    plain = [_open(agency, "south") for _ in DUE_IN_HOURS]
    screened_out = _open(agency, "south")
    _open(agency, "north")
    _open(agency, "north", sensitive=True)
    with agency.ctx.db.writer() as session:
        for case_id, hours in zip(plain, DUE_IN_HOURS, strict=True):
            due = None if hours is None else now + timedelta(hours=hours)
            session.execute(
                update(HumanTask)
                .where(HumanTask.case_id == case_id)
                .values(due_at=due, assignee="zed")
            )
        session.execute(update(Case).where(Case.id == screened_out).values(status="screened_out"))
        session.commit()
    by_due = sorted(
        zip(plain, DUE_IN_HOURS, strict=True),
        key=lambda pair: float("inf") if pair[1] is None else pair[1],
    )
    return [case_id for case_id, _ in by_due]


def _pages(agency: Agency, user: str, view: str, per_page: int) -> tuple[list[str], set[int]]:
    """The case ids of every page in order, to the first empty one, and the totals seen."""
    listed: list[str] = []
    totals = set()
    for page in range(1, 20):
        response = agency.get(user, f"/api/v1/tasks?view={view}&per_page={per_page}&page={page}")
        assert response.status_code == 200
        totals.add(response.json["total"])
        items = response.json["items"]
        if not items:
            return listed, totals
        listed += [item["case_id"] for item in items]
    raise AssertionError("the pages never ran out")


@pytest.mark.parametrize("per_page", [3, 7, 50])
def test_a_team_views_pages_hold_each_task_once_soonest_due_first(
    agency: Agency, plain_south_cases: list[uuid.UUID], per_page: int
) -> None:
    listed, totals = _pages(agency, "sol", "team", per_page)

    assert listed == [str(case_id) for case_id in plain_south_cases]
    assert totals == {len(plain_south_cases)}


@pytest.mark.parametrize("per_page", [3, 50])
def test_my_worklists_pages_count_the_same_way(
    agency: Agency, plain_south_cases: list[uuid.UUID], per_page: int
) -> None:
    listed, totals = _pages(agency, "zed", "mine", per_page)

    assert listed == [str(case_id) for case_id in plain_south_cases]
    assert totals == {len(plain_south_cases)}


def test_a_teams_total_agrees_with_its_page_while_tasks_are_completed_in_between(
    agency: Agency, plain_south_cases: list[uuid.UUID]
) -> None:
    """The team view counts in a statement after its page's: a completion committed between
    the two must not make the total disagree with the page (one snapshot for both)."""
    engine = agency.ctx.db.reader.kw["bind"]  # SQLite's readers have an engine of their own
    done: list[str] = []

    def complete_two_behind_the_readers_back(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT count(*)") and not done:
            done.append(statement)
            with agency.ctx.db.writer() as session:
                session.execute(
                    update(HumanTask)
                    .where(HumanTask.case_id.in_(plain_south_cases[:2]))
                    .values(status="completed")
                )
                session.commit()

    event.listen(engine, "before_cursor_execute", complete_two_behind_the_readers_back)
    try:
        response = agency.get("sol", "/api/v1/tasks?view=team&per_page=3")
    finally:
        event.remove(engine, "before_cursor_execute", complete_two_behind_the_readers_back)

    assert done, "the count ran"
    assert len(response.json["items"]) == 3
    assert response.json["total"] == len(plain_south_cases)
