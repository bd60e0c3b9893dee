"""Events from other systems (a court's order, a police report, a provider's answer on a
referral) that advance cases.

A source is configured by an administrator: its secret (generated here, shown once) and its
routes, which say for each of its event types which BPMN message to deliver, where the case
number is in the body, and which part of the body is the message's payload, e.g.::

    {"court.tmc_order": {"message": "court_tmc_order",
                         "case_number": "/data/case_number", "payload": "/data"}}

Receiving one is a single unit of work: the signature and timestamp are checked against our
clock, the webhook id is recorded (a repeat of an applied event returns the first answer and
changes nothing), and the message is delivered in a savepoint, so an event for an unknown
case, or one no instance waits for, is refused whole and kept for inspection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jsonpointer import JsonPointer, JsonPointerException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.cases import referrals
from engine.context import Actor, EngineContext
from engine.errors import Conflict, EngineError, FieldError, InvalidTaskData, NotFound
from engine.identity.access import require
from engine.identity.users import Principal
from engine.instances.messages import deliver_message_in
from engine.statuses import InboundStatus
from engine.storage.tables import Case, InboundEvent, InboundSource
from engine.storage.uow import UnitOfWork
from engine.strict_json import UnacceptableJson, parse_json
from webhooks import signing

ADMIN = "administrator"
DEFAULT_CASE_NUMBER = "/data/case_number"
DEFAULT_PAYLOAD = "/data"
# Not a BPMN message: a provider's answer on a referral made to it (the source is the provider,
# by its id in the directory), applied to the referral rather than delivered to an instance.
REFERRAL_STATUS = "casework.referral_status"
MAX_BODY = 256 * 1024
PROBLEMS = "https://casework.example/problems/"


@dataclass(frozen=True)
class Answer:
    """What the sender gets back: a status and a JSON body (a problem document if refused)."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def _problem(status: int, code: str, title: str, detail: str) -> dict[str, Any]:
    return {
        "type": PROBLEMS + code,
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }


# -- configuration (administrators) ---------------------------------------------------------------


def _check_routes(routes: Any) -> None:
    errors = []
    if not isinstance(routes, dict) or not routes:
        raise InvalidTaskData(
            "invalid routes",
            [FieldError("/routes", "map at least one event type", "minProperties")],
        )
    for event_type, route in routes.items():
        where = f"/routes/{event_type}"
        if not isinstance(route, dict) or not isinstance(route.get("message"), str):
            errors.append(FieldError(where, "needs a message name", "required"))
            continue
        if (
            route["message"].startswith("casework.") and route["message"] != REFERRAL_STATUS
        ) or not route["message"]:
            errors.append(
                FieldError(f"{where}/message", "not a message other systems may send", "enum")
            )
        for key in ("case_number", "payload"):
            pointer = route.get(key)
            if pointer is None:
                continue
            try:
                JsonPointer(pointer)
            except (JsonPointerException, TypeError):
                errors.append(FieldError(f"{where}/{key}", "must be a JSON pointer", "format"))
    if errors:
        raise InvalidTaskData("invalid routes", errors)


def source_view(row: InboundSource, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "description": row.description,
        "routes": row.routes,
        "active": row.active,
        "created_at": row.created_at.isoformat(),
        "previous_secret_valid_until": (
            row.previous_secret_until.isoformat()
            if row.previous_secret_until and row.previous_secret_until > now
            else None
        ),
    }


def create_source(
    ctx: EngineContext,
    principal: Principal,
    source_id: str,
    routes: dict[str, Any],
    description: str = "",
) -> tuple[dict[str, Any], str]:
    require(principal, ADMIN)
    _check_routes(routes)
    now = ctx.clock.now()
    secret = signing.new_secret()
    with UnitOfWork(ctx.db.writer) as uow:
        if uow.session.get(InboundSource, source_id) is not None:
            raise Conflict(f"inbound source {source_id} exists")
        row = InboundSource(
            id=source_id,
            description=description,
            secret=secret,
            routes=routes,
            active=True,
            created_at=now,
            created_by=principal.id,
        )
        uow.session.add(row)
        uow.audit(
            at=now,
            actor_id=principal.id,
            actor_role=ADMIN,
            action="inbound.source_created",
            source=source_id,
            event_types=sorted(routes),
        )
        uow.commit()
        return source_view(row, now), secret


