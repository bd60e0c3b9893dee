"""Opening a case: the domain record (people, allegations) that process instances work on."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases import record
from engine.context import Actor, EngineContext
from engine.errors import Conflict, FieldError, InvalidInput, InvalidTaskData
from engine.instances import steps
from engine.statuses import CaseStatus
from engine.storage.tables import Allegation, Case, CasePerson
from engine.storage.uow import UnitOfWork

PERSON_ROLES = [
    "child",
    "caregiver",
    "alleged_perpetrator",
    "household_member",
    "reporter",
    "other",
]

CASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["people"],
    "properties": {
        "case_number": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]{2,40}$"},
        "profile_id": {"type": "string", "minLength": 1},
        "summary": {"type": "string", "maxLength": 4000},
        "sensitive": {"type": "boolean"},
        "team": {"type": "string"},
        "assigned_to": {"type": "string"},
        "people": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["ref", "role"],
                "properties": {
                    "ref": {"type": "string", "minLength": 1},
                    "role": {"enum": PERSON_ROLES},
                    "name": {"type": "string"},
                    "birth_date": {"type": "string", "format": "date"},
                    "details": {"type": "object"},
                },
            },
        },
        "allegations": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["victim", "type"],
                "properties": {
                    "victim": {"type": "string"},
                    "perpetrator": {"type": ["string", "null"]},
                    "type": {"type": "string", "minLength": 1},
                    "narrative": {"type": "string"},
                    "incident_date": {"type": "string", "format": "date"},
                    "severity": {"type": "string"},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class OpenedCase:
    id: uuid.UUID
    case_number: str


def _check(data: dict[str, Any]) -> None:
    validator = Draft202012Validator(CASE_SCHEMA, format_checker=FormatChecker())
    errors = [
        FieldError("/" + "/".join(map(str, e.absolute_path)), e.message, str(e.validator))
        for e in validator.iter_errors(data)
    ]
    if not errors:
        refs = [p["ref"] for p in data["people"]]
        roles = {p["ref"]: p["role"] for p in data["people"]}
        if len(set(refs)) != len(refs):
            errors.append(FieldError("/people", "person refs must be unique", "unique"))
        for i, allegation in enumerate(data.get("allegations", [])):
            if roles.get(allegation["victim"]) != "child":
                errors.append(
                    FieldError(f"/allegations/{i}/victim", "must name a child of this case", "ref")
                )
            perpetrator = allegation.get("perpetrator")
            if perpetrator is not None and perpetrator not in roles:
                errors.append(FieldError(f"/allegations/{i}/perpetrator", "names no person", "ref"))
    if errors:
        raise InvalidTaskData("the case data is not valid", errors)


def open_case(
    ctx: EngineContext,
    actor: Actor,
    data: dict[str, Any],
    *,
    start_process: str | None = None,
    start_data: dict[str, Any] | None = None,
    filed: dict[str, Any] | None = None,
    version_id: int | None = None,
) -> OpenedCase:
    """Create a case with its people and allegations (and optionally start its first process
    with ``start_data``) in one transaction. ``filed`` is the report as filed: it becomes the
    case record's first entry."""
    _check(data)
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        profile_id = data.get("profile_id", "default")
        case_number = data.get("case_number") or _new_case_number(session, now.year)
        if session.scalar(select(Case.id).where(Case.case_number == case_number)) is not None:
            raise Conflict(f"case number {case_number} is already in use")
        case = Case(
            id=uuid.uuid4(),
            case_number=case_number,
            profile_id=profile_id,
            status=CaseStatus.OPEN,
            summary=data.get("summary", ""),
            sensitive=data.get("sensitive", False),
            team=data.get("team"),
            assigned_to=data.get("assigned_to"),
            opened_at=now,
            opened_by=actor.id,
            updated_at=now,
        )
        session.add(case)
        people: dict[str, CasePerson] = {}
        for person in data["people"]:
            row = CasePerson(
                id=uuid.uuid4(),
                case_id=case.id,
                role=person["role"],
                name=person.get("name"),
                birth_date=_date(person.get("birth_date")),
                details=person.get("details", {}),
            )
            people[person["ref"]] = row
            session.add(row)
        session.flush()
        for allegation in data.get("allegations", []):
            perpetrator = allegation.get("perpetrator")
            session.add(
                Allegation(
                    case_id=case.id,
                    victim_id=people[allegation["victim"]].id,
                    perpetrator_id=people[perpetrator].id if perpetrator else None,
                    maltreatment_type=allegation["type"],
                    narrative=allegation.get("narrative", ""),
                    incident_date=_date(allegation.get("incident_date")),
                    severity=allegation.get("severity"),
                )
            )
        uow.audit(
            at=now,
            actor_id=actor.id,
            actor_role=actor.role,
            action="case.opened",
            case_id=case.id,
            case_number=case_number,
            people=len(people),
            allegations=len(data.get("allegations", [])),
        )
        uow.publish(
            "case.opened",
            now,
            case_id=case.id,
            case_number=case_number,
            status=case.status,
            team=case.team,
            profile_id=case.profile_id,
        )
        if filed is not None:
            record.record_filing(uow, case, filed, actor, now)
        if start_process is not None:
            steps.start_in(
                steps.Run(ctx, uow, actor, case),
                start_process,
                start_data or {},
                version_id=version_id,
                opens_case=True,
            )
        uow.commit()
    return OpenedCase(case.id, case_number)


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _new_case_number(session: Session, year: int) -> str:
    for _ in range(5):
        candidate = f"{year}-{secrets.token_hex(4).upper()}"
        if session.scalar(select(Case.id).where(Case.case_number == candidate)) is None:
            return candidate
    raise InvalidInput("could not allocate a case number")
