"""Referrals to partner agencies: a provider offers the jurisdiction's services; a family
member is referred only to a provider offering the service; what became of the referral moves
forward only, each step dated and noted; other systems hear of it by ids and status alone;
and the court report lists the referrals and their outcome."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from conftest import DESIGNER, ROOT
from cps_cases import CpsCase, reported, texas
from engine.cases import referrals
from engine.cases.court_report import court_report_html
from engine.context import EngineContext
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import Deployment
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.identity.users import Principal
from engine.storage.tables import CasePerson, OutboxEvent

ALEX = Principal("alex", "Alex", frozenset({"administrator"}), None)
IVY = Principal("ivy.investigator", "Ivy", frozenset({"investigator"}), "north")
SUE = Principal(
    "sue.supervisor", "Sue", frozenset({"supervisor"}), "north",
    supervised_teams=frozenset({"north"}),
)  # fmt: skip


@pytest.fixture
def cps(ctx: EngineContext) -> Deployment:
    ctx.clock.move_to(datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    return deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))


def family(ctx: EngineContext) -> tuple[CpsCase, str]:
    case = reported(ctx, texas(2025, 3, 3, 9, 15), [("Lia Moreno", "2021-11-02")])
    with ctx.db.reader() as session:
        mother = session.scalar(
            select(CasePerson.id).where(
                CasePerson.case_id == case.id, CasePerson.role == "caregiver"
            )
        )
    return case, str(mother)


def directory(ctx: EngineContext) -> None:
    referrals.save_provider(ctx, ALEX, referrals.NewProvider(
        "hope-house", "Hope House", ["parenting", "counselling"], area="Travis County",
        languages=("English", "Spanish"), capacity=12,
    ))  # fmt: skip
    referrals.save_provider(ctx, ALEX, referrals.NewProvider(
        "safe-roof", "Safe Roof", ["housing"], area="Austin",
    ))  # fmt: skip


def test_a_referral_goes_only_to_a_provider_offering_the_service(
    ctx: EngineContext, cps: Deployment
) -> None:
    directory(ctx)
    case, mother = family(ctx)
    with pytest.raises(Forbidden):
        referrals.save_provider(ctx, IVY, referrals.NewProvider("x", "X", ["housing"]))
    with pytest.raises(InvalidInput, match="no such service"):
        referrals.save_provider(ctx, ALEX, referrals.NewProvider("x", "X", ["astrology"]))
    with pytest.raises(InvalidInput, match="Safe Roof does not offer Parenting classes"):
        referrals.refer(ctx, IVY, case.id, referrals.NewReferral(
            mother, "parenting", "safe-roof", "parenting support after the report"))  # fmt: skip
    made = referrals.refer(ctx, IVY, case.id, referrals.NewReferral(
        mother, "parenting", "hope-house", "parenting support after the report"))  # fmt: skip
    assert (made["status"], made["provider"], made["service_title"]) == (
        "sent",
        "Hope House",
        "Parenting classes",
    )
    assert [p["id"] for p in referrals.providers(ctx, "housing")] == ["safe-roof"]


def test_what_became_of_a_referral_moves_forward_only(ctx: EngineContext, cps: Deployment) -> None:
    directory(ctx)
    case, mother = family(ctx)
    made = referrals.refer(ctx, IVY, case.id, referrals.NewReferral(
        mother, "housing", "safe-roof", "the family lost its flat"))  # fmt: skip
    rid = uuid.UUID(made["id"])
    ctx.clock.move_to(texas(2025, 3, 10, 12))  # type: ignore[attr-defined]
    referrals.move(ctx, IVY, case.id, rid, "accepted", date(2025, 3, 5), "a flat from April")
    with pytest.raises(Conflict, match="forward only"):
        referrals.move(ctx, IVY, case.id, rid, "sent")
    with pytest.raises(Conflict):
        referrals.move(ctx, IVY, case.id, rid, "declined")  # accepted and declined are one step
    with pytest.raises(InvalidInput, match="before"):
        referrals.move(ctx, IVY, case.id, rid, "scheduled", date(2025, 3, 4))
    with pytest.raises(InvalidInput, match="after today"):
        referrals.move(ctx, IVY, case.id, rid, "scheduled", date(2025, 3, 11))
    done = referrals.move(ctx, IVY, case.id, rid, "completed", date(2025, 3, 9), "moved in")
    assert [h["status"] for h in done["history"]] == ["sent", "accepted", "completed"]
    with pytest.raises(Conflict):
        referrals.move(ctx, IVY, case.id, rid, "not_engaged")

    # The agency hears ids and statuses. The offer with the family's details is for the
    # provider's own subscription (tests/http/test_referral_answers.py): Safe Roof has none,
    # so it is not even written.
    with ctx.db.reader() as session:
        events = session.scalars(
            select(OutboxEvent).where(OutboxEvent.topic.like("referral.%"))
        ).all()
    assert [(e.topic, e.payload["data"]["status"]) for e in events] == [
        ("referral.sent", "sent"),
        ("referral.status_changed", "accepted"),
        ("referral.status_changed", "completed"),
    ]
    assert all("Moreno" not in str(e.payload) and "flat" not in str(e.payload) for e in events)

    report = court_report_html(ctx, SUE, case.id)
    assert "Safe Roof" in report and "completed" in report and "moved in" in report


def test_a_referral_left_unanswered_alerts_its_worker_once(
    ctx: EngineContext, cps: Deployment
) -> None:
    directory(ctx)
    case, mother = family(ctx)
    ctx.clock.move_to(texas(2025, 3, 4, 10))  # type: ignore[attr-defined]
    referrals.refer(ctx, IVY, case.id, referrals.NewReferral(
        mother, "housing", "safe-roof", "the family lost its flat"))  # fmt: skip
    answered = referrals.refer(ctx, IVY, case.id, referrals.NewReferral(
        mother, "parenting", "hope-house", "parenting support after the report"))  # fmt: skip
    referrals.move(ctx, IVY, case.id, uuid.UUID(answered["id"]), "accepted")

    case.at(texas(2025, 3, 14, 9))  # nine days and some hours: not yet
    assert unanswered_alerts(ctx) == []
    case.at(texas(2025, 3, 14, 11))  # ten days (the profile's referral_answer_days)
    [(message, recipients)] = unanswered_alerts(ctx)
    assert (
        "Safe Roof for Housing assistance, sent Tue 04 Mar 2025, is unanswered after 10" in message
    )
    assert "ivy.investigator" in recipients
    case.at(texas(2025, 3, 20, 11))
    assert len(unanswered_alerts(ctx)) == 1  # once


def unanswered_alerts(ctx: EngineContext) -> list[tuple[str, list[str]]]:
    from engine.storage.tables import Alert, AlertRecipient

    with ctx.db.reader() as session:
        alerts = session.scalars(select(Alert).where(Alert.kind == "referral")).all()
        return [
            (
                a.message,
                sorted(
                    r.user_id or ""
                    for r in session.scalars(
                        select(AlertRecipient).where(AlertRecipient.alert_id == a.id)
                    )
                ),
            )
            for a in alerts
        ]


def test_a_reason_or_note_naming_the_reporter_is_cut_for_who_may_not_see_them(
    ctx: EngineContext, cps: Deployment
) -> None:
    directory(ctx)
    case, mother = family(ctx)
    with ctx.db.writer() as session:
        session.add(CasePerson(id=uuid.uuid4(), case_id=case.id, role="reporter",
                               name="Rita Reporter"))  # fmt: skip
        session.commit()
    made = referrals.refer(ctx, SUE, case.id, referrals.NewReferral(
        mother, "housing", "safe-roof", "Rita Reporter says the flat is gone"))  # fmt: skip
    referrals.move(ctx, SUE, case.id, uuid.UUID(made["id"]), "accepted", note="told Rita Reporter")
    [seen_by_sue] = referrals.referrals_of(ctx, SUE, case.id)
    assert "Rita Reporter" in seen_by_sue["reason"]
    [seen_by_ivy] = referrals.referrals_of(ctx, IVY, case.id)
    assert "Rita Reporter" not in seen_by_ivy["reason"]
    assert "Rita Reporter" not in seen_by_ivy["history"][-1]["note"]


def test_a_provider_takes_no_more_families_than_its_capacity(
    ctx: EngineContext, cps: Deployment
) -> None:
    referrals.save_provider(ctx, ALEX, referrals.NewProvider(
        "small-steps", "Small Steps", ["parenting", "counselling"], capacity=1,
    ))  # fmt: skip
    first, mother = family(ctx)
    second, other_mother = family(ctx)

    def refer(case: CpsCase, person: str, service: str = "parenting") -> dict[str, Any]:
        asked = referrals.NewReferral(person, service, "small-steps", "support after the report")
        return referrals.refer(ctx, SUE, case.id, asked)

    taken = refer(first, mother)
    refer(first, mother, "counselling")  # the family it has may be referred again
    with pytest.raises(InvalidInput, match="Small Steps is full: it takes 1 family and has 1"):
        refer(second, other_mother)
    # Once the first family's referrals are over, its place is free.
    referrals.move(ctx, SUE, first.id, uuid.UUID(taken["id"]), "declined", note="waiting list")
    with pytest.raises(InvalidInput, match="is full"):
        refer(second, other_mother)  # the counselling referral still holds the place
    [counselling] = [r for r in referrals.referrals_of(ctx, SUE, first.id)
                     if r["service"] == "counselling"]  # fmt: skip
    referrals.move(ctx, SUE, first.id, uuid.UUID(counselling["id"]), "declined")
    assert refer(second, other_mother)["status"] == "sent"
