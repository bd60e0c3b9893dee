"""The database tables (SQLAlchemy 2 typed models).

Cases and people live in SQL, not in engine state. Process instances keep SpiffWorkflow's JSON
without the spec. Human tasks, timers and awaited messages are projections of that state,
rewritten in the same transaction after every engine run, so worklists and the scheduler never
deserialize a workflow.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which drops the zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise TypeError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JsonType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JsonType, list[Any]: JsonType}


class DefinitionVersion(Base):
    __tablename__ = "definition_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    process_ids: Mapped[list[Any]]
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(200))
    # The current version is the one activated last: deploying activates, and a designer
    # may activate an earlier version again (a rollback).
    activated_at: Mapped[datetime]
    # By jurisdiction profile id: the processes it runs, the process a report starts, the
    # hash of its files, and the version its new work starts on (an earlier one when this
    # deployment left its files as they were).
    jurisdictions: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class DefinitionFile(Base):
    __tablename__ = "definition_files"

    version_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"), primary_key=True)
    path: Mapped[str] = mapped_column(String(500), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # Caseloads count a worker's open cases from the index alone (no table reads).
        Index("ix_cases_assigned_status", "assigned_to", "status"),
        # A team's cases with what the access rule reads of them: on PostgreSQL the team
        # view's total is counted from this index and the tasks' own (no table reads).
        Index(
            "ix_cases_team",
            "team",
            postgresql_include=["id", "sensitive", "status", "assigned_to"],
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_number: Mapped[str] = mapped_column(String(64), unique=True)
    profile_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    # Copied onto the case's tasks (HumanTask.team): a change of team must update them too.
    team: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime]
    opened_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # Soft expunction (DOMAIN §5 rule 5): an unsubstantiated report, kept in the case file for
    # risk history, out of anything public or used for background checks from this instant.
    expunged_at: Mapped[datetime | None]


class CasePerson(Base):
    __tablename__ = "case_people"
    __table_args__ = (
        # Person search ("a name containing …", case-insensitive) reads a trigram index of
        # names on PostgreSQL (pg_trgm), not every person of years of cases.
        Index(
            "ix_case_people_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(300))
    birth_date: Mapped[date | None] = mapped_column(Date)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # One person across cases: the people a screener linked share a key (engine.cases.history).
    person_key: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)


class Allegation(Base):
    __tablename__ = "allegations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    victim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_people.id"))
    perpetrator_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_people.id"))
    maltreatment_type: Mapped[str] = mapped_column(String(32))
    narrative: Mapped[str] = mapped_column(Text, default="")
    incident_date: Mapped[date | None] = mapped_column(Date)
    severity: Mapped[str | None] = mapped_column(String(32))
    disposition: Mapped[str | None] = mapped_column(String(32))


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (Index("ix_process_instances_due", "status", "next_timer_due_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    process_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(16))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    next_timer_due_at: Mapped[datetime | None]
    # The process the case opened with (its jurisdiction's intake): intake staff read the case
    # while it runs.
    opens_case: Mapped[bool] = mapped_column(Boolean, default=False)

    __mapper_args__ = {"version_id_col": lock_version}


class FinishedTask(Base):
    """A finished task of an instance's workflow, stored once as its JSON text: a finished
    task never changes, so a step writes only the tasks it finished, and the instance's
    ``state`` keeps the rest (engine.spiff.state_json). ``seq`` is the task's place in the
    order the workflow created its tasks; ``tree`` the subprocess it belongs to ("" for the
    process itself)."""

    __tablename__ = "finished_tasks"

    instance_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("process_instances.id"), primary_key=True
    )
    task_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    tree: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)


class HumanTask(Base):
    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_human_tasks_queue", "status", "role", "due_at"),
        Index("ix_human_tasks_assignee", "assignee", "status", "due_at"),
        Index("ix_human_tasks_team", "team", "status", "due_at", postgresql_include=["case_id"]),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("process_instances.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(200))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str | None] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(String(200))
    # The case's team, copied so a supervisor's team view reads one index in due order
    # instead of joining every ready task to its case. A case's team is set when it opens.
    team: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    draft_saved_by: Mapped[str | None] = mapped_column(String(200))
    # Whom a task of per-child or per-allegation work is for (its multi-instance item): the
    # person's or allegation's id, and the words every list shows after the task's name.
    subject_id: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(300))
    # Set when a statutory deadline bounding the task passed with the task still open; the
    # task stays open and its lateness counts against the deadline's federal measure.
    overdue_since: Mapped[datetime | None]


class Timer(Base):
    __tablename__ = "timers"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id", "due_at", name="uq_timers_occurrence"),
        Index("ix_timers_status_due", "status", "due_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("process_instances.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    attached_to: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    interrupting: Mapped[bool] = mapped_column(Boolean, default=True)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    # Claiming and retrying: a worker leases a due timer; a failed run is retried with
    # backoff and, after the last attempt, becomes an incident.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class AwaitedMessage(Base):
    __tablename__ = "awaited_messages"
    __table_args__ = (Index("ix_awaited_messages_route", "case_id", "message_name"),)

    instance_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("process_instances.id"), primary_key=True
    )
    message_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))


class AuditEvent(Base):
    """Append-only: rows are inserted, never updated or deleted.

    On PostgreSQL the table is partitioned by month of ``at`` (engine.storage.audit_partitions)
    and its key there is (id, at); ids stay unique, from one sequence."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    instance_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class MessageStartRoute(Base):
    """Which process of a deployed version starts when a message arrives for a case."""

    __tablename__ = "message_start_routes"

    version_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"), primary_key=True)
    message_name: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    process_id: Mapped[str] = mapped_column(String(200), primary_key=True)


