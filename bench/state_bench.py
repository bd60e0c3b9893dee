"""A state-size data set: an agency ten years old, and the pages and API calls people use on it.

    .venv/bin/python bench/state_bench.py --postgres URL --cases 30000 [300000 ...]
        [--samples 200] [--keep]

For each size (smallest first, in the same database, emptied each time):

1. Drives a few real cases through the shipped process (bpmn/) with the engine and an injected
   clock, one per stage a case can be in: screened out; investigated and closed; served at
   home and closed; waiting for intake, for a first contact; being investigated; receiving
   in-home services; a child in substitute care for months (monthly visits, reviews,
   hearings, contacts). Their rows in every table (tasks, timers, deadlines, alert ladders,
   alerts, contacts, record entries, audit rows, outbox events, notifications…) are the
   templates: their counts per case are printed, and they are the ratios of the data set.
2. Clones the templates in SQL (INSERT … SELECT, table by table, in chunks, with a progress
   line) into N cases: new ids (each id of a template row maps to one new id per clone, so the
   rows keep pointing at each other, and an open case's engine state names its new case, tasks
   and people: completing a task of a clone runs the engine), dates shifted so that closed cases
   spread over ten years and open ones end about now, 50 teams of 20 (a supervisor, screeners,
   investigators, ongoing caseworkers, attorneys: 1,000 workers), 5 units with a program
   director each, people named per family and a family in more than one case (its people
   share a person key). Secondary indexes and foreign keys are dropped during the load and
   made again after it, then VACUUM ANALYZE (as autovacuum leaves tables in steady use).
3. Starts `casework serve` (gunicorn, 2 workers) and measures, with real users' tokens, one
   request at a time: my worklist (investigators, caseworkers), the team view (supervisors), the
   case file (a supervisor's cases, open and closed), person search (a full name, by a program
   director), the caseload dashboard (supervisors), the federal measures (a program director's
   caseload: the unit's measures), the audit trail filtered by case (an auditor), and a
   completion (an investigator's first contact on a generated case).

Prints the machine, the build time and p50/p95/p99 per figure per size, then each figure's ratio
from the smallest size to the largest against the targets: worklist p95 < 20 ms, case page p95 <
50 ms, person search p95 < 100 ms, measures < 1 s, every figure within 1.2x between sizes. The
clients share the machine's cores with the server and the database: the figures are a floor.
The database is emptied; with --keep the largest data set stays in it.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import requests
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import cps_cases as cc  # noqa: E402  (the tests' drivers of the shipped process)
from engine.cases.casefile import file_intake, record_contact  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.context import Actor, EngineContext  # noqa: E402
from engine.definitions.bundle import read_bundle  # noqa: E402
from engine.definitions.deployments import deploy_bundle  # noqa: E402
from engine.definitions.versions import DefinitionRegistry  # noqa: E402
from engine.identity.users import (  # noqa: E402
    NewUser,
    create_team,
    create_user,
    issue_token,
    load_principal,
)
from engine.spiff.runtime import Runtime  # noqa: E402
from engine.storage import schema  # noqa: E402
from engine.storage.db import connect  # noqa: E402
from engine.tasks.completion import complete_task  # noqa: E402

SETUP = Actor("setup", "administrator")
PORT = 8766
TEAMS = 50
UNITS = 5
# Per team of 20: what the template's people become.
TEAM_SHAPE = {
    "supervisor": 1,
    "intake_screener": 2,
    "investigator": 8,
    "ongoing_caseworker": 6,
    "attorney": 3,
}
TEMPLATE_USERS = {
    "sue.supervisor": "supervisor",
    "sam.screener": "intake_screener",
    "ivy.investigator": "investigator",
    "cal.caseworker": "ongoing_caseworker",
    "ada.attorney": "attorney",
}
TEMPLATE_TEAM = "north"
YEARS = 10
NOW = datetime.now(UTC).replace(microsecond=0)
DRIVEN_TO = NOW

# -- 1. templates: real cases driven through the shipped process ------------------------------

FIRST = [
    "Ana",
    "Ben",
    "Lia",
    "Eli",
    "Mia",
    "Noah",
    "Ava",
    "Liam",
    "Zoe",
    "Omar",
    "Ivy",
    "Leo",
    "Maya",
    "Sam",
    "Nia",
    "Kai",
    "Ruby",
    "Theo",
    "Aria",
    "Jude",
    "Isla",
    "Finn",
    "Lola",
    "Ezra",
    "Rosa",
    "Luis",
    "Emma",
    "Jack",
    "Nora",
    "Owen",
    "Amir",
    "Sara",
    "Hugo",
    "Elsa",
    "Ivan",
    "Jana",
    "Tariq",
    "Dana",
    "Rob",
    "Maria",
]
SYLLABLES = (
    [
        "Ab",
        "Bel",
        "Car",
        "Dor",
        "El",
        "Fen",
        "Gar",
        "Hol",
        "Ir",
        "Jas",
        "Kel",
        "Lan",
        "Mor",
        "Nor",
        "Ost",
        "Pel",
        "Quin",
        "Ros",
        "Sal",
        "Tor",
        "Ul",
        "Val",
        "Wes",
        "Yar",
    ],
    [
        "a",
        "e",
        "i",
        "o",
        "u",
        "ar",
        "en",
        "il",
        "on",
        "ur",
        "an",
        "el",
        "in",
        "or",
        "us",
        "ay",
        "ey",
        "ow",
        "ai",
        "ea",
        "io",
        "ue",
        "ya",
        "eo",
    ],
    ["son", "ford", "ley", "man", "ton", "wick", "berg", "ski", "ez", "ini", "ova", "sen"],
)


def contact_logged(case: cc.CpsCase, worker: Any, kind: str = "face_to_face") -> None:
    record_contact(
        case.ctx,
        worker,
        case.id,
        {
            "occurred_at": case.ctx.clock.now().isoformat(),
            "type": kind,
            "location": "child_residence",
            "narrative": "saw the children; the home was safe",
        },
    )


@dataclass
class Drive:
    """A template's stage, the share of the agency's cases in it, and whether it is open."""

    stage: str
    share: float
    open: bool
    drive: Callable[[EngineContext, dict[str, Any]], cc.CpsCase]
    case: cc.CpsCase | None = None


def filed(
    ctx: EngineContext, people: dict[str, Any], children: int, adult: bool = False
) -> cc.CpsCase:
    """A hotline report through the intake form (an adult "child" is screened out)."""
    screener = people["sam.screener"]
    year = ctx.clock.now().year
    kids = [
        {"name": f"Child {i}", "birth_date": f"{year - (19 if adult else 3 + 4 * i)}-0{i + 3}-1{i}"}
        for i in range(children)
    ]
    report = {
        "team": TEMPLATE_TEAM,
        "profile_id": "us-tx",
        "summary": "bruises seen at school",
        "reporter": {"name": "Rita Reporter", "relationship": "teacher", "mandated": True},
        "children": kids,
        "caregivers": [{"name": "Maria"}],
        "alleged_perpetrators": [{"name": "Rob", "relationship": "mother's partner"}],
        "allegations": [
            {"victim": i, "perpetrator": 0, "type": "PHAB", "narrative": "bruises"}
            for i in range(children)
        ],
    }
    opened = file_intake(ctx, screener, report)
    return cc.CpsCase(ctx, opened.id, opened.case_number)


def screened(case: cc.CpsCase, **indicators: bool) -> None:
    now = case.ctx.clock.now()
    case.complete(
        "record_report", cc.report(now - timedelta(hours=1), indicators=indicators), cc.SCREENER
    )


def investigated(case: cc.CpsCase, people: dict[str, Any], *, finding: str, risk: str) -> None:
    case.after(timedelta(hours=6))
    cc.contact(case, case.ctx.clock.now())
    contact_logged(case, people["ivy.investigator"], "attempt")
    case.after(timedelta(days=2))
    cc.interview_everyone(case)
    cc.safe(case)
    case.after(timedelta(days=12))
    contact_logged(case, people["ivy.investigator"])
    cc.dispose(case, *[finding] * len(case.tasks("record_disposition")))
    cc.assess_risk(case, risk)
    case.after(timedelta(days=5))


def closed_after_investigation(case: cc.CpsCase) -> None:
    case.complete(
        "approve_disposition",
        {
            "approved": True,
            "case_action_final": "CLOSE",
            "service_type_final": "NONE",
            "closure_reason": "allegations ruled out, risk moderate",
            "community_referral": "",
        },
        cc.SUPERVISOR,
    )
    closing(case)


def closing(case: cc.CpsCase) -> None:
    case.after(timedelta(days=2))
    case.complete(
        "approve_closure", {"closure_approved": True, "closing_summary": "risk low"}, cc.SUPERVISOR
    )
    case.after(timedelta(days=5))
    case.complete("family_closure_meeting", {"held_on": case.today()}, cc.CASEWORKER)
    assert case.record().status == "closed", case.processes()


def into_services(case: cc.CpsCase, people: dict[str, Any]) -> None:
    investigated(case, people, finding="RTB", risk="HIGH")
    case.complete(
        "approve_disposition",
        {
            "approved": True,
            "case_action_final": "OPEN",
            "service_type_final": "IN_HOME",
            "closure_reason": "",
            "community_referral": "",
        },
        cc.SUPERVISOR,
    )
    case.after(timedelta(days=1))
    case.complete(
        "notify_findings", {"notice_delivered_on": case.today(), "method": "certified_mail"}
    )
    case.after(timedelta(days=6))
    case.complete("ten_day_contacts", {"contacts_completed_on": case.today()}, cc.CASEWORKER)
    case.after(timedelta(days=10))
    case.complete(
        "family_plan",
        {
            "goals": ["safe supervision"],
            "parent_actions": "attend parenting classes",
            "signed_on": case.today(),
        },
        cc.CASEWORKER,
    )
    case.complete("approve_family_plan", {"approved": True}, cc.SUPERVISOR)
    for _ in range(4):  # two months of contacts
        case.after(timedelta(days=14))
        contact_logged(case, people["cal.caseworker"])


def served_and_closed(case: cc.CpsCase, people: dict[str, Any]) -> None:
    into_services(case, people)
    case.complete("monitor_services", {"progress": "classes attended"}, cc.CASEWORKER)
    case.complete(
        "reassess_risk", {"reassessed_risk": "LOW", "unresolved_threats": False}, cc.CASEWORKER
    )
    closing(case)


VISITS = {
    "record_visit": {"visited_on": None, "location": "child_residence", "child_seen_alone": True},
    "hold_periodic_review": {"reviewed_on": None},
    "hold_permanency_hearing": {
        "hearing_held_on": None,
        "final_order": False,
        "parental_rights_terminated": False,
    },
    "initial_permanency_hearing": {
        "hearing_held_on": None,
        "final_order": False,
        "parental_rights_terminated": False,
    },
    "obtain_tmc_order": {"tmc_order_on": None},
}


def in_care(ctx: EngineContext, people: dict[str, Any], months: int) -> cc.CpsCase:
    """A removal (the court's order), then months of visits, reviews, hearings and contacts as
    bench/case_lifetime_bench.py answers them; other work is left to go overdue, as some does."""
    case = filed(ctx, people, 2)
    screened(case, physical_abuse=True, ap_access_24h=True)
    case.after(timedelta(hours=4))
    cc.contact(case, ctx.clock.now())
    case.message(
        "removal_requested",
        {
            "removal_at": ctx.clock.now().isoformat(),
            "removal_type": "court_order",
            "placement_type": "relative_kinship",
        },
    )
    end = ctx.clock.now() + timedelta(days=30 * months)
    while ctx.clock.now() < end:
        case.after(timedelta(days=5))
        today = case.today()
        for task in case.tasks():
            answer = VISITS.get(task.bpmn_id)
            if answer is None or (task.due_at and task.due_at - ctx.clock.now() > timedelta(7)):
                continue
            data = {k: (today if v is None else v) for k, v in answer.items()}
            complete_task(ctx, cc.CASEWORKER, task.id, data)
        if ctx.clock.now().day <= 5 or 15 < ctx.clock.now().day <= 20:
            contact_logged(case, people["cal.caseworker"])
    return case


def stages() -> list[Drive]:
    """The agency's cases by stage (shares of all cases, ten years of them): most reports
    end at intake or after an investigation; a few cases are open at any time."""

    def screened_out(ctx: EngineContext, p: dict[str, Any]) -> cc.CpsCase:
        case = filed(ctx, p, 1, adult=True)
        case.complete(
            "record_report", {**cc.report(ctx.clock.now()), "narrative": "no concern"}, cc.SCREENER
        )
        case.after(timedelta(hours=3))
        case.complete(
            "approve_screening",
            {"approved": True, "screen_in_instead": False, "review_notes": "adult only"},
            cc.SUPERVISOR,
        )
        assert case.record().status == "screened_out", case.processes()
        return case

    def ruled_out(children: int) -> Callable[[EngineContext, dict[str, Any]], cc.CpsCase]:
        def drive(ctx: EngineContext, p: dict[str, Any]) -> cc.CpsCase:
            case = filed(ctx, p, children)
            screened(case, physical_abuse=True)
            investigated(case, p, finding="RO", risk="MODERATE")
            closed_after_investigation(case)
            return case

        return drive

    def served(ctx: EngineContext, p: dict[str, Any]) -> cc.CpsCase:
        case = filed(ctx, p, 2)
        screened(case, physical_abuse=True)
        served_and_closed(case, p)
        return case

    def in_care_closed(ctx: EngineContext, p: dict[str, Any]) -> cc.CpsCase:
        # Years in care end by court order: the long history is what counts here.
        case = in_care(ctx, p, 14)
        case.message(
            "closure_requested", {"reason": "child returned home", "court_involved": False}
        )
        closing(case)
        return case

    def waiting_intake(ctx: EngineContext, p: dict[str, Any]) -> cc.CpsCase:
        return filed(ctx, p, 1)

    def waiting_contact(ctx: EngineContext, p: dict[str, Any]) -> cc.CpsCase:
        case = filed(ctx, p, 2)
        screened(case, physical_abuse=True)
        return case

    def investigating(ctx: EngineContext, p: dict[str, Any]) -> cc.CpsCase:
        case = filed(ctx, p, 2)
        screened(case, physical_abuse=True)
        case.after(timedelta(hours=6))
        cc.contact(case, ctx.clock.now())
        case.after(timedelta(days=2))
        cc.interview_everyone(case)
        return case

    def in_home(ctx: EngineContext, p: dict[str, Any]) -> cc.CpsCase:
        case = filed(ctx, p, 2)
        screened(case, physical_abuse=True)
        into_services(case, p)
        return case

    return [
        # closed (most of ten years' cases)
        Drive("screened out", 0.30, False, screened_out),
        Drive("investigated, ruled out, closed (1 child)", 0.24, False, ruled_out(1)),
        Drive("investigated, ruled out, closed (3 children)", 0.12, False, ruled_out(3)),
        Drive("in-home services, closed", 0.12, False, served),
        Drive("substitute care 14 months, closed", 0.06, False, in_care_closed),
        # open (driven last, so that they end about now)
        Drive("substitute care, open 8 months", 0.05, True, lambda c, p: in_care(c, p, 8)),
        Drive("in-home services, open", 0.05, True, in_home),
        Drive("investigation under way", 0.03, True, investigating),
        Drive("waiting for a first contact", 0.02, True, waiting_contact),
        Drive("waiting for intake", 0.01, True, waiting_intake),
    ]


def drive_templates(url: str) -> tuple[list[Drive], float]:
    db = connect(url)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    schema.upgrade(db.engine)
    drives = stages()
    # The open stages end about now: the longest starts 8 months (and some days) ago.
    open_span = timedelta(days=8 * 30 + 30)
    closed_span = timedelta(days=1200)
    clock = ManualClock(NOW - open_span - closed_span)
    ctx = EngineContext(db, Runtime(clock), DefinitionRegistry(), clock)
    started = time.perf_counter()
    deploy_bundle(ctx, SETUP, read_bundle([ROOT / "bpmn"]))
    create_team(ctx, SETUP, TEMPLATE_TEAM, "North (templates)", "region-0")
    for user, role in TEMPLATE_USERS.items():
        roles = [role, "intake_supervisor"] if role == "supervisor" else [role]
        create_user(ctx, SETUP, NewUser(user, user, roles, team_id=TEMPLATE_TEAM, unit="region-0"))
    people = {user: load_principal(ctx, user) for user in TEMPLATE_USERS}
    for drive in drives:
        if drive.open and clock.now() < NOW - open_span:
            clock.move_to(NOW - open_span)
        clock.advance(timedelta(days=3))
        drive.case = drive.drive(ctx, people)
    global DRIVEN_TO
    DRIVEN_TO = clock.now()
    db.dispose()
    return drives, time.perf_counter() - started


# -- 2. the clone --------------------------------------------------------------------------

# Tables a case's rows are in, in the order they are loaded, and how a row finds its case.
CASE_TABLES: dict[str, str] = {
    "cases": "t.id",
    "case_people": "t.case_id",
    "allegations": "t.case_id",
    "process_instances": "t.case_id",
    "finished_tasks": "t.case_id",
    "human_tasks": "t.case_id",
    "timers": "t.case_id",
    "awaited_messages": "t.case_id",
    "deadlines": "t.case_id",
    "scheduled_alerts": "(SELECT d.case_id FROM deadlines d WHERE d.id = t.deadline_row_id)",
    "alerts": "t.case_id",
    "alert_recipients": "(SELECT a.case_id FROM alerts a WHERE a.id = t.alert_id)",
    "record_entries": "t.case_id",
    "contacts": "t.case_id",
    "task_comments": "t.case_id",
    "referrals": "t.case_id",
    "documents": "t.case_id",
    "incidents": "t.case_id",
    "notifications": "t.case_id",
    "audit_events": "t.case_id",
    "outbox_events": "t.case_id",
}
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def new_id(expr: str) -> str:
    """The clone's id for a template id: one per (id, clone), the same in every table."""
    return f"md5({expr}::text || ':' || s.n::text)::uuid"


def sql_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class Template:
    columns: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # table -> case id -> rows
    mapped: set[str] = field(default_factory=set)  # template ids that get a new id per clone
    uuid_policy: dict[tuple[str, str], str] = field(default_factory=dict)
    users_in: set[tuple[str, str]] = field(default_factory=set)  # (table, column) naming users
    state_ids: dict[str, list[str]] = field(default_factory=dict)  # active instance -> ids
    body_ids: dict[str, list[str]] = field(default_factory=dict)  # instance -> ids


def read_templates(conn: psycopg.Connection[Any], drives: list[Drive]) -> Template:
    """What the driven cases wrote: the columns of each table, rows per case, which ids are
    the templates' own (they get a new id per clone), which columns name users."""
    tpl = Template()
    case_ids = [str(d.case.id) for d in drives if d.case is not None]
    for table, link in CASE_TABLES.items():
        tpl.columns[table] = [
            (name, kind, (default or "").startswith("nextval"))
            for name, kind, default in conn.execute(
                "SELECT column_name, data_type, column_default FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                (table,),
            )
        ]
        if not tpl.columns[table]:  # not in this schema
            tpl.counts[table] = Counter()
            continue
        tpl.counts[table] = Counter(
            str(case)
            for (case,) in conn.execute(
                f"SELECT {link} FROM {table} t WHERE {link} = ANY(%s::uuid[])", (case_ids,)
            )
        )
        if any(n == "id" and k == "uuid" for n, k, _ in tpl.columns[table]):
            tpl.mapped |= {
                str(i)
                for (i,) in conn.execute(
                    f"SELECT t.id FROM {table} t WHERE {link} = ANY(%s::uuid[])", (case_ids,)
                )
            }
    tpl.mapped |= {
        str(k)
        for (k,) in conn.execute(
            "SELECT person_key FROM case_people WHERE person_key IS NOT NULL "
            "AND case_id = ANY(%s::uuid[])",
            (case_ids,),
        )
    }
    for table, link in CASE_TABLES.items():
        for name, kind, _ in tpl.columns[table]:
            if (table, name) == ("finished_tasks", "body"):
                continue
            values = [
                v
                for (v,) in conn.execute(
                    f"SELECT DISTINCT t.{name}::text FROM {table} t "
                    f"WHERE {link} = ANY(%s::uuid[]) AND t.{name} IS NOT NULL",
                    (case_ids,),
                )
            ]
            if kind == "uuid":
                inside = {v in tpl.mapped for v in values}
                tpl.uuid_policy[(table, name)] = (
                    "mixed" if inside == {True, False} else "map" if True in inside else "keep"
                )
            elif kind in ("character varying", "text", "jsonb") and name != "state":
                if any(u in v for v in values for u in [*TEMPLATE_USERS, f'"{TEMPLATE_TEAM}"']):
                    tpl.users_in.add((table, name))
                elif kind != "jsonb" and TEMPLATE_TEAM in values:
                    tpl.users_in.add((table, name))
    # The engine's own task ids stay as they are (a workflow's tree is its own): only the ids
    # of the case's rows it names (case, people, allegations, ready tasks) become the clone's.
    finished: set[str] = set()
    if tpl.columns.get("finished_tasks"):
        finished = {
            str(i)
            for (i,) in conn.execute(
                "SELECT task_id FROM finished_tasks WHERE case_id = ANY(%s::uuid[])", (case_ids,)
            )
        }
        tpl.uuid_policy[("finished_tasks", "task_id")] = "keep"
        for instance, body in conn.execute(  # of the running instances, which steps load
            "SELECT f.instance_id, string_agg(f.body, ' ') FROM finished_tasks f "
            "JOIN process_instances i ON i.id = f.instance_id AND i.status = 'active' "
            "WHERE f.case_id = ANY(%s::uuid[]) GROUP BY f.instance_id",
            (case_ids,),
        ):
            tpl.body_ids[str(instance)] = sorted(set(UUID_RE.findall(body)) & tpl.mapped - finished)
    for instance, state in conn.execute(
        "SELECT id, state FROM process_instances WHERE status = 'active' "
        "AND case_id = ANY(%s::uuid[])",
        (case_ids,),
    ):
        tpl.state_ids[str(instance)] = sorted(set(UUID_RE.findall(state)) & tpl.mapped - finished)
    return tpl


def user_map(expr: str, quoted: bool) -> str:
    """Replace the templates' people (and team) in a text by the clone's."""
    for user, role in TEMPLATE_USERS.items():
        if quoted:
            expr = f"replace({expr}, '\"{user}\"', '\"' || s.{role} || '\"')"
        else:
            expr = f"replace({expr}, '{user}', s.{role})"
    q = '"' if quoted else ""
    return f"replace({expr}, '{q}{TEMPLATE_TEAM}{q}', '{q}' || s.team || '{q}')"


def column_expr(tpl: Template, table: str, name: str, kind: str) -> str:
    col = f"t.{name}"
    if table == "cases" and name == "case_number":
        return "s.case_number"
    if table == "cases" and name == "summary":
        return "s.summary"
    if table == "case_people" and name == "name":
        return (
            "CASE WHEN t.name IN ('Rita Reporter') THEN t.name ELSE "
            "(s.first_names)[1 + mod(s.family + t.ord::int, 40)] || ' ' || s.surname END"
        )
    if table == "case_people" and name == "person_key":
        return "md5('person:' || s.family::text || ':' || t.ord::text)::uuid"
    if (table, name) in (("process_instances", "state"), ("finished_tasks", "body")):
        key, ids_of = (
            ("t.id", tpl.state_ids) if name == "state" else ("t.instance_id", tpl.body_ids)
        )
        cases = []
        for instance, ids in ids_of.items():
            expr = col
            for old in ids:
                expr = f"replace({expr}, '{old}', {new_id(sql_quote(old))}::text)"
            expr = user_map(f"replace({expr}, t_case.case_number, s.case_number)", True)
            cases.append(f"WHEN '{instance}' THEN {expr}")
        return f"CASE {key} {' '.join(cases)} ELSE {col} END" if cases else col
    if kind == "uuid":
        policy = tpl.uuid_policy.get((table, name), "keep")
        if policy == "map":
            return new_id(col)
        if policy == "mixed":
            mapped = f"{col} IN (SELECT id FROM bench_mapped)"
            return f"CASE WHEN {mapped} THEN {new_id(col)} ELSE {col} END"
        return col
    if kind == "timestamp with time zone":
        return f"{col} + s.shift"
    if kind == "date":
        return f"{col} + s.days"
    if (table, name) in tpl.users_in:
        if kind == "jsonb":
            return f"{user_map(f'{col}::text', True)}::jsonb"
        cases = " ".join(f"WHEN '{u}' THEN s.{r}" for u, r in TEMPLATE_USERS.items())
        return f"CASE {col} {cases} WHEN '{TEMPLATE_TEAM}' THEN s.team ELSE {col} END"
    return col


def clone_statement(tpl: Template, table: str) -> tuple[str, list[str]]:
    link = CASE_TABLES[table]
    names = [(n, k) for n, k, serial in tpl.columns[table] if not serial]
    values = ", ".join(column_expr(tpl, table, n, k) for n, k in names)
    source = f"{table} t"
    if table == "case_people":  # each person's place in its case: its name per family
        source = (
            "(SELECT p.*, row_number() OVER (PARTITION BY p.case_id ORDER BY p.role, "
            "p.name, p.id) AS ord FROM case_people p) t"
        )
    joined = f"JOIN bench_templates tc ON tc.case_id = {link} JOIN bench_seed s ON s.tpl = tc.tpl"
    if table in ("process_instances", "finished_tasks"):
        joined += " JOIN cases t_case ON t_case.id = t.case_id"
    return (
        f"INSERT INTO {table} ({', '.join(n for n, _ in names)}) SELECT {values} "
        f"FROM {source} {joined} WHERE s.n BETWEEN %s AND %s",
        [n for n, _ in names],
    )


@dataclass
class Seed:
    rows: list[tuple[Any, ...]]
    open_cases: int


def seed_rows(drives: list[Drive], count: int, open_cases: int, rng: random.Random) -> Seed:
    """One row per clone: its template, date shift, team, people, family, number. The open
    cases are the agency's current work (the same at every size: 1,000 workers carry it); the
    rest are ten years of closed ones."""
    open_cases = min(open_cases, count // 2)
    roles_per_team = [(role, n) for role, n in TEAM_SHAPE.items()]
    rows = []
    families = max(1, int(count * 0.75))  # a quarter of cases are a family's second or third
    first_names = "{" + ",".join(FIRST) + "}"
    kinds = {
        flag: (
            [k for k, d in enumerate(drives) if d.open == flag],
            [d.share for d in drives if d.open == flag],
        )
        for flag in (True, False)
    }
    opening = set(rng.sample(range(1, count + 1), open_cases))
    opened_at = {k: d.case.record().opened_at for k, d in enumerate(drives) if d.case}
    for n in range(1, count + 1):
        which, weights = kinds[n in opening]
        k = rng.choices(which, weights)[0]
        drive = drives[k]
        opened = opened_at[k]
        if drive.open:
            # Where the driving stopped becomes about now (up to two weeks ago).
            back = timedelta(days=rng.randint(0, 14), minutes=rng.randint(0, 600))
            shift = NOW - DRIVEN_TO - back
        else:  # opened any day of ten years, over (the longest took 15 months) by now
            span = timedelta(days=500)
            target = NOW - span - timedelta(days=rng.uniform(0, 365 * YEARS - 500))
            shift = target - opened
        team = rng.randrange(TEAMS)
        person = {
            role: f"{role.split('_')[-1][:3]}{team:02d}-{rng.randrange(m)}"
            for role, m in roles_per_team
        }
        person["supervisor"] = f"sup{team:02d}"
        family = n % families
        surname = "".join(
            part[(family // len(SYLLABLES[0]) ** i) % len(part)] for i, part in enumerate(SYLLABLES)
        )
        rows.append(
            (
                n,
                k,
                shift,
                shift.days,
                f"team{team:02d}",
                person["supervisor"],
                person["intake_screener"],
                person["investigator"],
                person["ongoing_caseworker"],
                person["attorney"],
                family,
                surname,
                first_names,
                f"{(opened + shift).year}-{n:08X}",
                f"report {n}: concern for the {surname} children",
            )
        )
    return Seed(rows, open_cases)


def worker_id(role: str, team: int, i: int) -> str:
    return f"{role.split('_')[-1][:3]}{team:02d}-{i}"


class Progress:
    def __init__(self, total: int, label: str) -> None:
        self.total, self.done, self.label, self.started = total, 0, label, time.perf_counter()

    def step(self, what: str, n: int = 1) -> None:
        self.done += n
        elapsed = time.perf_counter() - self.started
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0
        bar = "#" * int(30 * self.done / self.total)
        print(
            f"\r  {self.label} [{bar:<30}] {self.done}/{self.total} {elapsed:6.0f} s "
            f"(eta {eta:5.0f} s) {what:<24}",
            end="",
            flush=True,
        )

    def end(self) -> None:
        print()


def build(
    url: str, count: int, open_cases: int, chunk: int
) -> tuple[dict[str, float], list[Drive], Template]:
    timings: dict[str, float] = {}
    drives, timings["templates driven"] = drive_templates(url)
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        tpl = read_templates(conn, drives)
        agency(url)
        seed = seed_rows(drives, count, open_cases, random.Random(count))
        conn.execute(
            "CREATE TABLE bench_seed (n int PRIMARY KEY, tpl int, shift interval, "
            "days int, team text, supervisor text, intake_screener text, "
            "investigator text, ongoing_caseworker text, attorney text, family int, "
            "surname text, first_names text[], case_number text, summary text)"
        )
        with conn.cursor().copy("COPY bench_seed FROM STDIN") as copy:
            for row in seed.rows:
                copy.write_row(row)
        conn.execute("CREATE TABLE bench_templates (case_id uuid PRIMARY KEY, tpl int)")
        for k, drive in enumerate(drives):
            assert drive.case is not None
            conn.execute("INSERT INTO bench_templates VALUES (%s, %s)", (drive.case.id, k))
        conn.execute("CREATE TABLE bench_mapped (id uuid PRIMARY KEY)")
        with conn.cursor().copy("COPY bench_mapped FROM STDIN") as copy:
            for i in tpl.mapped:
                copy.write_row((i,))
        conn.execute("ANALYZE bench_seed; ANALYZE bench_templates; ANALYZE bench_mapped")
        timings["seed"] = time.perf_counter() - started

        started = time.perf_counter()
        dropped = drop_secondary(conn)
        chunks = [(a, min(a + chunk - 1, count)) for a in range(1, count + 1, chunk)]
        progress = Progress(len(CASE_TABLES) * len(chunks), f"{count} cases")
        for table in CASE_TABLES:
            statement, _ = clone_statement(tpl, table)
            if not sum(tpl.counts[table].values()):
                progress.step(table, len(chunks))
                continue
            for a, b in chunks:
                conn.execute(statement, (a, b))  # type: ignore[arg-type]
                progress.step(table)
        progress.end()
        timings["rows copied"] = time.perf_counter() - started
        started = time.perf_counter()
        restore_secondary(conn, dropped)
        timings["indexes and keys made"] = time.perf_counter() - started
        started = time.perf_counter()
        for name in ("bench_seed", "bench_templates", "bench_mapped"):
            conn.execute(f"DROP TABLE {name}")
        conn.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = time.perf_counter() - started
    return timings, drives, tpl


def drop_secondary(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop foreign keys and secondary indexes (a bulk load makes them faster afterwards);
    return the statements that make them again."""
    again: list[str] = []
    for table, name, definition in conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
    ).fetchall():
        if table in CASE_TABLES:
            again.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for table, name, definition in conn.execute(
        "SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i WHERE "
        "i.schemaname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE "
        "c.conname = i.indexname)"
    ).fetchall():
        if table in CASE_TABLES:
            # A partitioned table's index is listed as ON ONLY the parent: made that way it
            # would index none of the partitions.
            again.insert(0, definition.replace(" ON ONLY ", " ON "))
            conn.execute(f"DROP INDEX {name}")
    return again


def restore_secondary(conn: psycopg.Connection[Any], statements: list[str]) -> None:
    progress = Progress(len(statements), "indexes and foreign keys")
    conn.execute("SET maintenance_work_mem = '512MB'")
    for statement in statements:
        conn.execute(statement)  # type: ignore[arg-type]
        progress.step(statement.split()[2][:24])
    progress.end()


def agency(url: str) -> None:
    """50 teams of 20 in 5 units, a program director per unit, an auditor."""
    clock = ManualClock(NOW)
    ctx = EngineContext(connect(url), Runtime(clock), DefinitionRegistry(), clock)
    for t in range(TEAMS):
        create_team(ctx, SETUP, f"team{t:02d}", f"Team {t}", f"unit-{t % UNITS}")
        create_user(
            ctx,
            SETUP,
            NewUser(
                f"sup{t:02d}",
                f"Supervisor {t}",
                ["supervisor"],
                team_id=f"team{t:02d}",
                unit=f"unit-{t % UNITS}",
            ),
        )
        for role, n in TEAM_SHAPE.items():
            if role == "supervisor":
                continue
            for i in range(n):
                who = worker_id(role, t, i)
                create_user(
                    ctx,
                    SETUP,
                    NewUser(who, who, [role], team_id=f"team{t:02d}", unit=f"unit-{t % UNITS}"),
                )
    for u in range(UNITS):
        create_user(
            ctx, SETUP, NewUser(f"pd{u}", f"Director {u}", ["program_director"], unit=f"unit-{u}")
        )
    create_user(ctx, SETUP, NewUser("aud", "Auditor", ["auditor"]))
    ctx.db.dispose()


def per_case(drives: list[Drive], tpl: Template) -> None:
    """Rows per case of each stage (what the shipped process wrote), and per case on average
    at the stages' shares."""
    tables = [t for t in CASE_TABLES if sum(tpl.counts[t].values())]
    short = {t: t.replace("_", " ")[:10] for t in tables}
    print("rows per case, as the shipped process wrote them:")
    print(
        f"  {'stage (share among the open or the closed)':<46} {'share':>5} "
        + " ".join(f"{short[t]:>10}" for t in tables)
    )
    mean: Counter[str] = Counter()
    for d in drives:
        assert d.case is not None
        row = [tpl.counts[t][str(d.case.id)] for t in tables]
        for t, v in zip(tables, row, strict=True):
            mean[t] += v * d.share
        print(f"  {d.stage:<46} {d.share:5.2f} " + " ".join(f"{v:>10}" for v in row))
    print(f"  {'per case, weighted':<46} {'':>5} " + " ".join(f"{mean[t]:>10.1f}" for t in tables))


# -- 3. measuring ---------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    target_p95_ms: float | None
    samples: list[float] = field(default_factory=list)
    failed: Counter[int] = field(default_factory=Counter)

    def pct(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def start_server(url: str, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CASEWORK_DATABASE_URL": url, "CASEWORK_LOG_FORMAT": "json"}
    (ROOT / "var").mkdir(exist_ok=True)
    log = open(ROOT / "var" / "state_bench_server.log", "wb")
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "casework"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{PORT}/healthz", timeout=5).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not come up; see var/state_bench_server.log")


def measure(url: str, samples: int, rng: random.Random) -> dict[str, Figure]:
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    clock = ManualClock(NOW)
    ctx = EngineContext(connect(url), Runtime(clock), DefinitionRegistry(), clock)
    with psycopg.connect(conninfo) as conn:
        workers = [
            r[0]
            for r in conn.execute(
                "SELECT assignee FROM human_tasks WHERE status = 'ready' AND assignee LIKE '%%-%%' "
                "GROUP BY assignee ORDER BY assignee"
            )
        ]
        supervisors = [f"sup{t:02d}" for t in range(TEAMS)]
        team_cases = conn.execute(
            "SELECT id, team FROM (SELECT id, team, row_number() OVER (PARTITION BY team "
            "ORDER BY md5(id::text)) AS r FROM cases WHERE team LIKE 'team%%' "
            "AND status <> 'screened_out') x WHERE r <= 20"
        ).fetchall()
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM case_people WHERE role = 'child' ORDER BY md5(id::text) LIMIT 200"
            )
        ]
        audited = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM cases WHERE team LIKE 'team%%' ORDER BY md5(id::text) LIMIT 200"
            )
        ]
        contacts = conn.execute(
            "SELECT t.id, t.assignee FROM human_tasks t JOIN cases c ON c.id = t.case_id "
            "WHERE t.bpmn_id = 'first_contact' AND t.status = 'ready' AND c.team LIKE 'team%%' "
            "ORDER BY md5(t.id::text) LIMIT %s",
            (samples,),
        ).fetchall()
    users = set(rng.sample(workers, min(50, len(workers)))) | set(supervisors)
    users |= {f"pd{u}" for u in range(UNITS)} | {"aud"} | {who for _, who in contacts}
    tokens = {u: issue_token(ctx, SETUP, u, "bench") for u in sorted(users)}
    ctx.db.dispose()
    mine = sorted(u for u in users if "-" in u and u in workers)

    base = f"http://127.0.0.1:{PORT}/api/v1"
    session = requests.Session()

    def get(user: str, path: str, **params: Any) -> requests.Response:
        return session.get(
            f"{base}{path}",
            params=params,
            timeout=120,
            headers={"Authorization": f"Bearer {tokens[user]}"},
        )

    def post(user: str, path: str, body: Any) -> requests.Response:
        return session.post(
            f"{base}{path}",
            json=body,
            timeout=120,
            headers={"Authorization": f"Bearer {tokens[user]}"},
        )

    by_team: dict[str, list[uuid.UUID]] = {}
    for case_id, team in team_cases:
        by_team.setdefault(team, []).append(case_id)
    # The same requests at every size, in the same order.
    jobs: dict[str, tuple[float | None, Callable[[int], requests.Response]]] = {
        "my worklist": (20, lambda i: get(mine[i % len(mine)], "/tasks", view="mine")),
        "team view": (None, lambda i: get(supervisors[i % TEAMS], "/tasks", view="team")),
        "case page": (
            50,
            lambda i: get(
                supervisors[i % TEAMS], f"/cases/{by_team[f'team{i % TEAMS:02d}'][i % 20]}"
            ),
        ),
        "person search": (
            100,
            lambda i: get(f"pd{i % UNITS}", "/cases", text=names[i % len(names)]),
        ),
        "caseload dashboard": (None, lambda i: get(supervisors[i % TEAMS], "/caseload")),
        "federal measures (unit)": (1000, lambda i: get(f"pd{i % UNITS}", "/caseload")),
        "audit by case": (
            None,
            lambda i: get("aud", "/audit", case_id=str(audited[i % len(audited)])),
        ),
        "completion": (
            None,
            lambda i: post(
                contacts[i][1],
                f"/tasks/{contacts[i][0]}/complete",
                {"contact_at": NOW.isoformat(), "location": "child_residence"},
            ),
        ),
    }
    figures: dict[str, Figure] = {}
    for name, (target, job) in jobs.items():
        figure = Figure(name, target)
        n = samples if name not in ("federal measures (unit)",) else max(20, samples // 10)
        if name == "completion":
            n = len(contacts)
        for i in range(-5 if name != "completion" else 0, n):  # five to warm up
            t0 = time.perf_counter()
            response = job(abs(i))
            elapsed = (time.perf_counter() - t0) * 1000
            if i < 0:
                continue
            if response.status_code >= 400:
                figure.failed[response.status_code] += 1
            else:
                figure.samples.append(elapsed)
        figures[name] = figure
        print(
            f"  {name:<26} p50 {figure.pct(0.5):8.1f} ms  p95 {figure.pct(0.95):8.1f} ms  "
            f"p99 {figure.pct(0.99):8.1f} ms  ({len(figure.samples)} ok"
            + (f", failed {dict(figure.failed)}" if figure.failed else "")
            + ")"
        )
    return figures


def machine() -> str:
    cores = os.cpu_count()
    memory = next(
        (
            int(line.split()[1]) // 1024 // 1024
            for line in open("/proc/meminfo")
            if line.startswith("MemTotal")
        ),
        0,
    )
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        ),
        "?",
    )
    return f"{cores} cores ({model}), {memory} GB RAM"


def sizes_of(conninfo: str) -> str:
    with psycopg.connect(conninfo) as conn:
        (size,) = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (
                "cases",
                "case_people",
                "human_tasks",
                "audit_events",
                "outbox_events",
                "process_instances",
            )
        }
    return f"database {size}; " + ", ".join(f"{t} {n:,}" for t, n in counts.items())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", required=True)
    parser.add_argument("--cases", type=int, nargs="+", default=[30_000])
    parser.add_argument(
        "--open",
        type=int,
        default=8_000,
        help="open cases (the current work), the same at every size",
    )
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=10_000, help="clones per statement")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--keep", action="store_true", help="leave the largest data set")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    conninfo = args.postgres.replace("postgresql+psycopg://", "postgresql://")
    results: dict[int, dict[str, Figure]] = {}
    builds: dict[int, float] = {}
    sizes = sorted(args.cases)
    for count in sizes:
        print(f"\n== {count:,} cases ==")
        started = time.perf_counter()
        timings, drives, tpl = build(args.postgres, count, args.open, args.chunk)
        builds[count] = time.perf_counter() - started
        if count == sizes[0]:
            per_case(drives, tpl)
        print(
            "build: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
            + f"; in all {builds[count]:.0f} s ({count / builds[count]:.0f} cases/s)"
        )
        print(sizes_of(conninfo))
        server = start_server(args.postgres, args.workers)
        try:
            results[count] = measure(args.postgres, args.samples, random.Random(1))
        finally:
            server.terminate()
            server.wait(timeout=30)
    summary(sizes, results, builds)
    if not args.keep:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


