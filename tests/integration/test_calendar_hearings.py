"""The court hearings of a person's cases reach their calendar feed beside their own due
dates: a hearing task someone else holds (by its due date) and a hearing date a form set, as
the designer's forms declare them (``x-casework-hearing``), naming the case by number only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import update

from conftest import DESIGNER, ROOT
from cps_cases import ATTORNEY, CASEWORKER, CpsCase, removed, texas
from engine.context import EngineContext
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import Deployment
from engine.notifications.calendar import calendar_of
from engine.storage.tables import Case, HumanTask

BASE = "https://casework.example"


@pytest.fixture
def cps(ctx: EngineContext) -> Deployment:
    ctx.clock.move_to(datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    return deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))


def events(ctx: EngineContext, user_id: str) -> dict[str, Any]:
    calendar = Calendar.from_ical(calendar_of(ctx, user_id, BASE))
    return {str(e["summary"]): e for e in calendar.walk("VEVENT")}


def worked_by(case: CpsCase, user_id: str) -> None:
    with case.ctx.db.writer() as session:
        session.execute(update(Case).where(Case.id == case.id).values(assigned_to=user_id))
        session.commit()


def test_the_caseworker_sees_the_hearings_of_her_case_and_the_attorney_his_tasks(
    ctx: EngineContext, cps: Deployment
) -> None:
    case = removed(ctx, texas(2025, 1, 10, 9, 0), [("Ana", "2016-04-04")])
    worked_by(case, CASEWORKER.id)
    hearing = case.task("adversary_hearing")
    with ctx.db.writer() as session:  # the attorney holds it
        session.execute(
            update(HumanTask).where(HumanTask.id == hearing.id).values(assignee=ATTORNEY.id)
        )
        session.commit()

    mine = events(ctx, CASEWORKER.id)
    title = f"Hearing by then: Full adversary hearing (case {case.number})"
    assert title in mine
    assert hearing.due_at is not None
    assert mine[title].decoded("dtend") == hearing.due_at
    assert str(mine[title]["url"]) == f"{BASE}/cases/{case.id}"
    assert all("Ana" not in summary for summary in mine)
    # The attorney holds it: it is in his feed once, as his task, not twice.
    his = events(ctx, ATTORNEY.id)
    assert f"Due: Full adversary hearing (case {case.number})" in his
    assert title not in his

    # A hearing set for a date by a form reaches both, as a day in the calendar.
    case.complete("adversary_hearing", {"held_on": case.on("2025-01-24")}, ATTORNEY)
    case.complete("record_adjudication", {"adjudication_on": case.on("2025-02-20")}, ATTORNEY)
    case.complete("set_permanency_goals", goals(), CASEWORKER)
    case.complete("schedule_permanency_hearing", {"hearing_on": "2025-09-06"}, ATTORNEY)
    set_for = f"Hearing: Permanency hearing (case {case.number})"
    mine = events(ctx, CASEWORKER.id)
    assert set_for in mine, sorted(mine)
    assert mine[set_for].decoded("dtstart") == date(2025, 9, 6)
    assert title not in mine  # held: no longer coming

    # Once the day has passed, it is no longer shown.
    case.at(texas(2025, 9, 8, 9))
    assert set_for not in events(ctx, CASEWORKER.id)


def test_a_hearing_field_that_is_not_a_date_is_refused_at_deploy() -> None:
    from engine.tasks.form_schemas import spec_problems

    form = {
        "type": "object",
        "x-casework-hearing": {"title": "Status hearing", "on": "notes"},
        "properties": {"notes": {"type": "string"}},
    }
    assert spec_problems(form) == [
        "x-casework-hearing: on names 'notes', which is not a date or date-time field of the form"
    ]
    assert spec_problems({"type": "object", "x-casework-hearing": {"on": "x"}}) == [
        'x-casework-hearing needs a "title"'
    ]


def goals() -> dict[str, Any]:
    return {
        "primary_goal": "REUNIFICATION",
        "concurrent_goal": "ADOPTION",
        "placed_with_relative": False,
        "compelling_reason_documented": True,
        "services_not_provided": False,
        "abandoned_or_felony_finding": False,
        "trial_home_visit_days": 0,
    }