class Deadline(Base):
    """One statutory clock (DOMAIN §3: T06, T13…) armed in a case, and how it ended."""

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_measure", "measure", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("process_instances.id"))
    timer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("timers.id"), unique=True)
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    deadline_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    measure: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # open, met, missed, cancelled
    # When the work was done (its event time: the contact, not the typing of it)…
    met_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    # …and when it was entered. A deadline missed by the clock but met by the event time of a
    # late entry is met, and says so.
    entered_at: Mapped[datetime | None]


class ScheduledAlert(Base):
    """A rung of a deadline's escalation ladder, waiting for its moment."""

    __tablename__ = "scheduled_alerts"
    __table_args__ = (Index("ix_scheduled_alerts_due", "status", "due_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    deadline_row_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deadlines.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # reminder, due, overdue, escalation
    due_at: Mapped[datetime]
    recipients: Mapped[list[Any]]
    status: Mapped[str] = mapped_column(String(16))  # pending, raised, skipped, cancelled
    claimed_until: Mapped[datetime | None]


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    deadline_id: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    raised_at: Mapped[datetime] = mapped_column(index=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None]


class AlertRecipient(Base):
    """Who an alert goes to: the ladder's role, and the user it resolved to (when known)."""

    __tablename__ = "alert_recipients"
    __table_args__ = (Index("ix_alert_recipients_user", "user_id", "alert_id"),)

    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(200))


class Incident(Base):
    """A timer whose engine run kept failing: nothing is dropped, an administrator decides."""

    __tablename__ = "incidents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    instance_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    timer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    element_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(index=True)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(100), index=True)
    supervisor_id: Mapped[str | None] = mapped_column(String(200))


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[Any]]
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"), index=True)
    unit: Mapped[str | None] = mapped_column(String(100))
    security_group: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # Where and how alerts reach the person: "immediate", "digest" (once a day) or "none".
    email: Mapped[str | None] = mapped_column(String(320))
    notify: Mapped[str] = mapped_column(String(16), default="immediate")
    last_digest_at: Mapped[datetime | None]


class Notification(Base):
    """Something a person should hear of by email (a task given to them, a reminder, an overdue
    alert, an escalation), written with the change that caused it and sent by the mailer. It
    names the case by number and links to casework: never a child's or reporter's name."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_unsent", "sent_at", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Not a foreign key: an assignment may name someone without an account yet (a case opened
    # by another system); their notifications wait, and are sent once they have an address.
    user_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    case_number: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_until: Mapped[datetime | None]


class CalendarFeed(Base):
    """A person's calendar subscription: its URL carries a random token, stored as its SHA-256
    and revocable, so a phone's calendar can read the person's due dates without a password."""

    __tablename__ = "calendar_feeds"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ApiToken(Base):
    """Bearer tokens are stored as their SHA-256: a token is 32 random bytes, so a fast hash
    is enough and the database never holds one that works."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class Contact(Base):
    """The contacts log of a case: visits, calls, attempts."""

    __tablename__ = "contacts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    occurred_at: Mapped[datetime]
    contact_type: Mapped[str] = mapped_column(String(32))
    location: Mapped[str] = mapped_column(String(64))
    participants: Mapped[list[Any]]
    narrative: Mapped[str] = mapped_column(Text)
    attempted_only: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]


