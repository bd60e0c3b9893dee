"""Referrals to partner agencies: the directory of providers (what services they offer, where,
in which languages, how many they can take), and each referral a caseworker makes — which
person, which service, which provider, why — with what became of it.

A referral's status moves forward only: sent, then accepted or declined, then scheduled,
attending, and completed or not engaged (a step may be skipped, never taken back). The
services are the jurisdiction's own words (the profile's ``data.services``); a provider is only
referred to for a service it offers. Events name the referral, its case and its status only."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.cases import jurisdictions, redaction
from engine.cases.reads import reading_case
from engine.cases.redaction import Redactor
from engine.context import SYSTEM, Actor, EngineContext
from engine.deadlines.profiles import setting
from engine.errors import Conflict, InvalidInput, NotFound
from engine.identity.access import readable_case, require
from engine.identity.users import Principal
from engine.notifications.queue import notify
from engine.storage.tables import (
    Alert,
    AlertRecipient,
    Case,
    CasePerson,
    Provider,
    Referral,
    User,
    WebhookSubscription,
)
from engine.storage.uow import UnitOfWork

# How far along each status is: a referral moves to a later rank, never back or sideways.
RANK = {
    "sent": 0,
    "accepted": 1,
    "declined": 1,
    "scheduled": 2,
    "attending": 3,
    "completed": 4,
    "not_engaged": 4,
}
FINAL = {"declined", "completed", "not_engaged"}
DEFAULT_SERVICES = {"other": "Other service"}
ADMIN = "administrator"
PROVIDER_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
MAX_CAPACITY = 100_000


# -- the directory ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewProvider:
    id: str
    name: str
    services: list[str]
    area: str = ""
    contact: str = ""
    languages: tuple[str, ...] = ("English",)
    capacity: int | None = None
    active: bool = True


def save_provider(ctx: EngineContext, principal: Principal, new: NewProvider) -> dict[str, Any]:
    """Add a provider to the directory, or change one (an administrator's act)."""
    require(principal, ADMIN)
    if not PROVIDER_ID.fullmatch(new.id.strip()):
        raise InvalidInput("a provider's id is 1 to 100 lower-case letters, digits, - and _")
    texts = {"name": (new.name, 200), "area": (new.area, 200), "contact": (new.contact, 300)}
    for field, (text, most) in texts.items():
        if len(text.strip()) > most or "\x00" in text:
            raise InvalidInput(f"a provider's {field} is text of at most {most} characters")
    if not new.name.strip():
        raise InvalidInput("a provider needs a name")
    if not new.services:
        raise InvalidInput("a provider offers at least one service")
    known = services_of(ctx)
    unknown = sorted(set(new.services) - set(known))
    if unknown:
        raise InvalidInput(f"no such service: {', '.join(unknown)} (the profile names them)")
    if new.capacity is not None and not 0 <= new.capacity <= MAX_CAPACITY:
        raise InvalidInput(f"capacity is a number of families, 0 to {MAX_CAPACITY}")
    with UnitOfWork(ctx.db.writer) as uow:
        row = uow.session.get(Provider, new.id.strip()) or Provider(id=new.id.strip())
        row.name, row.services = new.name.strip(), sorted(set(new.services))
        row.area, row.contact = new.area.strip(), new.contact.strip()
        row.languages, row.capacity, row.active = list(new.languages), new.capacity, new.active
        uow.session.add(row)
        try:
            uow.session.flush()
        except IntegrityError:
            # Two administrators adding the same id at once: the other was first.
            raise Conflict(f"provider {row.id!r} was just added by someone else: reload") from None
        uow.audit(
            at=ctx.clock.now(),
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="provider.saved",
            provider=row.id,
            services=row.services,
            active=row.active,
        )
        uow.commit()
        return _provider(row)


def providers(ctx: EngineContext, service: str | None = None) -> list[dict[str, Any]]:
    """The directory (active providers), or those offering ``service``."""
    with ctx.db.reader() as session:
        rows = session.scalars(select(Provider).where(Provider.active.is_(True))).all()
    return [
        _provider(p) for p in sorted(rows, key=lambda p: p.name.casefold())
        if service is None or service in p.services
    ]  # fmt: skip


def services_of(ctx: EngineContext, profile_id: str | None = None) -> dict[str, str]:
    """The services a jurisdiction names (code → title); all profiles' when none is given."""
    with ctx.db.reader() as session:
        return services_in(ctx, session, profile_id)


def services_in(ctx: EngineContext, session: Session, profile_id: str | None) -> dict[str, str]:
    """``services_of`` in a transaction already open."""
    profiles = jurisdictions.deployed(ctx, session)
    found: dict[str, str] = {}
    for pid, profile in sorted(profiles.items()):
        if profile_id is None or pid == profile_id:
            named = profile.data.get("services")
            found.update(named if isinstance(named, dict) else {})
    return found or dict(DEFAULT_SERVICES)


# -- referrals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewReferral:
    person_id: str
    service: str
    provider_id: str
    reason: str


def refer(
    ctx: EngineContext, principal: Principal, case_id: uuid.UUID, new: NewReferral
) -> dict[str, Any]:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        case = readable_case(session, principal, case_id)
        person = _person(session, case, new.person_id)
        services = services_in(ctx, session, case.profile_id)
        if new.service not in services:
            raise InvalidInput(f"choose a service: {', '.join(services.values())}")
        # Locked: two referrals at once cannot both take a provider's last place.
        provider = session.get(Provider, new.provider_id, with_for_update=True)
        if provider is None or not provider.active:
            raise InvalidInput(f"no provider {new.provider_id!r} in the directory")
        if new.service not in provider.services:
            raise InvalidInput(f"{provider.name} does not offer {services[new.service]}")
        _has_room(session, provider, case)
        if not 10 <= len(new.reason.strip()) <= 4000 or "\x00" in new.reason:
            raise InvalidInput("say why the referral is made (10 to 4000 characters)")
        day = _local_day(ctx, session, case, now)
        days = int(setting(_profile(ctx, session, case), "referral_answer_days", 10))
        row = Referral(
            id=uuid.uuid4(),
            case_id=case.id,
            person_id=person.id,
            service=new.service,
            provider_id=provider.id,
            reason=new.reason.strip(),
            status="sent",
            sent_at=now,
            status_on=day,
            history=[{"status": "sent", "on": day.isoformat(), "by": principal.id, "note": ""}],
            made_by=principal.id,
            answer_due_at=now + timedelta(days=days),
        )
        session.add(row)
        _written(uow, principal.actor, case, row, "referral.sent", now)
        _offer(uow, principal, case, row, person, services[new.service])
        uow.commit()
        return _referral(row, provider, person, services)


def _has_room(session: Session, provider: Provider, case: Case) -> None:
    """A provider with a capacity takes that many families at once: those with a referral to
    it still open (a family already with it may be referred again)."""
    if provider.capacity is None:
        return
    taking = session.scalar(
        select(func.count(distinct(Referral.case_id))).where(
            Referral.provider_id == provider.id,
            Referral.status.not_in(FINAL),
            Referral.case_id != case.id,
        )
    )
    if (taking or 0) >= provider.capacity:
        raise InvalidInput(
            f"{provider.name} is full: it takes {provider.capacity} "
            f"famil{'y' if provider.capacity == 1 else 'ies'} and has {taking}; choose another"
        )


def move(
    ctx: EngineContext,
    principal: Principal,
    case_id: uuid.UUID,
    referral_id: uuid.UUID,
    status: str,
    on: date | None = None,
    note: str = "",
) -> dict[str, Any]:
    """What became of a referral, by hand (the provider told the worker)."""
    with UnitOfWork(ctx.db.writer) as uow:
        case = readable_case(uow.session, principal, case_id)
        row = uow.session.get(Referral, referral_id, with_for_update=True)
        if row is None or row.case_id != case.id:
            raise NotFound(f"no referral {referral_id} on this case")
        _advance(ctx, uow, principal.actor, case, row, status, on, note)
        uow.commit()
        return _described(ctx, uow.session, case, row)


def answered_by_provider(
    ctx: EngineContext, uow: UnitOfWork, actor: Actor, provider_id: str, case: Case, answer: Any
) -> dict[str, Any]:
    """A provider's own word on one of its referrals (a signed inbound event), in the caller's
    unit of work: ``{"referral_id", "status", "on"?, "note"?}``. A provider answers only for
    the referrals made to it."""
    if not isinstance(answer, dict) or not isinstance(answer.get("status"), str):
        raise InvalidInput('the answer needs "referral_id" and "status"')
    try:
        referral_id = uuid.UUID(str(answer.get("referral_id")))
        on = date.fromisoformat(answer["on"]) if answer.get("on") else None
    except (ValueError, TypeError):
        raise InvalidInput("referral_id is a referral's id and on a date") from None
    row = uow.session.get(Referral, referral_id, with_for_update=True)
    if row is None or row.case_id != case.id or row.provider_id != provider_id:
        raise NotFound(f"no referral {referral_id} to {provider_id} on case {case.case_number}")
    note = str(answer["note"]) if isinstance(answer.get("note"), str) else ""
    _advance(ctx, uow, actor, case, row, answer["status"], on, note)
    return _described(ctx, uow.session, case, row)


def _advance(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    case: Case,
    row: Referral,
    status: str,
    on: date | None,
    note: str,
) -> None:
    if status not in RANK:
        raise InvalidInput(f"a status is one of: {', '.join(RANK)}")
    if row.status in FINAL or RANK[status] <= RANK[row.status]:
        raise Conflict(
            f"the referral is {row.status.replace('_', ' ')}: it cannot become "
            f"{status.replace('_', ' ')} (a status moves forward only)"
        )
    now = ctx.clock.now()
    today = _local_day(ctx, uow.session, case, now)
    day = on or today
    if day < row.status_on:
        raise InvalidInput(f"{status} on {day} is before it was {row.status} ({row.status_on})")
    if day > today:
        raise InvalidInput("a status says what has happened: not a day after today")
    row.status, row.status_on = status, day
    row.history = [
        *row.history,
        {"status": status, "on": day.isoformat(), "by": actor.id, "note": note.strip()[:4000]},
    ]
    _written(uow, actor, case, row, "referral.status_changed", now)


def _described(ctx: EngineContext, session: Session, case: Case, row: Referral) -> dict[str, Any]:
    provider = session.get(Provider, row.provider_id)
    person = session.get(CasePerson, row.person_id)
    assert provider is not None and person is not None
    return _referral(row, provider, person, services_in(ctx, session, case.profile_id))


def raise_unanswered(ctx: EngineContext) -> int:
    """Tell the worker who made a referral that its provider has not answered within the
    jurisdiction's ``data.referral_answer_days`` (an alert and a notification, once)."""
    now = ctx.clock.now()
    unanswered = (
        Referral.status == "sent",
        Referral.answer_due_at <= now,
        Referral.alerted_at.is_(None),
    )
    # Every timer tick asks: a read, and a write transaction only when one is due.
    with ctx.db.reader() as session:
        if session.scalar(select(Referral.id).where(*unanswered).limit(1)) is None:
            return 0
    raised = 0
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        waiting = session.scalars(
            select(Referral)
            .where(*unanswered)
            .order_by(Referral.answer_due_at)
            .with_for_update(skip_locked=True)
        ).all()
        for row in waiting:
            case = session.get(Case, row.case_id)
            assert case is not None and row.answer_due_at is not None
            due = row.answer_due_at
            days = (due - row.sent_at).days
            provider = session.get(Provider, row.provider_id)
            services = services_in(ctx, session, case.profile_id)
            sent_on = row.status_on.strftime("%a %d %b %Y") if row.history else "earlier"
            alert = Alert(
                id=uuid.uuid4(),
                kind="referral",
                case_id=case.id,
                message=(
                    f"The referral to {provider.name if provider else row.provider_id} for "
                    f"{services.get(row.service, row.service)}, sent {sent_on}, is unanswered "
                    f"after {days} days (case {case.case_number})"
                ),
                due_at=due,
                raised_at=now,
            )
            session.add(alert)
            session.flush()
            # Who made the referral, and the case's worker when that is someone else.
            roles = {"referrer": row.made_by}
            if case.assigned_to and case.assigned_to != row.made_by:
                roles["case_worker"] = case.assigned_to
            for role, user_id in roles.items():
                session.add(AlertRecipient(alert_id=alert.id, role=role, user_id=user_id))
            told = sorted(roles.values())
            notify(session, told, "referral", case, f"/cases/{case.id}#referrals", now)
            row.alerted_at = now
            uow.audit(
                at=now,
                actor_id=SYSTEM.id,
                actor_role=SYSTEM.role,
                action="alert.raised",
                case_id=case.id,
                kind="referral",
                referral=str(row.id),
                recipients=told,
            )
            raised += 1
        uow.commit()
    return raised


def referrals_of(
    ctx: EngineContext, principal: Principal, case_id: uuid.UUID
) -> list[dict[str, Any]]:
    with reading_case(ctx, principal, case_id, "referrals") as (session, case):
        return on_case(ctx, session, case, redaction.for_case(session, principal, case.id))


def on_case(
    ctx: EngineContext, session: Session, case: Case, redactor: Redactor
) -> list[dict[str, Any]]:
    """``referrals_of`` inside a read of the case already made (the case page, the report);
    the reasons and notes cut of the reporter as the reader must have them."""
    services = services_in(ctx, session, case.profile_id)
    found = []
    for row, provider, person in session.execute(
        select(Referral, Provider, CasePerson)
        .join(Provider, Provider.id == Referral.provider_id)
        .join(CasePerson, CasePerson.id == Referral.person_id)
        .where(Referral.case_id == case.id)
        .order_by(Referral.sent_at, Referral.id)
    ):
        described = _referral(row, provider, person, services)
        described["reason"] = redactor.text(described["reason"])
        described["history"] = [
            {**step, "note": redactor.text(str(step.get("note") or ""))}
            for step in described["history"]
        ]
        found.append(described)
    return found


def _person(session: Session, case: Case, person_id: str) -> CasePerson:
    try:
        wanted = uuid.UUID(str(person_id))
    except ValueError:
        raise InvalidInput("choose the person referred") from None
    person = session.get(CasePerson, wanted)
    if person is None or person.case_id != case.id or person.role == "reporter":
        raise InvalidInput("the person referred is one of this case's family")
    return person


def _profile(ctx: EngineContext, session: Session, case: Case) -> Any:
    return jurisdictions.profile_of(ctx, session, case.profile_id)


def _local_day(ctx: EngineContext, session: Session, case: Case, at: Any) -> date:
    profile = _profile(ctx, session, case)
    return at.astimezone(profile.calendar.zone).date() if profile is not None else at.date()


def _written(
    uow: UnitOfWork, actor: Actor, case: Case, row: Referral, action: str, at: Any
) -> None:
    uow.audit(
        at=at,
        actor_id=actor.id,
        actor_role=actor.role,
        action=action,
        case_id=case.id,
        referral=str(row.id),
        service=row.service,
        provider=row.provider_id,
        status=row.status,
    )
    uow.publish(
        action,
        at,
        case_id=case.id,
        case_number=case.case_number,
        referral_id=row.id,
        provider_id=row.provider_id,
        service=row.service,
        status=row.status,
    )


def _offer(
    uow: UnitOfWork,
    principal: Principal,
    case: Case,
    row: Referral,
    person: CasePerson,
    service_title: str,
) -> None:
    """The referral as the provider gets it (its own subscriptions only): the person and why,
    cut of the reporter; no allegation, no record, nothing else of the case. A provider with
    no subscription gets nothing, and the family's details are not written anywhere for it."""
    listening = uow.session.scalar(
        select(WebhookSubscription.id)
        .where(
            WebhookSubscription.provider_id == row.provider_id,
            WebhookSubscription.active.is_(True),
        )
        .limit(1)
    )
    if listening is None:
        return
    outsider = redaction.for_outsider(uow.session, case.id)
    worker = uow.session.get(User, principal.id)
    languages = (person.details or {}).get("languages")
    uow.publish(
        "referral.offered",
        row.sent_at,
        case_id=case.id,
        to_provider=row.provider_id,
        case_number=case.case_number,
        referral_id=row.id,
        provider_id=row.provider_id,
        service=row.service,
        service_title=service_title,
        status=row.status,
        reason=outsider.text(row.reason),
        answer_by=row.answer_due_at,
        person={
            "name": person.name or "",
            "birth_date": person.birth_date.isoformat() if person.birth_date else None,
            "role": person.role,
            "languages": [str(x) for x in languages] if isinstance(languages, list) else [],
        },
        worker={
            "name": principal.display_name,
            "email": worker.email if worker is not None else None,
        },
    )


def _provider(row: Provider) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "services": list(row.services),
        "area": row.area,
        "contact": row.contact,
        "languages": list(row.languages),
        "capacity": row.capacity,
        "active": row.active,
    }


def _referral(
    row: Referral, provider: Provider, person: CasePerson, services: dict[str, str]
) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "case_id": str(row.case_id),
        "person_id": str(row.person_id),
        "person": person.name,
        "service": row.service,
        "service_title": services.get(row.service, row.service.replace("_", " ")),
        "provider_id": provider.id,
        "provider": provider.name,
        "reason": row.reason,
        "status": row.status,
        "status_on": row.status_on.isoformat(),
        "sent_at": row.sent_at.isoformat(),
        "history": list(row.history),
        "made_by": row.made_by,
        "final": row.status in FINAL,
    }
