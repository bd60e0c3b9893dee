"""Records retention: a closed case's finished engine state compacted after its jurisdiction's
period, its record still whole; an unsubstantiated report soft-expunged; delivered webhook rows
pruned; the audit trail's monthly partitions on PostgreSQL. Report mode changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, func, make_url, select, text, update
from sqlalchemy.exc import DBAPIError

from conftest import POSTGRES_URL
from cps_cases import (
    CASEWORKER,
    SUPERVISOR,
    CpsCase,
    investigate_to_approval,
    open_quiet_case,
    reported,
    texas,
)
from database_templates import AGENCY_SET_UP_AT
from engine.cases import casefile, documents, history
from engine.context import EngineContext
from engine.events.audit_log import AuditSearch, audit_log
from engine.identity.users import Principal
from engine.instances import compacted
from engine.retention import runs
from engine.retention.runs import RetentionPolicy
from engine.statuses import DeliveryStatus, InstanceStatus
from engine.storage import audit_partitions, schema
from engine.storage.tables import (
    AuditEvent,
    Case,
    OutboxEvent,
    ProcessInstance,
    WebhookDelivery,
    WebhookSubscription,
)

SUE = Principal(
    "sue.supervisor", "Sue", frozenset({"supervisor"}), "north",
    supervised_teams=frozenset({"north"}),
)  # fmt: skip
OLGA = Principal("olga", "Olga", frozenset({"auditor"}))
POLICY = RetentionPolicy(outbox_keep=timedelta(days=30), batch=2)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def agency(ctx: EngineContext) -> EngineContext:
    """The agency's database (the shipped bundle deployed), so no test deploys it again."""
    ctx.clock.move_to(AGENCY_SET_UP_AT)  # type: ignore[attr-defined]
    return ctx


def ruled_out_and_closed(ctx: EngineContext) -> CpsCase:
    """A us-tx report investigated, every allegation ruled out, closed on 2025-03-20."""
    case = reported(
        ctx, texas(2025, 3, 4, 9, 0), [("Lia", "2021-11-02")], indicators={"physical_abuse": True}
    )
    investigate_to_approval(case, texas(2025, 3, 4, 15, 0), findings=("RO",), risk="MODERATE")
    case.at(texas(2025, 3, 20, 10, 0))
    case.complete(
        "approve_disposition",
        {"approved": True, "case_action_final": "CLOSE", "service_type_final": "NONE",
         "closure_reason": "allegations ruled out", "community_referral": ""},
        SUPERVISOR,
    )  # fmt: skip
    closed_by_closure(case)
    return case


def closed_by_closure(case: CpsCase) -> None:
    case.complete(
        "approve_closure", {"closure_approved": True, "closing_summary": "done"}, SUPERVISOR
    )
    case.complete("family_closure_meeting", {"held_on": case.today()}, CASEWORKER)
    assert case.record().status == "closed"


def quietly_closed(ctx: EngineContext) -> CpsCase:
    """A case with no finding at all, closed through its closure process on 2025-05-01."""
    case = open_quiet_case(ctx, [("Ana", "2016-04-04")])
    case.at(texas(2025, 5, 1, 9, 0))
    case.message("closure_requested", {"reason": "risk reduced", "court_involved": False})
    closed_by_closure(case)
    return case


def instances(ctx: EngineContext, case_id: uuid.UUID) -> list[tuple[str, str, str, int]]:
    with ctx.db.reader() as session:
        return [
            (i.process_id, i.status, i.serializer_version, i.lock_version)
            for i in session.scalars(
                select(ProcessInstance)
                .where(ProcessInstance.case_id == case_id)
                .order_by(ProcessInstance.created_at, ProcessInstance.id)
            )
        ]


def states(
    ctx: EngineContext, case_id: uuid.UUID | None = None
) -> dict[uuid.UUID, tuple[str, int]]:
    query = select(ProcessInstance)
    if case_id is not None:
        query = query.where(ProcessInstance.case_id == case_id)
    with ctx.db.reader() as session:
        return {i.id: (i.state, i.lock_version) for i in session.scalars(query)}


