"""Where each child has lived since removal, read from the record: the removal's placements
(one per child removed) and each placement change after it. A placement runs from its start
to the next one's: moves are the history placement stability is measured on (CFSR item 4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


def placements_by_child(
    entries: list[dict[str, Any]], zone: ZoneInfo
) -> dict[str, list[dict[str, Any]]]:
    """child id → placements in order, each with its start, its end (the next move's start,
    or None while it lasts), provider, type, address and why the child came to it. Built from
    the current (amended) data of ``removal`` and ``placement`` entries."""
    moves: list[tuple[str, str, dict[str, Any]]] = []
    for entry in entries:
        data = entry["data"]
        if entry["kind"] == "removal":
            # The day of the removal where it happened (a removal at 19:30 local time is that
            # day, though it is already the next in UTC).
            removed_at = datetime.fromisoformat(entry["occurred_at"])
            start = removed_at.astimezone(zone).date().isoformat()
            for placed in data.get("placements", []):
                if isinstance(placed, dict) and placed.get("child_id"):
                    moves.append((start, entry["id"], {**placed, "reason": "removal"}))
        elif entry["kind"] == "placement" and data.get("child_id") and data.get("moved_on"):
            moves.append((str(data["moved_on"]), entry["id"], {**data, "reason": data.get(
                "reason_for_change")}))  # fmt: skip
    history: dict[str, list[dict[str, Any]]] = {}
    for start, entry_id, placed in sorted(moves, key=lambda m: (m[0], m[1])):
        child = str(placed.get("child_id"))
        stays = history.setdefault(child, [])
        if stays:
            stays[-1]["end"] = start
        stays.append(
            {
                "start": start,
                "end": None,
                "provider": placed.get("provider"),
                "placement_type": placed.get("placement_type"),
                "address": placed.get("address"),
                "reason": placed.get("reason"),
                "entry_id": entry_id,
            }
        )
    return history