def summary(
    sizes: list[int], results: dict[int, dict[str, Figure]], builds: dict[int, float]
) -> None:
    small, large = sizes[0], sizes[-1]
    print(f"\nmachine: {machine()}")
    print("build: " + ", ".join(f"{n:,} cases {builds[n]:.0f} s" for n in sizes))
    head = " ".join(f"{f'p95 @{n:,}':>14}" for n in sizes)
    print(f"{'figure':<26} {head} {'ratio':>7}  target")
    for name, figure in results[small].items():
        p95s = [results[n][name].pct(0.95) for n in sizes]
        ratio = p95s[-1] / p95s[0] if len(sizes) > 1 else 1.0
        target = figure.target_p95_ms
        misses = []
        if target is not None and max(p95s) >= target:
            misses.append(f"p95 < {target:.0f} ms")
        if len(sizes) > 1 and ratio > 1.2:
            misses.append("ratio <= 1.2")
        wanted = (f"p95 < {target:.0f} ms, " if target else "") + "ratio <= 1.2"
        verdict = "PASS" if not misses else "MISS (" + ", ".join(misses) + ")"
        print(
            f"{name:<26} "
            + " ".join(f"{p:>11.1f} ms" for p in p95s)
            + f" {ratio:>6.2f}x  {wanted}: {verdict}"
        )
    if len(sizes) > 1:
        print(f"(ratios are p95 at {large:,} cases over p95 at {small:,})")


if __name__ == "__main__":
    main()
