"""Races over real HTTP: clients hit a threaded server at the same moment. Exactly one
completion or claim wins, every other gets a 409 problem, and the case advanced once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import requests
from sqlalchemy import func, select

from engine.storage.tables import AuditEvent
from http_support import RECORD_REPORT, Agency, hotline_report

CLIENTS = 6
T = TypeVar("T")


def all_at_once(count: int, call: Callable[[], T]) -> list[T]:
    """Runs `call` from `count` threads released together by a barrier."""
    barrier = threading.Barrier(count)

    def one(_: int) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def record_report_task(agency: Agency, base: str) -> str:
    filed = requests.post(
        f"{base}/api/v1/intakes", json=hotline_report(), headers=agency.headers("sam"), timeout=30
    )
    assert filed.status_code == 201, filed.text
    queue = requests.get(
        f"{base}/api/v1/tasks",
        params={"view": "queue", "case_id": filed.json()["id"]},
        headers=agency.headers("sam"),
        timeout=30,
    ).json()["items"]
    return str(queue[0]["id"])


def test_simultaneous_completions_advance_the_case_once(agency: Agency, server: str) -> None:
    task_id = record_report_task(agency, server)

    responses = all_at_once(
        CLIENTS,
        lambda: requests.post(
            f"{server}/api/v1/tasks/{task_id}/complete",
            json=RECORD_REPORT,
            headers=agency.headers("sam"),
            timeout=60,
        ),
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (CLIENTS - 1), [r.text for r in responses]
    losers = [r for r in responses if r.status_code == 409]
    assert all(r.headers["Content-Type"] == "application/problem+json" for r in losers)
    assert {r.json()["code"] for r in losers} <= {"conflict", "task_not_ready"}
    with agency.ctx.db.reader() as session:
        completed = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "task.completed")
        )
    assert completed == 1
    mine = requests.get(
        f"{server}/api/v1/tasks", params={"view": "mine"}, headers=agency.headers("ian"), timeout=30
    ).json()["items"]
    assert [t["element_id"] for t in mine] == ["first_contact"]  # one investigation, not six


def test_simultaneous_claims_leave_one_owner(agency: Agency, server: str) -> None:
    task_id = record_report_task(agency, server)
    screeners = ["sam", "sid"] * (CLIENTS // 2)
    claimants = iter(screeners)
    lock = threading.Lock()

    def claim() -> tuple[str, requests.Response]:
        with lock:
            user = next(claimants)
        url = f"{server}/api/v1/tasks/{task_id}/claim"
        return user, requests.post(url, headers=agency.headers(user), timeout=60)

    outcomes = all_at_once(CLIENTS, claim)

    winners = {user for user, r in outcomes if r.status_code == 200}
    assert len(winners) == 1, [(u, r.status_code, r.text) for u, r in outcomes]
    [owner] = winners
    # The owner's repeated claims are harmless; the other screener is refused every time.
    assert all(r.status_code == 409 for user, r in outcomes if user != owner)
    detail = requests.get(
        f"{server}/api/v1/tasks/{task_id}", headers=agency.headers(owner), timeout=30
    ).json()
    assert detail["assignee"] == owner
