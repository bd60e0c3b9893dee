"""Every page of the app draws for the roles that use it."""

from __future__ import annotations

from typing import Any


def test_pages_draw(sign_in: Any) -> None:
    sam = sign_in("sam")
    sam.go("/intakes/new")
    sam.shot("intake-empty")
    sam.go("/cases")
    sue = sign_in("sue")
    sue.go("/team")
    sue.shot("dashboard-empty")
    dana = sign_in("dana")
    dana.go("/designer")
    dana.shot("designer")
    alex = sign_in("alex")
    alex.go("/admin")
    alex.shot("admin")
