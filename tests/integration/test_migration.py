"""Moving running cases to a corrected version: mid-investigation, a case waiting for its first
contact moves to a version with a changed decision table and a task given a clearer name, and
to one where the task's element was renamed (with a mapping); a dry run says what would move
and changes nothing; an instance that cannot move says why and stays as it was; the task keeps
its history, assignee and due date, and is completed on the new version."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from conftest import DESIGNER, ROOT
from cps_cases import CpsCase, reported, texas
from engine.context import EngineContext
from engine.definitions.bundle import Bundle, read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.errors import Conflict, Forbidden
from engine.identity.users import Principal
from engine.instances.migration import Migration, migrate
from engine.storage.tables import AuditEvent, HumanTask, ProcessInstance

DANA = Principal("dana.designer", "Dana", frozenset({"process_designer"}))
SUE = Principal("sue.supervisor", "Sue", frozenset({"supervisor"}), "north")
CONTACT = {"contact_at": "2025-03-03T15:30:00+00:00", "location": "child_residence"}


def clearer() -> Bundle:
    """The first contact task given a clearer name; a priority rule's window changed."""
    files = dict(read_bundle([ROOT / "bpmn"]).files)
    files["investigation.bpmn"] = files["investigation.bpmn"].replace(
        b'name="Make first face-to-face contact"', b'name="See the child face to face"'
    )
    files["priority.dmn"] = files["priority.dmn"].replace(
        b'<outputEntry id="priority_r10_o1"><text>72</text>',
        b'<outputEntry id="priority_r10_o1"><text>48</text>',
    )
    return Bundle(files)


def renamed() -> Bundle:
    """The first contact's element renamed ``see_child`` (its form too)."""
    files = {}
    for path, content in read_bundle([ROOT / "bpmn"]).files.items():
        text = re.sub(rb"\bfirst_contact\b", b"see_child", content)
        files[path.replace("forms/first_contact.", "forms/see_child.")] = text
    return Bundle(files)


def instance_of(case: CpsCase) -> ProcessInstance:
    with case.ctx.db.reader() as session:
        return session.scalars(
            select(ProcessInstance).where(
                ProcessInstance.case_id == case.id, ProcessInstance.process_id == "investigation"
            )
        ).one()


def waiting(ctx: EngineContext) -> tuple[CpsCase, HumanTask]:
    case = reported(ctx, texas(2025, 3, 3, 9, 15), [("Lia", "2021-11-02")])
    task = case.task("first_contact")
    with ctx.db.writer() as session:
        session.execute(
            update(HumanTask).where(HumanTask.id == task.id).values(assignee="ivy.investigator")
        )
        session.commit()
    with ctx.db.reader() as session:
        row = session.get(HumanTask, task.id)
        assert row is not None
        return case, row


def test_a_case_mid_investigation_moves_to_a_corrected_version(ctx: EngineContext) -> None:
    ctx.clock.move_to(datetime(2025, 3, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    first = deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))
    case, before = waiting(ctx)
    second = deploy_bundle(ctx, DESIGNER, clearer())

    [planned] = migrate(ctx, DANA, Migration(first.version_id, second.version_id, "investigation",
                                             dry_run=True))  # fmt: skip
    assert planned["moves"] is True and planned["waiting"] == ["first_contact"]
    assert planned["cancelled"] == planned["created"] == []
    assert instance_of(case).version_id == first.version_id  # a dry run changes nothing

    [moved] = migrate(ctx, DANA, Migration(first.version_id, second.version_id))
    assert moved["moves"] is True
    assert instance_of(case).version_id == second.version_id
    after = case.task_row(before.id)
    assert (after.assignee, after.due_at, after.created_at) == (
        before.assignee, before.due_at, before.created_at
    )  # fmt: skip
    assert after.name == "See the child face to face"
    with ctx.db.reader() as session:
        [audited] = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "instance.migrated")
        ).all()
    assert (audited["from_version"], audited["to_version"]) == (first.version_id, second.version_id)

    case.at(texas(2025, 3, 3, 11, 0))
    case.complete("first_contact", CONTACT)  # on the new version now
    assert case.tasks("interview_child")
    assert migrate(ctx, DANA, Migration(first.version_id, second.version_id)) == []


def test_a_renamed_element_moves_with_a_mapping_and_not_without(ctx: EngineContext) -> None:
    ctx.clock.move_to(datetime(2025, 3, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    first = deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))
    case, before = waiting(ctx)
    second = deploy_bundle(ctx, DESIGNER, renamed())

    [refused] = migrate(ctx, DANA, Migration(first.version_id, second.version_id, "investigation"))
    assert refused["moves"] is False and "first_contact" in refused["why"]
    assert "map a renamed element" in refused["why"]
    assert instance_of(case).version_id == first.version_id  # as it was, whole
    assert case.task_row(before.id).bpmn_id == "first_contact"

    mapping = {"first_contact": "see_child"}
    [moved] = migrate(
        ctx, DANA, Migration(first.version_id, second.version_id, "investigation", mapping)
    )
    assert moved["moves"] is True and moved["waiting"] == ["see_child"]
    assert moved["cancelled"] == moved["created"] == []
    after = case.task_row(before.id)
    assert (after.bpmn_id, after.assignee, after.due_at) == (
        "see_child", "ivy.investigator", before.due_at
    )  # fmt: skip
    case.at(texas(2025, 3, 3, 11, 0))
    case.complete("see_child", CONTACT)  # with its form under the new id
    assert case.tasks("interview_child")


def test_only_designers_migrate_and_never_onto_the_same_version(ctx: EngineContext) -> None:
    ctx.clock.move_to(datetime(2025, 3, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    first = deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))
    with pytest.raises(Forbidden):
        migrate(ctx, SUE, Migration(first.version_id, first.version_id))
    with pytest.raises(Conflict, match="already"):
        migrate(ctx, DANA, Migration(first.version_id, first.version_id))
