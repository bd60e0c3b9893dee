"""A finished instance whose engine state was given up (records retention).

Its ``state`` column then holds this small marker instead of SpiffWorkflow's JSON, and its
``serializer_version`` says so: no engine ever loads it again (a finished instance never runs).
The marker keeps the path the instance took, as the diagrams draw it; everything else the
record reads (tasks, timers, deadlines, decisions, entries, audit, documents) lives in tables
of its own and stays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.storage.tables import ProcessInstance

# In ``serializer_version``: no serializer reads this state.
COMPACTED = "compacted"


@dataclass(frozen=True)
class CompactedPath:
    """Where a finished instance went, kept when its engine state was given up."""

    compacted_at: str
    completed: list[str] = field(default_factory=list)
    called: list[dict[str, Any]] = field(default_factory=list)


def is_compacted(instance: ProcessInstance) -> bool:
    return instance.serializer_version == COMPACTED


def marker(at: datetime, completed: list[str], called: list[dict[str, Any]]) -> str:
    return json.dumps(
        {"compacted_at": at.isoformat(), "completed": completed, "called": called},
        separators=(",", ":"),
    )


def path_of(instance: ProcessInstance) -> CompactedPath:
    """What the marker kept; a marker that cannot be read keeps nothing (never an error: the
    record must read whatever this column holds)."""
    try:
        kept = json.loads(instance.state)
        return CompactedPath(
            str(kept.get("compacted_at", "")),
            [str(e) for e in kept.get("completed", [])],
            [c for c in kept.get("called", []) if isinstance(c, dict)],
        )
    except (ValueError, AttributeError, TypeError):
        return CompactedPath("")