def audited(ctx: EngineContext, action: str) -> list[AuditEvent]:
    with ctx.db.reader() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def test_a_closed_case_past_its_period_is_expunged_then_compacted_and_still_reads(
    agency: EngineContext,
) -> None:
    ctx = agency
    closed = ruled_out_and_closed(ctx)
    running = reported(ctx, texas(2025, 3, 21, 9, 0), [("Max", "2019-01-01")])
    document = documents.upload(
        ctx, SUE, closed.id,
        documents.NewDocument("r.pdf", "application/pdf", PDF, "Medical report", "medical"),
    )  # fmt: skip
    page_before = casefile.case_page(ctx, SUE, closed.id)
    file_before = casefile.case_file(ctx, SUE, closed.id)
    before = states(ctx, closed.id)

    # Closed ten days: nothing is due yet, and report mode says so.
    closed.at(texas(2025, 3, 30, 10, 0))
    due = runs.due(ctx, POLICY)
    assert (due.instances_to_compact, due.cases_to_expunge) == (0, 0)
    assert runs.perform(ctx, POLICY).as_dict()["cases_expunged"] == 0

    # Past the 30 days of the us-tx expunction: the report says one; saying changes nothing.
    closed.at(texas(2025, 4, 20, 10, 0))
    assert runs.due(ctx, POLICY).cases_to_expunge == 1
    assert states(ctx, closed.id) == before and closed.record().expunged_at is None

    done = runs.perform(ctx, POLICY)

    assert (done.cases_expunged, done.instances_compacted) == (1, 0)
    assert closed.record().expunged_at == texas(2025, 4, 20, 10, 0)
    assert running.record().expunged_at is None
    (entry,) = audited(ctx, "case.expunged")
    assert (entry.actor, entry.case_id, entry.details["finding"]) == ("system", closed.id, "RO")
    with ctx.db.reader() as session:
        topics = session.scalars(
            select(OutboxEvent.topic).where(OutboxEvent.case_id == closed.id)
        ).all()
    assert "case.expunged" in topics
    # Still in the case file and in prior history (risk assessment), marked as expunged.
    assert casefile.case_file(ctx, SUE, closed.id)["expunged_at"] is not None
    second = reported(ctx, texas(2025, 4, 21, 9, 0), [("Lia", "2021-11-02")])
    found = history.prior_history(ctx, SUE, second.id)
    (lia,) = [m for p in found if p["name"] == "Lia" for m in p["matches"]]
    assert (lia["case_number"], lia["expunged"]) == (closed.number, True)
    (max_,) = [m for p in found if p["name"] == "Maria" for m in p["matches"]
               if m["case_number"] == running.number]  # fmt: skip
    assert max_["expunged"] is False
    assert states(ctx, closed.id) == before  # no engine state touched yet

    # A year after closing: the finished instances give up their engine state.
    closed.at(texas(2026, 3, 21, 10, 0))
    phases = len(instances(ctx, closed.id))
    assert phases >= 3  # intake, investigation, closure…
    assert runs.due(ctx, POLICY).instances_to_compact == phases
    done = runs.perform(ctx, POLICY)

    assert done.instances_compacted == phases and done.batches >= 2  # batches of two
    after = states(ctx, closed.id)
    # Each write of a state bumped its version: a workflow cached under the old one is stale.
    assert {i: v + 1 for i, (_, v) in before.items()} == {i: v for i, (_, v) in after.items()}
    assert {v for _, _, v, _ in instances(ctx, closed.id)} == {compacted.COMPACTED}
    # The open case keeps every state: its running phase's, and its finished intake's too.
    open_case = instances(ctx, running.id)
    assert InstanceStatus.ACTIVE in {s for _, s, _, _ in open_case}
    assert compacted.COMPACTED not in {v for _, _, v, _ in open_case}
    compactions = audited(ctx, "retention.engine_state_compacted")
    assert sum(e.details["instances"] for e in compactions) == done.instances_compacted
    # One entry per case, in that case's own trail.
    assert [e.case_id for e in compactions] == [closed.id] * len(compactions)
    assert sorted(i for e in compactions for i in e.details["instance_ids"]) == sorted(
        str(i) for i in before
    )

    # The record reads as before: the case page (the path of each phase kept), the case
    # file's JSON, its audit trail, its documents.
    page = casefile.case_page(ctx, SUE, closed.id)
    assert [(p["process_id"], p["completed"]) for p in page["positions"]] == [
        (p["process_id"], p["completed"]) for p in page_before["positions"]
    ]
    assert all(p["compacted_at"] for p in page["positions"])
    assert _without_reads(casefile.case_file(ctx, SUE, closed.id)) == _without_reads(
        {**file_before, "expunged_at": texas(2025, 4, 20, 10, 0).isoformat()}
    )
    trail, total = audit_log(ctx, OLGA, AuditSearch(case_id=closed.id, limit=500))
    assert total == len(trail) and "case.closed" in {e["action"] for e in trail}
    _, content = documents.content_of(ctx, SUE, closed.id, uuid.UUID(document["id"]))
    assert content == PDF

    # Nothing more is due; a second run finds nothing.
    assert runs.due(ctx, POLICY).instances_to_compact == 0
    assert runs.perform(ctx, POLICY).instances_compacted == 0


