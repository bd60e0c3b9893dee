"""Two processes complete the same task at the same moment: exactly one wins, the other gets
a conflict, and the instance advanced once."""

from __future__ import annotations

import multiprocessing

from sqlalchemy import func, select

from child_processes import complete_in_child
from conftest import SCREENER
from engine.cases.opening import open_case
from engine.context import EngineContext
from engine.definitions.versions import Deployment
from engine.storage.tables import AuditEvent
from engine.tasks import queries

RACES = 4


def test_concurrent_completions_of_one_task_advance_it_once(
    ctx: EngineContext, phases: Deployment, database_url: str
) -> None:
    people = {"people": [{"ref": "c", "role": "child", "name": "Ana"}]}
    cases = [open_case(ctx, SCREENER, people, start_process="intake") for _ in range(RACES)]
    task_ids = [str(queries.ready_tasks(ctx.db, case_id=c.id)[0].id) for c in cases]
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(2), spawn.Queue()
    args = (database_url, ctx.clock.now(), task_ids, barrier, results)
    workers = [spawn.Process(target=complete_in_child, args=args) for _ in range(2)]

    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert [w.exitcode for w in workers] == [0, 0]
    outcomes: dict[str, list[str]] = {}
    for _ in range(2 * RACES):
        task_id, outcome = results.get(timeout=5)
        outcomes.setdefault(task_id, []).append(outcome)
    assert {k: sorted(v) for k, v in outcomes.items()} == {t: ["conflict", "won"] for t in task_ids}
    for case in cases:
        instances = {i.process_id: i for i in queries.instances_of_case(ctx.db, case.id)}
        assert sorted(instances) == ["intake", "investigation"]
        assert instances["intake"].lock_version == 2  # stored at 1, advanced exactly once
    with ctx.db.reader() as session:
        completions = session.scalar(
            select(func.count()).where(AuditEvent.action == "task.completed")
        )
    assert completions == RACES
