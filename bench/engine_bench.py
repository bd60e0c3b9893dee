"""What a persisted engine step costs, beside the raw in-memory SpiffWorkflow step.

    .venv/bin/python bench/engine_bench.py [--n 200] [--postgres URL]

Measures, on SQLite (a file) and on PostgreSQL when a URL is given:
- open case + start intake (one unit of work),
- one persisted task completion: load -> complete -> run -> save + projections + audit -> commit,
- one bare commit (UPDATE of one row), and
- the raw step with stock SpiffWorkflow: deserialize -> complete -> engine steps -> serialize.
Target: a persisted completion within 3x the raw step plus one commit. Both readings of that
sentence are printed: (completion - commit) / raw, and completion / (raw + commit).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.cases.opening import open_case  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.context import Actor, EngineContext  # noqa: E402
from engine.definitions.bundle import read_bundle  # noqa: E402
from engine.definitions.deployments import deploy_bundle  # noqa: E402
from engine.definitions.versions import DefinitionRegistry  # noqa: E402
from engine.spiff.runtime import Runtime  # noqa: E402
from engine.storage import schema  # noqa: E402
from engine.storage.db import connect  # noqa: E402
from engine.storage.tables import Case  # noqa: E402
from engine.tasks import queries  # noqa: E402
from engine.tasks.completion import complete_task  # noqa: E402

BUNDLE = ROOT / "tests" / "fixtures" / "phases"
ACTOR = Actor("bench", "investigator")
REPORT = {"received_at": "2025-03-03T15:15:00Z", "severity": "serious", "youngest_age": 3}
CONTACT = {"contact_at": "2025-03-03T20:00:00Z", "location": "home"}
PEOPLE = {
    "people": [
        {"ref": "a", "role": "child", "name": "Ana"},
        {"ref": "b", "role": "child", "name": "Ben"},
        {"ref": "m", "role": "caregiver", "name": "Maria"},
    ]
}


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms"


def prepare(url: str) -> EngineContext:
    db = connect(url)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    schema.upgrade(db.engine)
    clock = ManualClock(datetime(2025, 3, 3, 15, 15, tzinfo=UTC))
    ctx = EngineContext(db, Runtime(clock), DefinitionRegistry(), clock)
    deploy_bundle(ctx, ACTOR, read_bundle([BUNDLE]))
    return ctx


def bench_database(label: str, url: str, n: int, raw_step: Callable[[], None]) -> None:
    ctx = prepare(url)
    opened = [
        timed(lambda: open_case(ctx, ACTOR, PEOPLE, start_process="intake")) for _ in range(n)
    ]
    case_ids = [c.id for c in queries_cases(ctx)]
    for case_id in case_ids:
        complete_task(ctx, ACTOR, queries.ready_tasks(ctx.db, case_id=case_id)[0].id, REPORT)
    contacts = [
        next(t for t in queries.ready_tasks(ctx.db, case_id=c) if t.bpmn_id == "first_contact")
        for c in case_ids
    ]
    # The three are sampled in turn, so that a machine whose speed drifts during the run
    # (a shared virtual machine) weighs on all three alike and the ratio stays meaningful.
    raws, completions, commits = [], [], []
    for task, case_id in zip(contacts, case_ids, strict=True):
        raws.append(timed(raw_step))
        completions.append(timed(lambda t=task: complete_task(ctx, ACTOR, t.id, CONTACT)))
        commits.append(timed(lambda c=case_id: bare_commit(ctx, c)))
    raw, completion, commit = (statistics.median(s) for s in (raws, completions, commits))
    print(f"{label:<11} open case + start intake  {summary(opened)}")
    print(f"{label:<11} raw step (stock spiff)    {summary(raws)}")
    print(f"{label:<11} persisted completion      {summary(completions)}")
    print(f"{label:<11} one bare commit           {summary(commits)}")
    print(
        f"{label:<11} completion minus one commit = {completion - commit:.2f} ms = "
        f"{(completion - commit) / raw:.2f}x the raw step (target <= 3x); "
        f"completion = {completion / (raw + commit):.2f}x (raw step + one commit)"
    )
    ctx.db.dispose()


def queries_cases(ctx: EngineContext) -> list[Case]:
    from sqlalchemy import select

    with ctx.db.reader() as session:
        return list(session.scalars(select(Case).order_by(Case.opened_at, Case.id)))


def bare_commit(ctx: EngineContext, case_id: uuid.UUID) -> None:
    with ctx.db.writer() as session:
        session.execute(update(Case).where(Case.id == case_id).values(summary="x"))
        session.commit()


def raw_stepper() -> Callable[[], None]:
    """The same step with stock SpiffWorkflow: full-spec JSON, default script engine."""
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    from engine.spiff.runtime import BpmnWorkflow

    parser = SpiffBpmnParser()
    parser.add_bpmn_files([str(BUNDLE / "intake.bpmn"), str(BUNDLE / "investigation.bpmn")])
    parser.add_dmn_files([str(BUNDLE / "priority.dmn")])
    spec = parser.get_spec("investigation")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    workflow = BpmnWorkflow(spec, parser.get_subprocess_specs("investigation"))
    workflow.task_tree.data.update(
        {"children": [{"name": "Ana"}, {"name": "Ben"}], "case_id": str(uuid.uuid4())}
    )
    workflow.do_engine_steps()
    workflow.send_event(workflow_start_event(workflow))
    workflow.do_engine_steps()
    state = serializer.serialize_json(workflow)

    def step() -> None:
        loaded = serializer.deserialize_json(state)
        task = loaded.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update(CONTACT)
        task.run()
        loaded.refresh_timers()
        loaded.do_engine_steps()
        serializer.serialize_json(loaded)

    return step


def workflow_start_event(workflow: object) -> object:
    from SpiffWorkflow.bpmn import BpmnEvent
    from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

    payload = {"priority": "P1_24H", "response_due": "2030-01-01T00:00:00+00:00"}
    return BpmnEvent(MessageEventDefinition("investigation_requested"), payload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--postgres", default=None, help="a throwaway PostgreSQL database URL")
    args = parser.parse_args()
    raw_step = raw_stepper()
    # The raw step alone in a warm loop, for comparison: caches stay hot there, so it is
    # faster than when it takes turns with database work.
    warm = [timed(raw_step) for _ in range(args.n)]
    print(f"{'raw spiff':<11} raw step, warm loop       {summary(warm)}")
    with tempfile.TemporaryDirectory() as folder:
        runs = {"sqlite": f"sqlite:///{folder}/bench.sqlite3"}
        if args.postgres:
            runs["postgresql"] = args.postgres
        for label, url in runs.items():
            bench_database(label, url, args.n, raw_step)


if __name__ == "__main__":
    main()