def _without_reads(case_file: dict[str, Any]) -> dict[str, Any]:
    # The open-task counts are "now" and move with the clock; the rest is the record.
    return {k: v for k, v in case_file.items() if k not in ("open_tasks", "overdue_tasks")}


def test_a_case_with_no_unsubstantiated_finding_is_never_expunged(agency: EngineContext) -> None:
    closed = quietly_closed(agency)
    closed.at(texas(2026, 6, 1, 9, 0))  # past both periods

    done = runs.perform(agency, POLICY)

    assert done.cases_expunged == 0 and done.instances_compacted >= 1
    assert closed.record().expunged_at is None
    assert casefile.case_page(agency, SUE, closed.id)["positions"]  # still reads


def test_outbox_pruning_keeps_what_is_not_delivered(agency: EngineContext) -> None:
    ctx = agency
    now = datetime(2025, 6, 1, tzinfo=UTC)
    long_ago, lately = now - timedelta(days=40), now - timedelta(days=5)
    ctx.clock.move_to(now)  # type: ignore[attr-defined]
    # The agency's own set-up published events no one subscribed to: they are due as well.
    already = runs.due(ctx, POLICY).events_to_prune
    with ctx.db.writer() as session:
        subscription = WebhookSubscription(
            url="https://receiver.example/hook", topics=["*"], secret="s",
            created_at=long_ago, created_by="alex",
        )  # fmt: skip
        session.add(subscription)
        session.flush()
        events = [uuid.uuid4() for _ in range(6)]
        for event_id in events:
            session.add(OutboxEvent(id=event_id, topic="case.opened", occurred_at=long_ago,
                                    payload={}))  # fmt: skip
        session.flush()
        kinds = [
            (DeliveryStatus.DELIVERED, long_ago),  # pruned, and its event
            (DeliveryStatus.DELIVERED, lately),  # kept: delivered lately
            (DeliveryStatus.PENDING, None),  # kept: still to go
            (DeliveryStatus.DEAD, None),  # kept: can be replayed
            (DeliveryStatus.REPLAYED, None),  # kept: the log of a replay
        ]
        for event_id, (status, delivered_at) in zip(events, kinds, strict=False):
            session.add(
                WebhookDelivery(
                    message_id=f"msg_{event_id.hex}", subscription_id=subscription.id,
                    event_id=event_id, status=status, attempts=1, next_attempt_at=long_ago,
                    created_at=long_ago, delivered_at=delivered_at,
                )
            )  # fmt: skip
        # The sixth event had no subscriber: nothing waits for it, it goes too.
        session.commit()
    due = runs.due(ctx, POLICY)
    assert (due.deliveries_to_prune, due.events_to_prune) == (1, already + 1)

    done = runs.perform(ctx, POLICY)

    assert (done.deliveries_pruned, done.events_pruned) == (1, already + 2)
    with ctx.db.reader() as session:
        left = sorted(session.scalars(select(WebhookDelivery.status)).all())
        events_left = set(session.scalars(select(OutboxEvent.id)).all())
    assert left == sorted(status for status, _ in kinds[1:])
    assert events_left == set(events[1:5])  # the agency's went too
    pruned = audited(ctx, "retention.outbox_pruned")
    assert sum(e.details["deliveries"] for e in pruned) == 1
    assert sum(e.details["events"] for e in pruned) == already + 2
    assert all(e.actor == "system" for e in pruned)


