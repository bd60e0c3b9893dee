"""The words pages use: distances of time as people say them, a decision's outcome by the
table's labels and the jurisdiction's words for its codes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.cases.casefile import explain
from engine.cases.facts import value_in_words
from workflows.web.words import distance


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        (timedelta(seconds=20), "1 min"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=3, minutes=10), "3 h"),
        (timedelta(hours=47), "47 h"),
        (timedelta(days=2, hours=3), "2 days"),
        (timedelta(days=30), "30 days"),
    ],
)
def test_a_distance_is_said_to_the_unit_that_matters(delta: timedelta, said: str) -> None:
    assert distance(delta) == said


def test_a_decision_reads_in_the_tables_labels_and_the_jurisdictions_words() -> None:
    data = {
        "outputs": {
            "screening_decision": "SCREEN_IN",
            "referral": "NONE",
            "supervisor_approval": False,
        },
        "labels": {"screening_decision": "Decision", "supervisor_approval": "Supervisor approval"},
        "rules": [{"row": 9, "annotation": "allegation of abuse in this jurisdiction"}],
    }
    said = explain("D1 Screening decision", data, {"SCREEN_IN": "Screen in"})
    assert said == (
        "Decision: Screen in · Referral: None · Supervisor approval: no. "
        "Allegation of abuse in this jurisdiction. (rule 9 of D1 Screening decision)"
    )


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (True, "yes"),
        (None, "—"),
        ("P2_72H", "P2 72h"),
        ("on the porch", "on the porch"),
        (24, "24"),
    ],
)
def test_a_value_without_the_profiles_word_is_still_readable(value: object, said: str) -> None:
    assert value_in_words(value, {}) == said
