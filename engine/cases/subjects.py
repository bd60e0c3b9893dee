"""Whom a task of per-child or per-allegation work is for, in words every list can show after
the task's name: "Interview child — Lia Moreno (3)", "Record the allegation's disposition —
Physical abuse, Lia Moreno".

The diagram's multi-instance item is what the case's instances start with
(``engine.instances.steps.case_start_data``): a child (``person_id``, ``name``,
``birth_date``) or an allegation (``allegation_id``, ``type``, ``victim_name``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.deadlines.profiles import Profile
from engine.storage.tables import Allegation, CasePerson
from engine.tasks.form_schemas import CHOICES_KEY, with_choices


@dataclass(frozen=True)
class Subject:
    id: str
    label: str


def subject_of(item: Any, today: date, type_titles: Mapping[str, str]) -> Subject | None:
    """The subject of a task's item, or None for an item that names no child or allegation."""
    if not isinstance(item, dict):
        return None
    if item.get("allegation_id"):
        kind = str(item.get("type") or "allegation")
        words = [type_titles.get(kind, kind)]
        if item.get("victim_name"):
            words.append(str(item["victim_name"]))
        return Subject(str(item["allegation_id"]), ", ".join(words)[:LABEL_LENGTH])
    if item.get("person_id"):
        name = str(item.get("name") or "child")
        age = age_on(item.get("birth_date"), today)
        label = f"{name} ({age})" if age is not None else name
        return Subject(str(item["person_id"]), label[:LABEL_LENGTH])
    return None


def age_on(birth_date: Any, today: date) -> int | None:
    """Whole years, as a person counts their age; None without a (readable) birth date."""
    try:
        born = date.fromisoformat(str(birth_date))
    except ValueError:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


LABEL_LENGTH = 300  # the columns that keep a task's name and subject


def titled(name: str, subject: Subject | None) -> str:
    return (f"{name} — {subject.label}" if subject is not None else name)[:LABEL_LENGTH]


def case_choices(
    session: Session, case_id: uuid.UUID, today: date, type_titles: Mapping[str, str]
) -> dict[str, list[tuple[str, str]]]:
    """What a choice field of a form may name on this case (``x-casework-choices``): its
    children, its allegations and its people (the reporter is never one of them)."""
    people = session.scalars(
        select(CasePerson)
        .where(CasePerson.case_id == case_id, CasePerson.role != "reporter")
        .order_by(CasePerson.name, CasePerson.id)
    ).all()
    names = {p.id: p.name for p in people}
    allegations = session.scalars(
        select(Allegation).where(Allegation.case_id == case_id).order_by(Allegation.id)
    ).all()

    def child(p: CasePerson) -> str:
        age = age_on(p.birth_date.isoformat() if p.birth_date else None, today)
        return f"{p.name} ({age})" if age is not None else str(p.name)

    return {
        "children": [(str(p.id), child(p)) for p in people if p.role == "child"],
        "people": [(str(p.id), f"{p.name} ({p.role.replace('_', ' ')})") for p in people],
        "allegations": [
            (
                str(a.id),
                ", ".join(
                    w
                    for w in (type_titles.get(a.maltreatment_type, a.maltreatment_type),
                              names.get(a.victim_id))
                    if w
                ),
            )
            for a in allegations
        ],
    }  # fmt: skip


def form_for_case(
    session: Session, form: dict[str, Any], case_id: uuid.UUID, profile: Profile, now: datetime
) -> dict[str, Any]:
    """The form as this case shows and checks it: its choice fields offer the case's own
    children, allegations and people."""
    if CHOICES_KEY not in json.dumps(form):
        return form
    today = profile.calendar.local_date(now)
    titles = profile.data.get("maltreatment_types", {})
    return dict(with_choices(form, case_choices(session, case_id, today, titles)))
