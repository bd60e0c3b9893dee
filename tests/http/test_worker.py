"""The worker as an operator runs it: one pass with ``casework fire-timers``, or a long-running
``casework worker`` that stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import select

from conftest import DESIGNER, FIXTURES, SCREENER
from engine.cases.opening import open_case
from engine.context import EngineContext
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.instances.lifecycle import start_instance
from engine.storage.tables import Timer
from workflows.cli import main


def a_long_overdue_timer(ctx: EngineContext) -> None:
    """A timer that was due in 2025; the worker's real clock says it is long past."""
    deploy_bundle(ctx, DESIGNER, read_bundle([FIXTURES / "clocks"]))
    case = open_case(ctx, SCREENER, {"people": [{"ref": "c", "role": "child"}]})
    start_instance(ctx, SCREENER, case.id, "clocks")
    assert ctx.clock.now() < datetime(2026, 1, 1, tzinfo=UTC)


def statuses(ctx: EngineContext) -> list[tuple[str, str]]:
    with ctx.db.reader() as session:
        rows = session.scalars(select(Timer).order_by(Timer.created_at, Timer.bpmn_id))
        return [(t.bpmn_id, t.status) for t in rows]


def test_fire_timers_runs_one_pass(ctx: EngineContext, database_url: str) -> None:
    a_long_overdue_timer(ctx)
    env = {"CASEWORK_DATABASE_URL": database_url}

    first = CliRunner().invoke(main, ["fire-timers"], env=env)
    second = CliRunner().invoke(main, ["fire-timers"], env=env)

    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("fired 1,")  # the 2-hour wait; the next is tomorrow
    assert second.stdout.startswith("fired 0,")
    assert statuses(ctx)[0] == ("wait_duration", "fired")


def test_the_worker_fires_what_came_due_while_it_was_down_and_stops_on_sigterm(
    ctx: EngineContext, database_url: str
) -> None:
    a_long_overdue_timer(ctx)
    env = {**os.environ, "CASEWORK_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "workflows", "worker"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert worker.stderr is not None
        for line in worker.stderr:  # blocks until the worker logs its first firing
            if "timers fired=1" in line:
                break
        worker.send_signal(signal.SIGTERM)
        rest = worker.stderr.read()
        code = worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        if worker.stderr is not None:
            worker.stderr.close()

    assert code == 0, rest
    assert "worker stopped" in rest
    assert statuses(ctx)[0] == ("wait_duration", "fired")
