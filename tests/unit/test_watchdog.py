"""The CPU budget: a runaway script is interrupted in whatever thread runs it, and once the
guard is gone nothing of it lingers in that thread.

The watchdog works on real CPU time, so these tests burn a fraction of a second of CPU each; they
never sleep. Scripts run with raw ``exec`` here: the watchdog must not depend on the sandbox.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.clock import ManualClock
from engine.deadlines.calendars import BusinessCalendar
from engine.spiff import watchdog
from engine.spiff.sandbox import RestrictedEnvironment, check_script
from engine.spiff.script_functions import script_functions
from engine.spiff.watchdog import BudgetExceeded, cpu_budget

# The watchdog's interruption can land inside a garbage-collector callback running in the
# interrupted thread; Python then reports it as "ignored" and the watchdog simply raises it
# again (every half second) until the run stops. That report is expected here.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 0.2
# Generous: the watchdog polls every 20 ms, and CI machines are noisy.
SLACK = 0.8

ENDLESS = "while True:\n    pass\n"
ALLOCATING = "x = []\ni = 0\nwhile True:\n    i += 1\n    x.append(str(i) * 10)\n"
SWALLOWING_ONCE = textwrap.dedent(
    """
    try:
        while True:
            pass
    except BaseException:
        caught = True
    while True:
        pass
    """
)
SWALLOWING_FOREVER = textwrap.dedent(
    """
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
    """
)


def busy(cpu_seconds: float) -> int:
    """Burn this thread's CPU for about ``cpu_seconds``, running plenty of bytecode."""
    end = time.thread_time() + cpu_seconds
    rounds = 0
    while time.thread_time() < end:
        rounds += sum(i for i in range(200))
    return rounds


