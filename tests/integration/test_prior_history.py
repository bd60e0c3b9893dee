"""Prior history at intake: a second report on a child finds her earlier case, says why, stays
within the access rules, and a screener links (or unlinks) the people as one person."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from conftest import DESIGNER, ROOT
from engine.cases import casefile, history
from engine.context import EngineContext
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import Deployment
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity.users import Principal
from engine.storage.tables import AuditEvent, Case

SAM = Principal("sam.screener", "Sam", frozenset({"intake_screener"}), "north")
IVY = Principal("ivy.investigator", "Ivy", frozenset({"investigator"}), "north")


@pytest.fixture
def cps(ctx: EngineContext) -> Deployment:
    ctx.clock.move_to(datetime(2025, 3, 3, 15, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    return deploy_bundle(ctx, DESIGNER, read_bundle([ROOT / "bpmn"]))


def filed(ctx: EngineContext, *children: dict[str, Any], by: Principal = SAM) -> uuid.UUID:
    opened = casefile.file_intake(
        ctx,
        by,
        {
            "team": "north",
            "children": list(children),
            "alleged_perpetrators": [{"name": "Rob Stone", "birth_date": "1990-02-02"}],
            "allegations": [{"victim": 0, "perpetrator": 0, "type": "PHAB"}],
        },
    )
    return opened.id


def matches_of(
    ctx: EngineContext, case_id: uuid.UUID, name: str, reader: Principal = SAM
) -> list[dict[str, Any]]:
    [person] = [p for p in history.prior_history(ctx, reader, case_id) if p["name"] == name]
    return list(person["matches"])


def test_a_second_report_finds_the_childs_earlier_case_and_says_why(
    ctx: EngineContext, cps: Deployment
) -> None:
    first = filed(ctx, {"name": "Lia Moreno", "birth_date": "2021-11-02", "address": "1 Elm St"})
    second = filed(ctx, {"name": "Lia Morena", "birth_date": "2021-11-02"})
    unrelated = filed(ctx, {"name": "Ana Diaz", "birth_date": "2019-01-01"})

    [match] = matches_of(ctx, second, "Lia Morena")
    with ctx.db.reader() as session:
        number = session.get_one(Case, first).case_number
    assert (match["case_number"], match["status"], match["linked"]) == (number, "open", False)
    assert match["reason"].startswith("same date of birth, name")
    assert match["allegations"] == [{"type": "PHAB", "disposition": None}]
    assert matches_of(ctx, unrelated, "Ana Diaz") == []
    # The alleged perpetrator is in all three reports: same name and date of birth.
    assert len(matches_of(ctx, unrelated, "Rob Stone")) == 2
    with ctx.db.reader() as session:
        looked = session.scalars(
            select(AuditEvent).where(
                AuditEvent.case_id == second, AuditEvent.action == "history.searched"
            )
        ).all()
    # Lia's earlier case and Rob's two: counted, not named (this case's readers may not know).
    assert looked and looked[-1].details["matches"] == 3
    assert number not in str(looked[-1].details)


def test_a_screener_links_a_match_as_one_person_and_can_undo_it(
    ctx: EngineContext, cps: Deployment
) -> None:
    first = filed(ctx, {"name": "Lia Moreno", "birth_date": "2021-11-02"})
    second = filed(ctx, {"name": "Lia Morena", "birth_date": "2021-11-02"})
    [person] = [p for p in history.prior_history(ctx, SAM, second) if p["name"] == "Lia Morena"]
    [match] = person["matches"]
    change = history.Link(
        second, uuid.UUID(person["person_id"]), uuid.UUID(match["person_id"]), True
    )

    with pytest.raises((Forbidden, NotFound)):
        history.link(ctx, IVY, change)  # an investigator neither screens nor supervises
    linked = history.link(ctx, SAM, change)

    assert linked["person_key"] is not None
    [again] = matches_of(ctx, second, "Lia Morena")
    assert (again["linked"], again["reason"]) == (True, "linked as the same person")
    [back] = matches_of(ctx, first, "Lia Moreno")
    assert back["linked"] is True

    history.link(ctx, SAM, history.Link(change.case_id, change.person_id, change.other_person_id,
                                        False))  # fmt: skip
    [undone] = matches_of(ctx, second, "Lia Morena")
    assert undone["linked"] is False


def test_only_a_suggested_match_can_be_linked(ctx: EngineContext, cps: Deployment) -> None:
    first = filed(ctx, {"name": "Lia Moreno", "birth_date": "2021-11-02"})
    other = filed(ctx, {"name": "Ana Diaz", "birth_date": "2019-01-01"})
    ana = history.prior_history(ctx, SAM, other)
    lia = history.prior_history(ctx, SAM, first)
    ana_id = next(p["person_id"] for p in ana if p["name"] == "Ana Diaz")
    lia_id = next(p["person_id"] for p in lia if p["name"] == "Lia Moreno")
    with pytest.raises(InvalidInput):
        history.link(ctx, SAM, history.Link(other, uuid.UUID(ana_id), uuid.UUID(lia_id), True))


def test_a_restricted_earlier_case_shows_only_that_it_exists(
    ctx: EngineContext, cps: Deployment
) -> None:
    first = filed(ctx, {"name": "Lia Moreno", "birth_date": "2021-11-02"})
    with ctx.db.writer() as session:
        session.get_one(Case, first).sensitive = True
        session.commit()
    # Another screener: a restricted report is its own screener's and the security group's.
    sid = Principal("sid.screener", "Sid", frozenset({"intake_screener"}), "north")
    second = filed(ctx, {"name": "Lia Moreno", "birth_date": "2021-11-02"}, by=sid)
    [match] = matches_of(ctx, second, "Lia Moreno", sid)
    assert (match["restricted"], match["case_number"], match["person_id"]) == (True, None, None)
    assert "status" not in match and "name" not in match
