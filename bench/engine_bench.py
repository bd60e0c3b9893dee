"""What a persisted engine step costs, beside the raw in-memory SpiffWorkflow step.

    .venv/bin/python bench/engine_bench.py [--n 200] [--postgres URL]

Measures, on SQLite (a file) and on PostgreSQL when a URL is given:
- open case + start intake (one unit of work),
- one persisted task completion: load -> complete -> run -> save + projections + audit ->
  commit, with the instance's workflow kept in this process by its last step (the usual case:
  a case's steps follow one another on one server) and read back from its row (a step on an
  instance another process moved last),
- one bare commit (UPDATE of one row), and
- the raw step with stock SpiffWorkflow (its own serializer and task walk): deserialize ->
  complete -> engine steps -> serialize.
Target: a persisted completion at most 1.0x (the raw step plus one commit).

Then the cost of history: a completion on an instance holding 1,000 finished tasks beside one
on an instance holding 10 (the visits process of tests/fixtures/long_running: a multi-instance
activity's 990 or 8 past checks, then monthly visits). Target: within 1.2x. (An instance's
task tree cannot grow 1,000 deep: casework stops a run past 900 levels, so a long history is
wide, as here, not one long chain.)
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

from engine import stopwatch  # noqa: E402
from engine.cases.opening import open_case  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.context import Actor, EngineContext  # noqa: E402
from engine.definitions.bundle import read_bundle  # noqa: E402
from engine.definitions.deployments import deploy_bundle  # noqa: E402
from engine.definitions.versions import DefinitionRegistry  # noqa: E402
from engine.spiff import task_walk  # noqa: E402
from engine.spiff.runtime import Runtime  # noqa: E402
from engine.storage import schema  # noqa: E402
from engine.storage.db import connect  # noqa: E402
from engine.storage.tables import Case  # noqa: E402
from engine.tasks import queries  # noqa: E402
from engine.tasks.completion import complete_task  # noqa: E402

BUNDLE = ROOT / "tests" / "fixtures" / "phases"
LONG_RUNNING = ROOT / "tests" / "fixtures" / "long_running"
ACTOR = Actor("bench", "investigator")
CASEWORKER = Actor("bench", "ongoing_caseworker")
VISIT = {"seen_at": "2025-03-04T10:00:00Z", "notes": "Seen at home, well.", "more": True}
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
    deploy_bundle(ctx, ACTOR, read_bundle([BUNDLE, LONG_RUNNING]))
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
    # The four are sampled in turn, so that a machine whose speed drifts during the run
    # (a shared virtual machine) weighs on all alike and the ratios stay meaningful.
    raws, kept, read, commits = [], [], [], []
    engine_kept, engine_read = [], []  # the engine's share of each completion
    for n, (task, case_id) in enumerate(zip(contacts, case_ids, strict=True)):
        raws.append(timed(raw_step))
        if not n % 2:
            ctx.runtime.workflows.forget(task.instance_id)
        with stopwatch.measuring() as spent:
            taken = timed(lambda t=task: complete_task(ctx, ACTOR, t.id, CONTACT))
        (kept if n % 2 else read).append(taken)
        (engine_kept if n % 2 else engine_read).append(spent.engine_seconds * 1000)
        commits.append(timed(lambda c=case_id: bare_commit(ctx, c)))
    raw, commit = statistics.median(raws), statistics.median(commits)
    print(f"{label:<11} open case + start intake  {summary(opened)}")
    print(f"{label:<11} raw step (stock spiff)    {summary(raws)}")
    print(f"{label:<11} completion, kept workflow {summary(kept)}")
    print(f"{label:<11} completion, read from row {summary(read)}")
    print(f"{label:<11} one bare commit           {summary(commits)}")
    for name, samples in (("kept workflow", engine_kept), ("read from row", engine_read)):
        print(
            f"{label:<11} engine part of a completion ({name}): {summary(samples)} = "
            f"{statistics.median(samples) / raw:.2f}x the raw step"
        )
    for name, samples in (("kept workflow", kept), ("read from row", read)):
        ratio = statistics.median(samples) / (raw + commit)
        verdict = "meets" if ratio <= 1.0 else "misses"
        print(
            f"{label:<11} completion ({name}) = {ratio:.2f}x (raw step + one commit): "
            f"{verdict} the target <= 1.0x"
        )
    bench_history(label, ctx, n=len(case_ids))
    ctx.db.dispose()


def bench_history(label: str, ctx: EngineContext, n: int) -> None:
    """A completion on an instance with 1,000 finished tasks beside one with 10."""
    instances = {}
    for finished in (10, 1000):
        opened = open_case(
            ctx,
            CASEWORKER,
            PEOPLE,
            start_process="visits",
            start_data={"past_checks": finished - 2},
        )
        instances[finished] = opened.id
    samples: dict[int, list[float]] = {10: [], 1000: []}
    for _ in range(n):
        for finished, case_id in instances.items():
            task = queries.ready_tasks(ctx.db, case_id=case_id)[0]
            samples[finished].append(
                timed(lambda t=task: complete_task(ctx, CASEWORKER, t.id, VISIT))
            )
    for finished, taken in samples.items():
        print(f"{label:<11} completion, {finished:>5} finished tasks {summary(taken)}")
    ratio = statistics.median(samples[1000]) / statistics.median(samples[10])
    verdict = "meets" if ratio <= 1.2 else "misses"
    print(f"{label:<11} 1,000 finished tasks / 10 = {ratio:.2f}x: {verdict} the target <= 1.2x")


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
        with task_walk.stock():
            stock_step()

    def stock_step() -> None:
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
