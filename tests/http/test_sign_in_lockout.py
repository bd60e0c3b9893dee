"""The sign-in lockout: five failed passwords for one user name within fifteen minutes lock the
name for fifteen minutes from the fifth. The count is taken before a password is checked,
atomically, so a burst of simultaneous guesses gets no more than five checked either; refused
attempts are audited too."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests
from sqlalchemy import func, select

from engine.storage.tables import AuditEvent
from http_support import Agency, password_of
from sign_in_form import csrf_token_in, give_password, submit_sign_in

LIMIT = 5
WINDOW = timedelta(minutes=15)
GUESSERS = 30


def guesses_at_once(base: str, user: str, count: int) -> list[int]:
    """`count` browsers open the sign-in page, then all send a wrong password together."""
    barrier = threading.Barrier(count)

    def guess(attempt: int) -> int:
        with requests.Session() as browser:
            token = csrf_token_in(browser.get(f"{base}/sign-in", timeout=30).text)
            form = {"user": user, "password": f"guess-{attempt}", "csrf_token": token}
            barrier.wait()
            answer = browser.post(f"{base}/sign-in", data=form, allow_redirects=False, timeout=60)
            return answer.status_code

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(guess, range(count)))


def failures_audited(agency: Agency, user: str) -> int:
    with agency.ctx.db.reader() as session:
        count = session.scalar(
            select(func.count()).where(
                AuditEvent.actor == user, AuditEvent.action == "session.sign_in_failed"
            )
        )
    return int(count or 0)


def test_simultaneous_guesses_get_at_most_five_passwords_checked(
    agency: Agency, server: str
) -> None:
    give_password(agency.ctx, "ivy")

    statuses = guesses_at_once(server, "ivy", GUESSERS)

    # 401 is a checked (and wrong) password; 429 was refused before any check.
    assert sorted(statuses) == [401] * LIMIT + [429] * (GUESSERS - LIMIT)
    assert failures_audited(agency, "ivy") == LIMIT


def test_the_lock_lasts_fifteen_minutes_from_the_fifth_failure(agency: Agency) -> None:
    give_password(agency.ctx, "ivy")
    clock = agency.ctx.clock
    assert submit_sign_in(agency.client, "ivy", "guess-0").status_code == 401
    clock.advance(WINDOW - timedelta(seconds=1))  # type: ignore[attr-defined]
    late = [submit_sign_in(agency.client, "ivy", f"guess-{i}").status_code for i in range(4)]
    assert late == [401] * 4  # five failures within the window: locked from now

    clock.advance(timedelta(seconds=2))  # type: ignore[attr-defined]
    refused = submit_sign_in(agency.client, "ivy", password_of("ivy"))
    assert refused.status_code == 429  # the first failure's window has passed; the lock has not
    assert "try again after" in refused.get_data(as_text=True)
    clock.advance(WINDOW - timedelta(seconds=3))  # type: ignore[attr-defined]
    assert submit_sign_in(agency.client, "ivy", password_of("ivy")).status_code == 429
    clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]

    # The lock is over: a fresh count, five more passwords checked, then locked again.
    again = [submit_sign_in(agency.client, "ivy", f"again-{i}").status_code for i in range(6)]
    assert again == [401] * LIMIT + [429]
    clock.advance(WINDOW)  # type: ignore[attr-defined]
    assert submit_sign_in(agency.client, "ivy", password_of("ivy")).status_code == 302
    with agency.ctx.db.reader() as session:
        refusals = session.scalar(
            select(func.count()).where(
                AuditEvent.actor == "ivy", AuditEvent.action == "session.sign_in_refused"
            )
        )
    assert refusals == 3


def test_an_unknown_user_name_is_locked_like_a_known_one(agency: Agency) -> None:
    statuses = [submit_sign_in(agency.client, "nobody", "guess").status_code for _ in range(6)]

    assert statuses == [401] * LIMIT + [429]  # the answers do not tell who exists


def test_a_right_password_before_the_lock_signs_in_and_does_not_count(agency: Agency) -> None:
    give_password(agency.ctx, "ivy")
    wrong = [submit_sign_in(agency.client, "ivy", f"guess-{i}").status_code for i in range(4)]
    assert wrong == [401] * 4

    signed_in = submit_sign_in(agency.client, "ivy", password_of("ivy"))
    assert signed_in.status_code == 302
    assert agency.client.get("/work").status_code == 200

    # Four failures so far, not five: one more password is checked before the lock.
    last = [submit_sign_in(agency.client, "ivy", f"late-{i}").status_code for i in range(2)]
    assert last == [401, 429]
