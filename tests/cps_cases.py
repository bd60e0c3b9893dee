"""Driving a case through the shipped CPS process (``bpmn/``) in tests: report, complete tasks
by their BPMN id, move the injected clock and let the timers and alerts fire."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.cases.opening import open_case
from engine.context import Actor, EngineContext
from engine.deadlines.timers import fire_due_timers
from engine.instances import stored
from engine.instances.messages import deliver_message
from engine.storage.tables import (
    Alert,
    AlertRecipient,
    Case,
    CasePerson,
    Deadline,
    HumanTask,
    ProcessInstance,
    ScheduledAlert,
)
from engine.tasks import queries
from engine.tasks.completion import complete_task

TEXAS = ZoneInfo("America/Chicago")
SCREENER = Actor("sam.screener", "intake_screener")
SUPERVISOR = Actor("sue.supervisor", "supervisor")
INVESTIGATOR = Actor("ivy.investigator", "investigator")
CASEWORKER = Actor("cal.caseworker", "ongoing_caseworker")
ATTORNEY = Actor("ada.attorney", "attorney")


def texas(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Texas wall-clock time as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=TEXAS).astimezone(UTC)


def end_of_texas_day(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 23, 59, 59, tzinfo=TEXAS).astimezone(UTC)


def report(received_at: datetime, **sections: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "received_at": received_at.isoformat(),
        "channel": "phone",
        "narrative": "reported by phone",
        "screening": {
            "jurisdiction": "THIS",
            "locatable": True,
            "meets_statutory_definition": True,
        },
        "indicators": {},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    return data


@dataclass
class CpsCase:
    ctx: EngineContext
    id: uuid.UUID
    number: str

    # -- tasks ----------------------------------------------------------------------------

    def tasks(self, bpmn_id: str | None = None) -> list[queries.TaskRow]:
        ready = queries.ready_tasks(self.ctx.db, case_id=self.id)
        return [t for t in ready if bpmn_id is None or t.bpmn_id == bpmn_id]

    def task(self, bpmn_id: str) -> queries.TaskRow:
        found = self.tasks(bpmn_id)
        assert len(found) == 1, (bpmn_id, [t.bpmn_id for t in self.tasks()])
        return found[0]

    def complete(self, bpmn_id: str, data: dict[str, Any], actor: Actor = INVESTIGATOR) -> None:
        complete_task(self.ctx, actor, self.task(bpmn_id).id, data)

    def complete_each(self, bpmn_id: str, data: dict[str, Any], actor: Actor = INVESTIGATOR) -> int:
        found = self.tasks(bpmn_id)
        for task in found:
            complete_task(self.ctx, actor, task.id, data)
        return len(found)

    def message(self, name: str, payload: Any, actor: Actor = ATTORNEY) -> None:
        deliver_message(self.ctx, actor, self.id, name, payload)

    # -- time -----------------------------------------------------------------------------

    def on(self, day: str) -> str:
        """A Texas date the work happens on: the clock moves to that day's noon if it is not
        there yet (a record refuses events dated in the future)."""
        year, month, date_ = map(int, day.split("-"))
        self.at(texas(year, month, date_, 12))
        return day

    def today(self) -> str:
        return self.ctx.clock.now().astimezone(TEXAS).date().isoformat()

    def at(self, instant: datetime) -> None:
        """Move the clock (forward only) and let every due timer and alert fire."""
        if instant > self.ctx.clock.now():
            self.ctx.clock.move_to(instant)  # type: ignore[attr-defined]
        report = fire_due_timers(self.ctx, worker="scenario")
        assert report.errors == [], report.errors

    def after(self, delta: timedelta) -> None:
        self.at(self.ctx.clock.now() + delta)

    # -- what the record says -------------------------------------------------------------

    def record(self) -> Case:
        with self.ctx.db.reader() as session:
            found = session.get(Case, self.id)
            assert found is not None
            return found

    def processes(self) -> dict[str, list[str]]:
        with self.ctx.db.reader() as session:
            rows = session.scalars(
                select(ProcessInstance).where(ProcessInstance.case_id == self.id)
            ).all()
        result: dict[str, list[str]] = {}
        # In the order they started; instances started in the same instant have no order of
        # their own, so the one still running comes last.
        for row in sorted(rows, key=lambda r: (r.created_at, r.status == "active")):
            result.setdefault(row.process_id, []).append(row.status)
        return result

    def deadline(self, deadline_id: str) -> Deadline:
        found = self.deadlines(deadline_id)
        assert len(found) == 1, (deadline_id, len(found))
        return found[0]

    def deadlines(self, deadline_id: str | None = None) -> list[Deadline]:
        with self.ctx.db.reader() as session:
            query = select(Deadline).where(Deadline.case_id == self.id)
            if deadline_id:
                query = query.where(Deadline.deadline_id == deadline_id)
            return list(session.scalars(query.order_by(Deadline.due_at)))

    def ladder(self, deadline_id: str) -> list[tuple[str, datetime, str]]:
        with self.ctx.db.reader() as session:
            rows = session.execute(
                select(ScheduledAlert.kind, ScheduledAlert.due_at, ScheduledAlert.status)
                .join(Deadline, Deadline.id == ScheduledAlert.deadline_row_id)
                .where(Deadline.case_id == self.id, Deadline.deadline_id == deadline_id)
                .order_by(ScheduledAlert.due_at)
            ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def alerts(self, deadline_id: str | None = None) -> list[tuple[str, str, list[str]]]:
        """(kind, deadline, recipient roles) in the order raised."""
        with self.ctx.db.reader() as session:
            query = select(Alert).where(Alert.case_id == self.id)
            if deadline_id:
                query = query.where(Alert.deadline_id == deadline_id)
            alerts = session.scalars(query.order_by(Alert.raised_at, Alert.kind)).all()
            return [
                (
                    a.kind,
                    a.deadline_id or "",
                    sorted(
                        session.scalars(
                            select(AlertRecipient.role).where(AlertRecipient.alert_id == a.id)
                        )
                    ),
                )
                for a in alerts
            ]

    def person_id(self, name: str) -> str:
        with self.ctx.db.reader() as session:
            found = session.scalar(
                select(CasePerson.id).where(CasePerson.case_id == self.id, CasePerson.name == name)
            )
        assert found is not None, name
        return str(found)

    def task_row(self, task_id: uuid.UUID) -> HumanTask:
        with self.ctx.db.reader() as session:
            found = session.get(HumanTask, task_id)
            assert found is not None
            return found


def open_report(
    ctx: EngineContext,
    children: list[tuple[str, str]],
    *,
    allegations: list[tuple[str, str]] | None = None,
    **extra: Any,
) -> CpsCase:
    """A case in us-tx with children (name, birth date), a mother and an alleged perpetrator,
    its intake started. ``allegations`` are (child name, Texas code) pairs."""
    people = [
        {"ref": name, "role": "child", "name": name, "birth_date": born} for name, born in children
    ]
    people += [
        {"ref": "mother", "role": "caregiver", "name": "Maria"},
        {"ref": "ap", "role": "alleged_perpetrator", "name": "Rob"},
    ]
    pairs = allegations or [(children[0][0], "PHAB")]
    data = {
        "profile_id": "us-tx",
        "team": "north",
        "assigned_to": "ivy.investigator",
        "people": people,
        "allegations": [{"victim": v, "perpetrator": "ap", "type": code} for v, code in pairs],
        **extra,
    }
    opened = open_case(ctx, SCREENER, data, start_process="intake")
    return CpsCase(ctx, opened.id, opened.case_number)


# -- the common paths -------------------------------------------------------------------------

NO_THREATS = {
    "threats": [],
    "in_home_interventions_sufficient": False,
    "protective_placement_agreed": False,
}


def contact(case: CpsCase, at: datetime) -> None:
    case.at(at)
    case.complete("first_contact", {"contact_at": at.isoformat(), "location": "child_residence"})


def interview_everyone(case: CpsCase) -> None:
    interview = {"interview": {"interviewed_on": case.today(), "summary": "seen and heard"}}
    assert case.complete_each("interview_child", interview) >= 1


UNSAFE = {
    "threats": ["serious_physical_harm_or_credible_threat"],
    "in_home_interventions_sufficient": False,
    "protective_placement_agreed": False,
}


def unsafe(case: CpsCase) -> None:
    """A serious threat nothing in the home controls, approved: the child is to be removed."""
    case.complete("assess_safety", UNSAFE)
    case.complete("approve_safety_assessment", {"approved": True}, SUPERVISOR)


def safe(case: CpsCase) -> None:
    case.complete("assess_safety", NO_THREATS)
    case.complete("approve_safety_assessment", {"approved": True}, SUPERVISOR)


def dispose(case: CpsCase, *findings: str) -> None:
    tasks = case.tasks("record_disposition")
    assert len(tasks) == len(findings)
    for task, finding in zip(tasks, findings, strict=True):
        complete_task(
            case.ctx,
            INVESTIGATOR,
            task.id,
            {"disposition": {"finding": finding, "rationale": "evidence reviewed"}},
        )


def assess_risk(case: CpsCase, level: str, **extra: Any) -> None:
    data = {
        "neglect_level": level,
        "abuse_level": "LOW",
        "policy_override": False,
        "discretionary_override": "NONE",
        "court_ordered_services": False,
        "family_left_jurisdiction": False,
        **extra,
    }
    case.complete("assess_risk", data)


def data_of(case: CpsCase, bpmn_id: str) -> dict[str, Any]:
    """The process data as the ready task ``bpmn_id`` sees it (read from the stored instance)."""
    task = case.task(bpmn_id)
    with case.ctx.db.reader() as session:
        instance = session.get(ProcessInstance, task.instance_id)
        record = session.get(Case, case.id)
        assert instance is not None and record is not None
        compiled = case.ctx.definitions.compiled(session, instance.version_id)
        definition = compiled.process(instance.process_id)
        profile = compiled.profile(record.profile_id)
        assert definition is not None and profile is not None
        workflow = stored.read_workflow(case.ctx, session, instance, definition, profile)
    return case.ctx.runtime.task_data(workflow, task.id)


def reported(ctx: EngineContext, received: datetime, children: list[tuple[str, str]],
             allegations: list[tuple[str, str]] | None = None, **sections: dict[str, Any]) -> CpsCase:  # fmt: skip
    case = open_report(ctx, children, allegations=allegations)
    case.at(received)
    case.complete("record_report", report(received, **sections))
    return case


def investigate_to_approval(
    case: CpsCase,
    contact_at: datetime,
    *,
    findings: tuple[str, ...],
    risk: str,
    threats: list[str] | None = None,
    plan_signed_on: str = "2025-03-05",
) -> None:
    """From the first contact to the supervisor's approval of the case action."""
    contact(case, contact_at)
    interview_everyone(case)
    if threats:
        case.complete(
            "assess_safety",
            {
                "threats": threats,
                "in_home_interventions_sufficient": True,
                "protective_placement_agreed": False,
            },
        )
        case.complete("approve_safety_assessment", {"approved": True}, SUPERVISOR)
        case.complete(
            "write_safety_plan",
            {
                "plan_signed_on": case.on(plan_signed_on),
                "actions": [{"action": "grandmother supervises", "responsible": "grandmother"}],
            },
        )
        case.complete("approve_safety_plan", {"approved": True}, SUPERVISOR)
        case.complete(
            "follow_up_safety_plan",
            {"outcome": "reassessed_safe", "reassessed_on": case.on("2025-03-20")},
        )
    else:
        safe(case)
    dispose(case, *findings)
    assess_risk(case, risk)


def open_quiet_case(ctx: EngineContext, children: list[tuple[str, str]]) -> CpsCase:
    """A us-tx case with no process running yet (later phases are started by messages)."""
    people = [{"ref": n, "role": "child", "name": n, "birth_date": b} for n, b in children]
    people.append({"ref": "mother", "role": "caregiver", "name": "Maria"})
    opened = open_case(
        ctx,
        SCREENER,
        {"profile_id": "us-tx", "team": "north", "assigned_to": "cal.caseworker", "people": people},
    )
    return CpsCase(ctx, opened.id, opened.case_number)


def removed(ctx: EngineContext, removal_at: datetime, children: list[tuple[str, str]]) -> CpsCase:
    case = open_quiet_case(ctx, children)
    case.at(removal_at)
    case.message(
        "removal_requested",
        {"removal_at": removal_at.isoformat(), "removal_type": "emergency_possession",
         "placement_type": "non_relative_foster"},
    )  # fmt: skip
    return case
