"""A profile's ``retention`` is validated strictly, each problem naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.deadlines.profiles import Expunction, parse_profile

ROOT = Path(__file__).resolve().parents[2]


def parsed(retention: Any) -> tuple[Any, list[str]]:
    raw = {"id": "x", "time_zone": "Europe/London", "retention": retention}
    profile, problems = parse_profile("profiles/x.json", json.dumps(raw).encode())
    return profile, [f"{p.file}: {p.message}" for p in problems]


def test_a_profile_says_its_retention_periods_as_durations() -> None:
    profile, problems = parsed(
        {
            "compact_engine_state_after": "P1Y6M",
            "expunction": {
                "after": "P30D",
                "decision_output": "finding",
                "unsubstantiated": ["RO"],
            },
        }
    )
    assert problems == []
    assert profile.retention.compact_engine_state_after == "P1Y6M"
    assert profile.retention.expunction == Expunction("P30D", "finding", frozenset({"RO"}))
    assert parsed({})[0].retention.expunction is None  # nothing kept back, nothing expunged


def test_a_bad_retention_is_refused_naming_the_file_and_the_field() -> None:
    assert parsed({"compact_engine_state_after": "a year"})[1] == [
        "profiles/x.json: retention/compact_engine_state_after: 'a year' is not an ISO 8601 "
        "duration"
    ]
    assert parsed({"compact_engine_state_after": "-P1Y"})[1] == [
        "profiles/x.json: retention/compact_engine_state_after: '-P1Y' is negative; a period "
        "runs forward"
    ]
    _, problems = parsed({"expunction": {"after": "P30D", "unsubstantiated": []}})
    assert len(problems) == 2 and all(p.startswith("profiles/x.json: ") for p in problems)
    assert any("'decision_output' is a required property" in p for p in problems)
    assert any("retention/expunction/unsubstantiated" in p for p in problems)
    assert "Additional properties" in parsed({"keep_for": "P1Y"})[1][0]


def test_the_shipped_profiles_parse_with_their_retention() -> None:
    for path in sorted((ROOT / "bpmn" / "profiles").glob("*.json")):
        profile, problems = parse_profile(path.name, path.read_bytes())
        assert problems == [], path
        assert profile is not None and profile.retention.compact_engine_state_after is not None