@dataclass(frozen=True)
class SourceChange:
    """What to change of a source (None leaves it as it is); with ``rotate_secret`` a new
    secret (returned, shown once) replaces the old one, which stays good for ``grace``."""

    routes: dict[str, Any] | None = None
    active: bool | None = None
    description: str | None = None
    rotate_secret: bool = False
    grace: timedelta = timedelta(hours=24)


def change_source(
    ctx: EngineContext, principal: Principal, source_id: str, asked: SourceChange
) -> tuple[dict[str, Any], str | None]:
    require(principal, ADMIN)
    routes, active, description = asked.routes, asked.active, asked.description
    rotate_secret, grace = asked.rotate_secret, asked.grace
    if routes is not None:
        _check_routes(routes)
    now = ctx.clock.now()
    secret = None
    with UnitOfWork(ctx.db.writer) as uow:
        row = uow.session.get(InboundSource, source_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no inbound source {source_id}")
        if routes is not None:
            row.routes = routes
        if active is not None:
            row.active = active
        if description is not None:
            row.description = description
        if rotate_secret:
            secret = signing.new_secret()
            row.previous_secret, row.previous_secret_until = row.secret, now + grace
            row.secret = secret
        uow.audit(
            at=now,
            actor_id=principal.id,
            actor_role=ADMIN,
            action="inbound.source_changed",
            source=source_id,
            rotated=rotate_secret,
        )
        uow.commit()
        return source_view(row, now), secret


def list_sources(ctx: EngineContext, principal: Principal) -> list[dict[str, Any]]:
    require(principal, ADMIN)
    now = ctx.clock.now()
    with ctx.db.reader() as session:
        return [
            source_view(r, now)
            for r in session.scalars(select(InboundSource).order_by(InboundSource.id))
        ]


def received(
    ctx: EngineContext,
    principal: Principal,
    source_id: str,
    *,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """What a source sent, newest first (refusals are kept here for inspection)."""
    require(principal, ADMIN)
    query = select(InboundEvent).where(InboundEvent.source_id == source_id)
    if status is not None:
        query = query.where(InboundEvent.status == status)
    with ctx.db.reader() as session:
        rows = session.scalars(
            query.order_by(InboundEvent.received_at.desc()).offset(offset).limit(limit)
        ).all()
        return [
            {
                "webhook_id": r.webhook_id,
                "received_at": r.received_at.isoformat(),
                "event_type": r.event_type,
                "case_number": r.case_number,
                "status": r.status,
                "attempts": r.attempts,
                "response_status": r.response_status,
                "response": r.response,
                "body": r.body,
            }
            for r in rows
        ]


# -- receiving ----------------------------------------------------------------------------------


@dataclass
class _Refusal(Exception):
    status: int
    code: str
    title: str
    detail: str
    event_type: str | None = None
    case_number: str | None = None


def receive(ctx: EngineContext, source_id: str, headers: dict[str, str], body: bytes) -> Answer:
    """Verify, deduplicate, route and apply one inbound event."""
    now = ctx.clock.now()
    with ctx.db.reader() as session:
        source = session.get(InboundSource, source_id)
    if source is None or not source.active:
        return Answer(
            404, _problem(404, "not_found", "Not found", f"no inbound source {source_id}")
        )
    if len(body) > MAX_BODY:
        return Answer(
            413, _problem(413, "too_large", "Payload too large", f"at most {MAX_BODY} bytes")
        )
    try:
        text = body.decode()
        webhook_id = signing.verify(_trusted(source, now), headers, text, now)
    except (UnicodeDecodeError, signing.SignatureRefused) as exc:
        return Answer(401, _problem(401, "invalid_signature", "Signature refused", str(exc)))
    try:
        return _apply(ctx, source, webhook_id, text, now)
    except IntegrityError:
        # The same event arrived twice at once: the other copy was recorded first.
        with ctx.db.reader() as session:
            first = session.get(InboundEvent, (source_id, webhook_id))
            if first is None:
                raise
            return Answer(first.response_status, first.response, replayed=True)


def _trusted(source: InboundSource, now: datetime) -> list[str]:
    trusted = [source.secret]
    if (
        source.previous_secret
        and source.previous_secret_until
        and source.previous_secret_until > now
    ):
        trusted.append(source.previous_secret)
    return trusted


def _apply(
    ctx: EngineContext, source: InboundSource, webhook_id: str, text: str, now: datetime
) -> Answer:
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        record = session.get(InboundEvent, (source.id, webhook_id), with_for_update=True)
        if record is not None and record.status == InboundStatus.APPLIED:
            return Answer(record.response_status, record.response, replayed=True)
        if record is None:
            record = InboundEvent(
                source_id=source.id,
                webhook_id=webhook_id,
                received_at=now,
                status=InboundStatus.REFUSED,
                attempts=1,
                response_status=0,
                response={},
                body=text,
            )
            session.add(record)
            session.flush()  # a concurrent copy of this event waits here, then fails
        else:
            # A refused event may be sent again (the case may exist by now): try afresh.
            record.attempts += 1
            record.received_at = now
            record.body = text
        actor = Actor(f"inbound:{source.id}", "system")
        try:
            event_type, case_number, message, payload = _route(source, text)
            record.event_type, record.case_number = event_type, case_number
            case_id = session.scalar(select(Case.id).where(Case.case_number == case_number))
            if case_id is None:
                raise _Refusal(404, "unknown_case", "Unknown case", f"no case {case_number}")
            applied: dict[str, Any] = {
                "status": InboundStatus.APPLIED,
                "webhook_id": webhook_id,
                "event_type": event_type,
                "case_number": case_number,
                "message": message,
            }
            with uow.savepoint():
                if message == REFERRAL_STATUS:
                    case = session.get(Case, case_id)
                    assert case is not None
                    answered = referrals.answered_by_provider(
                        ctx, uow, actor, source.id, case, payload
                    )
                    applied.update(referral_id=answered["id"], referral_status=answered["status"])
                else:
                    instance_id = deliver_message_in(ctx, uow, actor, case_id, message, payload)
                    applied["instance_id"] = str(instance_id)
            answer = Answer(200, applied)
            record.status = InboundStatus.APPLIED
        except _Refusal as refusal:
            answer = Answer(
                refusal.status,
                _problem(refusal.status, refusal.code, refusal.title, refusal.detail),
            )
        except EngineError as exc:
            status = {NotFound: 404, Conflict: 409}.get(type(exc), 422)
            answer = Answer(status, _problem(status, exc.code, "Refused", str(exc)))
        record.response_status, record.response = answer.status, answer.body
        uow.audit(
            at=now,
            actor_id=actor.id,
            actor_role=actor.role,
            action="inbound.received",
            source=source.id,
            webhook_id=webhook_id,
            event_type=record.event_type,
            outcome=record.status,
            response_status=answer.status,
        )
        uow.commit()
        return answer


def _route(source: InboundSource, text: str) -> tuple[str, str, str, Any]:
    try:
        event = parse_json(text)
    except UnacceptableJson as exc:
        raise _Refusal(
            422, "malformed_event", "Malformed event", f"the body is not acceptable JSON: {exc}"
        ) from exc
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise _Refusal(422, "malformed_event", "Malformed event", 'the body needs a string "type"')
    event_type = event["type"]
    route = source.routes.get(event_type)
    if route is None:
        raise _Refusal(
            422,
            "unrouted_event",
            "No route",
            f"{source.id} events of type {event_type!r} are not routed",
            event_type,
        )
    try:
        case_number = JsonPointer(route.get("case_number", DEFAULT_CASE_NUMBER)).resolve(event)
        payload = JsonPointer(route.get("payload", DEFAULT_PAYLOAD)).resolve(event)
    except JsonPointerException as exc:
        raise _Refusal(
            422, "malformed_event", "Malformed event", f"missing: {exc}", event_type
        ) from exc
    if not isinstance(case_number, str) or not case_number:
        raise _Refusal(
            422, "malformed_event", "Malformed event", "the case number must be text", event_type
        )
    return event_type, case_number, route["message"], payload
