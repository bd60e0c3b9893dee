"""Rolling back: a designer makes an earlier version current again; new cases (and phases
started by a message) start on it while running ones stay on theirs; deploying the newer
files again makes that version current once more, instead of silently changing nothing; every
activation is audited and heard by subscribers; only designers and administrators may."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from conftest import DESIGNER, ROOT
from cps_cases import SCREENER, CpsCase, open_report
from engine.context import EngineContext
from engine.definitions.bundle import Bundle, read_bundle
from engine.definitions.catalogue import definition_versions
from engine.definitions.deployments import activate_version, deploy_bundle
from engine.errors import Forbidden, NotFound
from engine.identity.users import Principal
from engine.instances.lifecycle import start_instance
from engine.storage.tables import AuditEvent, OutboxEvent, ProcessInstance

DANA = Principal("dana.designer", "Dana", frozenset({"process_designer"}))
SUE = Principal("sue.supervisor", "Sue", frozenset({"supervisor"}), "north")
RENAMED = b'name="Record the hotline report, as the caller said it"'


def newer_files() -> Bundle:
    files = dict(read_bundle([ROOT / "bpmn"]).files)
    files["intake.bpmn"] = files["intake.bpmn"].replace(b'name="Record hotline report"', RENAMED)
    return Bundle(files)


def version_of(case: CpsCase) -> int:
    with case.ctx.db.reader() as session:
        return session.scalars(
            select(ProcessInstance.version_id).where(ProcessInstance.case_id == case.id)
        ).one()


def test_a_rollback_starts_new_cases_on_the_earlier_version_and_leaves_running_ones(
    ctx: EngineContext,
) -> None:
    ctx.clock.move_to(datetime(2025, 3, 3, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    first = deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))
    second = deploy_bundle(ctx, DESIGNER, newer_files())
    on_second = open_report(ctx, [("Lia", "2021-11-02")])
    assert version_of(on_second) == second.version_id
    assert on_second.task("record_report").name.startswith("Record the hotline report")

    rolled = activate_version(ctx, DANA, first.version_id)
    assert (rolled["version"], rolled["previous_version"]) == (first.version_id, second.version_id)
    on_first = open_report(ctx, [("Ana", "2016-04-04")])
    assert version_of(on_first) == first.version_id
    assert on_first.task("record_report").name == "Record hotline report"
    assert version_of(on_second) == second.version_id  # running: stays where it was
    listed = {v["id"]: v["current"] for v in definition_versions(ctx, DANA)}
    assert listed == {first.version_id: True, second.version_id: False}

    # The newer files deployed again: not a silent no-op, that version is current again.
    again = deploy_bundle(ctx, DESIGNER, newer_files())
    assert (again.version_id, again.created, again.reactivated) == (second.version_id, False, True)
    assert version_of(open_report(ctx, [("Mo", "2019-01-01")])) == second.version_id
    unchanged = deploy_bundle(ctx, DESIGNER, newer_files())
    assert (unchanged.created, unchanged.reactivated) == (False, False)

    with ctx.db.reader() as session:
        audited = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "definition.activated")
        ).all()
        heard = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.topic == "definition.activated")
        ).all()
    assert [(a["version_id"], a["previous_version_id"]) for a in audited] == [
        (first.version_id, second.version_id),
        (second.version_id, first.version_id),
    ]
    assert [p["data"]["version_id"] for p in heard] == [first.version_id, second.version_id]


HOME_STUDY = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="home_study_defs"
    targetNamespace="https://casework.example/bpmn">
  <bpmn:process id="home_study" isExecutable="true">
    <bpmn:laneSet id="home_study_lanes"><bpmn:lane id="home_study_worker" name="ongoing_caseworker">
      <bpmn:flowNodeRef>visit_home</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="home_study_start"><bpmn:outgoing>hs1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="visit_home" name="Visit the home"><bpmn:incoming>hs1</bpmn:incoming>
      <bpmn:outgoing>hs2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="home_study_end"><bpmn:incoming>hs2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="hs1" sourceRef="home_study_start" targetRef="visit_home"/>
    <bpmn:sequenceFlow id="hs2" sourceRef="visit_home" targetRef="home_study_end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_rollback_withdraws_a_process_only_the_newer_version_had(ctx: EngineContext) -> None:
    ctx.clock.move_to(datetime(2025, 3, 3, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    first = deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))
    deploy_bundle(ctx, DESIGNER, Bundle({**newer_files().files, "home_study.bpmn": HOME_STUDY}))
    case = open_report(ctx, [("Lia", "2021-11-02")])
    assert start_instance(ctx, SCREENER, case.id, "home_study").process_id == "home_study"

    activate_version(ctx, DANA, first.version_id)

    # The rolled-back version never had it: it starts no more (running ones carry on).
    with pytest.raises(NotFound, match="no deployed process 'home_study'"):
        start_instance(ctx, SCREENER, case.id, "home_study")
    assert case.processes()["home_study"] == ["active"]
    assert version_of_intake(ctx) == first.version_id


def version_of_intake(ctx: EngineContext) -> int:
    with ctx.db.reader() as session:
        return ctx.definitions.newest_version_of(session, "intake")


def test_only_designers_roll_back_and_only_to_a_version_that_exists(ctx: EngineContext) -> None:
    ctx.clock.move_to(datetime(2025, 3, 3, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    first = deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))
    second = deploy_bundle(ctx, DESIGNER, newer_files())
    with pytest.raises(Forbidden):
        activate_version(ctx, SUE, first.version_id)
    with pytest.raises(NotFound, match="no deployed version 99"):
        activate_version(ctx, DANA, 99)
    listed = {v["id"]: v["current"] for v in definition_versions(ctx, DANA)}
    assert listed == {first.version_id: False, second.version_id: True}
