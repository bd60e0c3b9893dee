"""The hotline report the benchmarks file, and the screener's record of it (a priority 1 case:
physical abuse, alleged perpetrator at home within 24 hours)."""

from __future__ import annotations

from typing import Any

REPORT: dict[str, Any] = {
    "summary": "bruises on a toddler's face",
    "reporter": {"name": "Rita Reporter", "relationship": "neighbour"},
    "children": [{"name": "Lia", "birth_date": "2022-01-05"}],
    "caregivers": [{"name": "Maria"}],
    "alleged_perpetrators": [{"name": "Rob"}],
    "allegations": [{"victim": 0, "perpetrator": 0, "type": "PHAB", "narrative": "bruises"}],
}


def recorded(received_at: str) -> dict[str, Any]:
    """The record_report form as the screener completes it; the response clock starts at
    ``received_at``."""
    return {
        "received_at": received_at,
        "channel": "phone",
        "narrative": "bruises on the face",
        "screening": {"jurisdiction": "THIS"},
        "indicators": {"physical_abuse": True, "ap_access_24h": True},
        "reporter": {"name": "Rita Reporter", "anonymous": False},
    }
