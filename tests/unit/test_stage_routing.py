"""A case changes hands with its stage, forward only: investigation → ongoing services, never
back because an investigator's task appears on a case already in services."""

from __future__ import annotations

from engine.tasks.assignment import _stage_moves_on


class Roster:
    def __init__(self, **roles: tuple[str, ...]) -> None:
        self.roles = roles

    def holds(self, user_id: str | None, role: str | None) -> bool:
        return user_id is not None and role in self.roles.get(user_id, ())


ROSTER = Roster(ivy=("investigator",), cal=("ongoing_caseworker",), sue=("supervisor",))


def test_a_case_nobody_has_goes_to_the_first_case_carrying_lane() -> None:
    assert _stage_moves_on(ROSTER, None, "investigator")  # type: ignore[arg-type]
    assert not _stage_moves_on(ROSTER, None, "supervisor")  # type: ignore[arg-type]


def test_ongoing_services_take_the_case_from_the_investigator() -> None:
    assert _stage_moves_on(ROSTER, "ivy", "ongoing_caseworker")  # type: ignore[arg-type]
    assert not _stage_moves_on(ROSTER, "ivy", "investigator")  # type: ignore[arg-type]


def test_an_investigators_task_never_takes_the_case_back_from_services() -> None:
    assert not _stage_moves_on(ROSTER, "cal", "investigator")  # type: ignore[arg-type]
    assert not _stage_moves_on(ROSTER, "cal", "ongoing_caseworker")  # type: ignore[arg-type]


def test_a_worker_without_a_case_carrying_role_gives_way() -> None:
    assert _stage_moves_on(ROSTER, "sue", "investigator")  # type: ignore[arg-type]