class Document(Base):
    """A file kept on the case (a medical report, a photograph, a signed plan, a court order):
    its bytes in the database, with the record, so that they are written and read with it.
    Deleting keeps the row as a tombstone (who, when, why) and drops only the bytes."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(200))  # as its bytes say, not as declared
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # What on the case it concerns: a person, an allegation, a contact or a record entry.
    link_kind: Mapped[str | None] = mapped_column(String(32))
    link_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    identifies_reporter: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime]
    deleted_by: Mapped[str | None] = mapped_column(String(200))
    deleted_at: Mapped[datetime | None]
    delete_reason: Mapped[str | None] = mapped_column(Text)


class Provider(Base):
    """A partner agency families are referred to: the services it offers (codes of the
    profile's ``data.services``), where, in which languages, how many it can take."""

    __tablename__ = "providers"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    services: Mapped[list[Any]]
    area: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(300), default="")
    languages: Mapped[list[Any]]
    capacity: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Referral(Base):
    """A family member referred to a provider for a service, and what became of it: each status
    with its date and note, forward only (sent, accepted or declined, scheduled, attending,
    completed or not engaged)."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_unanswered", "status", "answer_due_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_people.id"))
    service: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime]
    status_on: Mapped[date]
    history: Mapped[list[Any]]
    made_by: Mapped[str] = mapped_column(String(200))
    # By when the provider should have answered (the profile's days), and when the worker was
    # told it had not (once).
    answer_due_at: Mapped[datetime | None]
    alerted_at: Mapped[datetime | None]


class RecordEntry(Base):
    """One recorded fact of the case file: what a completed task's form said (or an amendment
    of it), typed by its form's record kind, with when it happened and when it was entered.

    Append-only: an amendment is a new entry naming the one it amends and why; the original
    stays as it was."""

    __tablename__ = "record_entries"
    __table_args__ = (Index("ix_record_entries_case", "case_id", "kind", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    # The definition version whose form the entry was typed in: its labels read it back.
    version_id: Mapped[int | None] = mapped_column(Integer)
    process_id: Mapped[str | None] = mapped_column(String(200))
    element_id: Mapped[str | None] = mapped_column(String(200))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(300))
    data: Mapped[dict[str, Any]]
    # The event time; a date-only event keeps its date (its instant is that day's start).
    occurred_at: Mapped[datetime]
    occurred_on: Mapped[date | None] = mapped_column(Date)
    entered_at: Mapped[datetime]
    entered_by: Mapped[str] = mapped_column(String(200))
    entered_role: Mapped[str | None] = mapped_column(String(100))
    late_entry: Mapped[bool] = mapped_column(Boolean, default=False)
    amends_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("record_entries.id"))
    amendment_reason: Mapped[str | None] = mapped_column(Text)


class TaskComment(Base):
    __tablename__ = "task_comments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("human_tasks.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    author: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)


# -- webhooks -----------------------------------------------------------------------------------


class OutboxEvent(Base):
    """Something that happened, written in the same commit as the change it reports."""

    __tablename__ = "outbox_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    payload: Mapped[dict[str, Any]]


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(String(2000))
    topics: Mapped[list[Any]]
    description: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(String(200))
    # After a rotation the old secret keeps signing beside the new one until this instant.
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    # A provider's own subscription hears only what is addressed to that provider (the
    # referrals made to it); the agency's (None) hears everything else, never those.
    provider_id: Mapped[str | None] = mapped_column(
        ForeignKey("providers.id", name="fk_webhook_subscriptions_provider")
    )


class WebhookDelivery(Base):
    """One event for one subscription: the outbox row a worker claims, posts and retries."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_queue", "subscription_id", "status", "seq"),
    )

    # Creation order, which deliveries of one subscription keep.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # The webhook-id header: the same on every retry and replay, so receivers can deduplicate.
    message_id: Mapped[str] = mapped_column(String(64), index=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_events.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


class WebhookAttempt(Base):
    """The delivery log: one row per POST."""

    __tablename__ = "webhook_attempts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    delivery_seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("webhook_deliveries.seq"),
        index=True,
    )
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)


class InboundSource(Base):
    """Another system allowed to send events in, with its secret and its routes: which of its
    event types becomes which BPMN message, for which case."""

    __tablename__ = "inbound_sources"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    secret: Mapped[str] = mapped_column(String(200))
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_until: Mapped[datetime | None]
    routes: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))


class InboundEvent(Base):
    """Every signed event received, applied or refused: the idempotency record and the place to
    inspect what another system sent."""

    __tablename__ = "inbound_events"

    source_id: Mapped[str] = mapped_column(ForeignKey("inbound_sources.id"), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    event_type: Mapped[str | None] = mapped_column(String(100))
    case_number: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    response_status: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]]
    body: Mapped[str] = mapped_column(Text)


class SignInThrottle(Base):
    """Password attempts per user name in the current lockout window. An attempt reserves its
    slot here (one atomic UPDATE) before its password is checked, so simultaneous guesses
    cannot all read a count from before each other. Names that match no user have rows too:
    the answers must not tell who exists."""

    __tablename__ = "sign_in_throttle"

    user_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser. Its cookie holds a random id; the row holds that id's SHA-256, so
    that a copy of the database signs no one in. A request is signed in only while its row is
    live: not ended (sign-out, token revocation) and not expired."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class EmergencyAccess(Base):
    """A case opened by breaking the glass: who, why, until when, and whether the case's
    supervisor and the security group have been told (the next morning)."""

    __tablename__ = "emergency_access"
    __table_args__ = (
        Index("ix_emergency_access_user", "user_id", "expires_at"),
        Index("ix_emergency_access_notice", "noticed_at", "notice_due_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    notice_due_at: Mapped[datetime]
    noticed_at: Mapped[datetime | None]