def test_pruning_is_off_without_a_setting(agency: EngineContext) -> None:
    keep_all = RetentionPolicy(outbox_keep=None)
    with agency.db.writer() as session:
        session.add(OutboxEvent(id=uuid.uuid4(), topic="case.opened", occurred_at=AGENCY_SET_UP_AT,
                                payload={}))  # fmt: skip
        session.commit()
    agency.clock.move_to(AGENCY_SET_UP_AT + timedelta(days=3650))  # type: ignore[attr-defined]

    assert runs.due(agency, keep_all).events_to_prune == 0
    assert runs.perform(agency, keep_all).events_pruned == 0


def test_the_audit_trail_is_partitioned_by_month_on_postgresql(agency: EngineContext) -> None:
    ctx = agency
    with ctx.db.engine.connect() as connection:
        partitioned = audit_partitions.is_partitioned(connection)
    if ctx.db.is_sqlite:
        assert not partitioned
        assert runs.due(ctx, POLICY).audit.partitioned is False
        return
    assert partitioned
    # A row of a month with no partition yet waits in the default partition…
    far = datetime(2031, 7, 9, 12, 0, tzinfo=UTC)
    case = open_quiet_case(ctx, [("Ana", "2016-04-04")])
    with ctx.db.writer() as session:
        row = AuditEvent(at=far, actor="x", action="test.far", case_id=case.id, details={})
        session.add(row)
        session.commit()
        far_id = row.id
    ctx.clock.move_to(far)  # type: ignore[attr-defined]
    due = runs.due(ctx, POLICY)
    assert due.audit.in_default >= 1
    assert "audit_events_y2031m07" in due.audit.missing

    done = runs.perform(ctx, POLICY)

    # …and moves into its month when the run creates it with the months ahead.
    assert {"audit_events_y2031m07", "audit_events_y2031m10"} <= set(done.partitions_created)
    with ctx.db.engine.connect() as connection:
        where = connection.scalar(
            text("SELECT tableoid::regclass::text FROM audit_events WHERE action = 'test.far'")
        )
        assert runs.due(ctx, POLICY).audit.missing == ()
    assert where == "audit_partitions.audit_events_y2031m07"
    # Moved with its id, and the trail still refuses changes, in its new month too.
    assert [e.id for e in audited(ctx, "test.far")] == [far_id]
    for change in ("UPDATE audit_events SET actor = 'y' WHERE action = 'test.far'",
                   "DELETE FROM audit_events WHERE action = 'test.far'"):  # fmt: skip
        with pytest.raises(DBAPIError, match="append-only"), ctx.db.engine.begin() as connection:
            connection.execute(text(change))
    (created,) = audited(ctx, "retention.audit_partitions_created")
    assert "audit_events_y2031m07" in created.details["partitions"]
    # The trail still reads by case, across partitions.
    trail, _ = audit_log(ctx, OLGA, AuditSearch(case_id=case.id, limit=50))
    assert "test.far" in {e["action"] for e in trail}
    assert runs.perform(ctx, POLICY).partitions_created == []