def in_thread(action: Callable[[], Any], timeout: float = 10.0) -> tuple[Any, BaseException | None]:
    """Run ``action`` in a fresh thread; its result, or what it raised."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"the thread still runs after {timeout} s"
    return outcome.get("value"), outcome.get("error")


def spend_budget_on(source: str, budget: float = BUDGET) -> float:
    """Exec ``source`` under a budget; the CPU seconds it took to be interrupted."""
    started = time.thread_time()
    with pytest.raises(BudgetExceeded):
        with cpu_budget(budget):
            exec(source, {})
    return time.thread_time() - started


def test_an_endless_loop_is_interrupted_once_its_cpu_budget_is_spent() -> None:
    used = spend_budget_on(ENDLESS)

    assert BUDGET <= used + 0.01
    assert used < BUDGET + SLACK


def test_an_endless_loop_in_the_restricted_environment_is_interrupted() -> None:
    env = RestrictedEnvironment(
        script_functions(BusinessCalendar("UTC"), ManualClock(datetime(2025, 3, 3, tzinfo=UTC)))
    )
    started = time.thread_time()

    with pytest.raises(BudgetExceeded):
        with cpu_budget(BUDGET):
            env.execute("n = 0\nwhile True:\n    n += 1", {})

    assert time.thread_time() - started < BUDGET + SLACK


def test_an_allocation_loop_is_interrupted() -> None:
    used = spend_budget_on(ALLOCATING)

    assert used < BUDGET + SLACK


def test_a_loop_that_swallows_the_interruption_once_is_interrupted_again() -> None:
    namespace: dict[str, Any] = {}
    started = time.thread_time()

    with pytest.raises(BudgetExceeded):
        with cpu_budget(BUDGET):
            exec(SWALLOWING_ONCE, namespace)

    assert namespace["caught"] is True
    assert time.thread_time() - started < BUDGET + SLACK


def test_a_body_that_swallows_the_interruption_and_returns_still_raises_at_exit() -> None:
    swallowed = False

    with pytest.raises(BudgetExceeded):
        with cpu_budget(BUDGET):
            try:
                exec(ENDLESS, {})
            except BudgetExceeded:
                swallowed = True

    assert swallowed


def test_an_endless_loop_in_a_worker_thread_is_interrupted() -> None:
    def guarded() -> float:
        return spend_budget_on(ENDLESS)

    used, error = in_thread(guarded)

    assert error is None
    assert used < BUDGET + SLACK


def test_each_thread_has_its_own_budget() -> None:
    results: dict[str, Any] = {}

    def runaway() -> None:
        try:
            with cpu_budget(BUDGET):
                exec(ENDLESS, {})
        except BudgetExceeded:
            results["runaway"] = "stopped"

    def honest() -> None:
        with cpu_budget(30):
            results["honest"] = busy(BUDGET * 2)

    threads = [threading.Thread(target=f, daemon=True) for f in (runaway, honest)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert not any(thread.is_alive() for thread in threads)
    assert results["runaway"] == "stopped"
    assert results["honest"] > 0


def test_the_budget_counts_the_guarded_threads_cpu_not_the_wall_clock() -> None:
    # The guarded thread waits while another thread burns CPU well past the budget.
    with cpu_budget(BUDGET):
        value, error = in_thread(lambda: busy(BUDGET * 3))

    assert error is None
    assert value > 0


def test_work_within_the_budget_finishes_normally() -> None:
    with cpu_budget(5):
        total = sum(range(1_000_000))
        rounds = busy(0.05)

    assert total == 499_999_500_000
    assert rounds > 0


def test_a_nested_budget_keeps_the_outer_one() -> None:
    started = time.thread_time()

    with pytest.raises(BudgetExceeded):
        with cpu_budget(BUDGET), cpu_budget(60):
            exec(ENDLESS, {})

    assert time.thread_time() - started < BUDGET + SLACK


def test_nothing_is_raised_after_an_interrupted_run() -> None:
    spend_budget_on(ENDLESS)

    # Well past the watchdog's polling interval: an armed guard or a pending exception would fire.
    rounds = busy(0.3)

    assert rounds > 0


def test_a_fresh_budget_after_an_interrupted_run_is_a_real_one() -> None:
    spend_budget_on(ENDLESS)

    with cpu_budget(5):
        busy(0.05)
    used = spend_budget_on(ENDLESS)

    assert used < BUDGET + SLACK


def test_nothing_lingers_when_runs_end_right_at_their_deadline() -> None:
    # Runs that end just before, at or just after the moment the watchdog fires.
    budget = 0.01
    outcomes: list[str] = []
    strays = 0
    for run in range(30):
        try:
            with cpu_budget(budget):
                try:
                    busy(budget * (0.8 + 0.1 * (run % 5)))
                except BudgetExceeded:
                    outcomes.append("interrupted")
        except BudgetExceeded:
            outcomes.append("raised at exit")
        else:
            outcomes.append("finished")
        try:
            busy(0.03)
        except BudgetExceeded:
            strays += 1

    assert strays == 0
    assert len(outcomes) == 30


def test_nothing_lingers_in_a_worker_thread_after_an_interrupted_run() -> None:
    def guarded_then_more_work() -> int:
        spend_budget_on(ENDLESS)
        return busy(0.3)

    rounds, error = in_thread(guarded_then_more_work)

    assert error is None
    assert rounds > 0


# -- weaknesses ---------------------------------------------------------------------------------


def run_child(code: str, timeout: float) -> subprocess.CompletedProcess[str] | None:
    """Run ``code`` in a separate Python process; None when it is still running at ``timeout``."""
    try:
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None


@pytest.mark.parametrize(
    "script",
    [
        SWALLOWING_FOREVER,
        "while True:\n    try:\n        x = 1\n    except:\n        pass\n",
        "while True:\n    try:\n        x = 1\n    finally:\n        continue\n",
        "while True:\n    try:\n        x = 1\n"
        "    except (ValueError, BaseException):\n        pass\n",
    ],
)
def test_a_script_that_could_swallow_the_interruption_is_refused(script: str) -> None:
    # In raw Python such a loop would outlive any number of interruptions; process scripts
    # may therefore only catch named Exception subclasses and may not use 'finally'.
    assert check_script(script)


def test_an_interruption_landing_while_the_guard_is_removed_leaves_the_watchdog_working(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = {"n": 0}
    real_quiesce = watchdog._WATCHDOG.quiesce

    def interrupted_once() -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise BudgetExceeded  # as if the watchdog's interruption landed right here
        real_quiesce()

    monkeypatch.setattr(watchdog._WATCHDOG, "quiesce", interrupted_once)
    with pytest.raises(BudgetExceeded):
        with cpu_budget(60):
            pass

    assert threading.get_ident() not in watchdog._WATCHDOG.guards
    for _ in range(200_000):  # nothing stray surfaces afterwards
        pass
    result, error = in_thread(burn_until_stopped)
    assert isinstance(error, BudgetExceeded), (result, error)


def burn_until_stopped() -> None:
    with cpu_budget(BUDGET):
        exec(ENDLESS, {})
