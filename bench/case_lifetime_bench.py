"""A case open five years: 60 monthly visits, 10 periodic reviews, 12+ permanency hearings,
two logged contacts a month.

    .venv/bin/python bench/case_lifetime_bench.py [--years 5]

Drives the shipped process (bpmn/) through the engine on SQLite with the injected clock and
prints the largest serialized instance of the case and how long it takes to load (target:
under 250 KB and under 10 ms), then how long its court report takes to build from the record
and to print to PDF (target: under 5 s in all).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.cases.casefile import record_contact  # noqa: E402
from engine.cases.court_report import court_report_html  # noqa: E402
from engine.cases.opening import open_case  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.context import Actor, EngineContext  # noqa: E402
from engine.deadlines.timers import fire_due_timers  # noqa: E402
from engine.definitions.bundle import read_bundle  # noqa: E402
from engine.definitions.deployments import deploy_bundle  # noqa: E402
from engine.definitions.versions import DefinitionRegistry  # noqa: E402
from engine.identity.users import Principal  # noqa: E402
from engine.instances import stored  # noqa: E402
from engine.instances.messages import deliver_message  # noqa: E402
from engine.spiff.runtime import Runtime  # noqa: E402
from engine.storage import schema  # noqa: E402
from engine.storage.db import connect  # noqa: E402
from engine.storage.tables import Case, ProcessInstance  # noqa: E402
from engine.tasks import queries  # noqa: E402
from engine.tasks.completion import complete_task  # noqa: E402
from workflows.printing import pdf_of  # noqa: E402

WORKER = Actor("cal.caseworker", "caseworker")
READER = Principal(WORKER.id, "Cal Caseworker", frozenset({"ongoing_caseworker"}), None)
ANSWERS = {
    "record_visit": {"visited_on": None, "location": "child_residence", "child_seen_alone": True},
    "hold_periodic_review": {"reviewed_on": None},
    "hold_permanency_hearing": {
        "hearing_held_on": None,
        "final_order": False,
        "parental_rights_terminated": False,
    },
    "initial_permanency_hearing": {
        "hearing_held_on": None,
        "final_order": False,
        "parental_rights_terminated": False,
    },
    "obtain_tmc_order": {"tmc_order_on": None},
}


def answer(ctx: EngineContext, case_id: object) -> dict[str, int]:
    done: dict[str, int] = {}
    today = ctx.clock.now().date().isoformat()
    for task in queries.ready_tasks(ctx.db, case_id=case_id):  # type: ignore[arg-type]
        template = ANSWERS.get(task.bpmn_id)
        if template is None:
            continue
        # Hearings and reviews are held close to their date, not the day they are scheduled.
        if task.due_at is not None and task.due_at - ctx.clock.now() > timedelta(days=7):
            continue
        data = {k: (today if v is None else v) for k, v in template.items()}
        complete_task(ctx, WORKER, task.id, data)
        done[task.bpmn_id] = done.get(task.bpmn_id, 0) + 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = connect(f"sqlite:///{folder}/lifetime.sqlite3")
        schema.upgrade(db.engine)
        clock = ManualClock(datetime(2025, 1, 15, 15, 0, tzinfo=UTC))
        ctx = EngineContext(db, Runtime(clock), DefinitionRegistry(), clock)
        deploy_bundle(ctx, WORKER, read_bundle([ROOT / "bpmn"]))
        case = open_case(
            ctx,
            WORKER,
            {
                "profile_id": "us-tx",
                "assigned_to": WORKER.id,
                "people": [
                    {"ref": "a", "role": "child", "name": "Ana", "birth_date": "2016-04-04"}
                ],
            },
        )
        deliver_message(
            ctx, WORKER, case.id, "removal_requested",
            {"removal_at": clock.now().isoformat(), "removal_type": "court_order", "placement_type": "relative_kinship"},
        )  # fmt: skip
        totals: dict[str, int] = {}
        started = time.perf_counter()
        end = clock.now() + timedelta(days=365 * args.years)
        while clock.now() < end:
            clock.advance(timedelta(days=5))
            fire_due_timers(ctx, worker="bench")
            for name, count in answer(ctx, case.id).items():
                totals[name] = totals.get(name, 0) + count
            if clock.now().day <= 5 or 15 < clock.now().day <= 20:  # about two a month
                record_contact(ctx, READER, case.id, {
                    "occurred_at": clock.now().isoformat(), "type": "phone",
                    "location": "other", "narrative": "called the foster mother; Ana is well",
                })  # fmt: skip
        elapsed = time.perf_counter() - started
        with db.reader() as session:
            rows = session.scalars(
                select(ProcessInstance).where(ProcessInstance.case_id == case.id)
            ).all()
            record = session.get(Case, case.id)
            assert record is not None
            # An instance's state is its head and its finished tasks' rows.
            finished = {row.id: stored.finished_rows(session, row.id) for row in rows}
        size = {row.id: len(row.state) + sum(len(f.body) for f in finished[row.id]) for row in rows}
        largest = max(rows, key=lambda r: size[r.id])
        with db.reader() as session:
            compiled = ctx.definitions.compiled(session, largest.version_id)
        definition = compiled.processes[largest.process_id]
        profile = compiled.profile("us-tx")
        assert profile is not None
        loads = []
        for _ in range(200):
            t0 = time.perf_counter()
            ctx.runtime.load(definition, profile, largest.state, finished[largest.id])
            loads.append((time.perf_counter() - t0) * 1000)
        print(f"{args.years} years simulated in {elapsed:.1f} s: {totals}")
        print(f"{len(rows)} process instances for the case; per process:")
        per: dict[str, list[int]] = {}
        for row in rows:
            per.setdefault(row.process_id, []).append(size[row.id])
        for process_id, sizes in sorted(per.items()):
            print(
                f"  {process_id:<20} {len(sizes):>3} instance(s), largest {max(sizes) / 1024:7.1f} KB"
            )
        print(
            f"largest instance: {largest.process_id} {size[largest.id] / 1024:.1f} KB "
            f"(target < 250 KB; {len(largest.state) / 1024:.1f} KB of it rewritten by a step); "
            f"load median {statistics.median(loads):.2f} ms (target < 10 ms)"
        )
        started = time.perf_counter()
        html = court_report_html(ctx, READER, case.id)
        built = time.perf_counter() - started
        started = time.perf_counter()
        pdf = pdf_of(html)
        printed = time.perf_counter() - started
        print(
            f"court report: built from the record in {built * 1000:.0f} ms ({len(html) / 1024:.0f} KB "
            f"of HTML), printed in {printed:.2f} s ({len(pdf) / 1024:.0f} KB of PDF; target < 5 s)"
        )
        db.dispose()


if __name__ == "__main__":
    main()