def test_report_mode_changes_nothing(agency: EngineContext) -> None:
    quietly_closed(agency)
    agency.clock.move_to(datetime(2027, 1, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    with agency.db.reader() as session:
        counts_before = {
            table: session.scalar(select(func.count()).select_from(table))
            for table in (AuditEvent, OutboxEvent, WebhookDelivery, Case)
        }
    before = states(agency)

    due = runs.due(agency, POLICY)

    assert due.instances_to_compact >= 1
    assert states(agency) == before
    with agency.db.reader() as session:
        assert counts_before == {
            table: session.scalar(select(func.count()).select_from(table))
            for table in (AuditEvent, OutboxEvent, WebhookDelivery, Case)
        }


def test_no_phase_of_a_case_with_one_still_running_is_compacted(agency: EngineContext) -> None:
    closed = ruled_out_and_closed(agency)
    phases = instances(agency, closed.id)
    assert len(phases) >= 2
    with agency.db.writer() as session:
        last = session.scalars(
            select(ProcessInstance)
            .where(ProcessInstance.case_id == closed.id)
            .order_by(ProcessInstance.created_at.desc(), ProcessInstance.id.desc())
        ).first()
        assert last is not None
        # As if its last phase were still running (a report screened out by a phase that goes
        # on): its finished phases are past their period, but the case's work has not ended.
        last.status = InstanceStatus.ACTIVE
        session.commit()
    agency.clock.move_to(datetime(2027, 1, 1, tzinfo=UTC))  # type: ignore[attr-defined]

    assert runs.due(agency, POLICY).instances_to_compact == 0
    assert runs.perform(agency, POLICY).instances_compacted == 0
    assert all(v != compacted.COMPACTED for _, _, v, _ in instances(agency, closed.id))

    with agency.db.writer() as session:
        session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == last.id)
            .values(status=InstanceStatus.COMPLETED, lock_version=ProcessInstance.lock_version + 1)
        )
        session.commit()
    assert runs.perform(agency, POLICY).instances_compacted == len(phases)


@pytest.fixture
def bare_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own, to migrate up and down (a SQLite file, or a database
    created on the test PostgreSQL server)."""
    if POSTGRES_URL is None:
        engine = create_engine(f"sqlite:///{tmp_path / 'retention-migration.sqlite3'}")
        yield engine
        engine.dispose()
        return
    server = make_url(POSTGRES_URL)
    name = f"casework_0018_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(server.set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _trail(engine: Engine) -> list[tuple[int, datetime, str]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, at, action FROM audit_events ORDER BY id"))
        return [(i, _utc(at), action) for i, at, action in rows]


def _utc(at: Any) -> datetime:
    # SQLite hands the column back as text through a plain engine.
    value = datetime.fromisoformat(at) if isinstance(at, str) else at
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _append(engine: Engine, at: datetime, action: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_events (at, actor, action, details)"
                " VALUES (:at, 'x', :action, '{}')"
            ),
            {"at": at, "action": action},
        )


def _refuses_changes(engine: Engine) -> None:
    for change in ("UPDATE audit_events SET actor = 'y'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(change))


def test_migration_0018_keeps_the_trail_its_ids_and_its_guard_both_ways(
    bare_engine: Engine,
) -> None:
    engine = bare_engine
    schema.upgrade(engine, "0017")
    january, march = datetime(2024, 1, 15, 9, tzinfo=UTC), datetime(2024, 3, 2, 17, tzinfo=UTC)
    _append(engine, january, "a")
    _append(engine, march, "b")
    before = _trail(engine)

    schema.upgrade(engine, "0018")

    assert _trail(engine) == before
    _append(engine, march, "c")  # the sequence goes on numbering
    assert [i for i, _, _ in _trail(engine)] == [1, 2, 3]
    _refuses_changes(engine)
    with engine.connect() as connection:
        assert audit_partitions.is_partitioned(connection) is (not _sqlite(engine))
        if not _sqlite(engine):
            where = dict(
                connection.execute(
                    text("SELECT action, tableoid::regclass::text FROM audit_events")
                ).all()
            )
            assert where == {
                "a": "audit_partitions.audit_events_y2024m01",
                "b": "audit_partitions.audit_events_y2024m03",
                "c": "audit_partitions.audit_events_y2024m03",
            }
    after = _trail(engine)

    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(schema.MIGRATIONS))
        config.attributes["connection"] = connection
        command.downgrade(config, "0017")

    assert _trail(engine) == after
    _append(engine, january, "d")
    assert [i for i, _, _ in _trail(engine)] == [1, 2, 3, 4]
    _refuses_changes(engine)
    with engine.connect() as connection:
        assert audit_partitions.is_partitioned(connection) is False
        if not _sqlite(engine):
            assert connection.scalar(text("SELECT to_regnamespace('audit_partitions')")) is None


def _sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
