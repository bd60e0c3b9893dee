"""Webhooks on PostgreSQL: how fast the outbox drains, and what it adds to a task completion.

    .venv/bin/python bench/webhooks_bench.py [--database-url URL] [--subscriptions 4]
        [--events 2500] [--poll 1.0] [--completions 200] [--block 20]

1. Delivery. --subscriptions subscriptions (each at its own path of one local HTTP receiver,
   answering 204) all want the events; --events events are queued through the outbox (one
   delivery per subscription each). Then one, and in a second round two, worker processes run
   the delivery loop as `casework worker` does (a tick until nothing is due, then a wait of
   --poll seconds). Prints deliveries per second from the first claim until the last delivery
   is recorded, the post latency the workers saw, and the receiver's check: every message
   arrived with a valid signature, in each subscription's queue order, and how many twice.
   The receiver runs in this process, on the same cores as the workers and the database, so
   the figures are a floor; the CPU the workers and the receiver used is printed too.
2. The outbox's cost on a task completion. --completions hotline reports per arm are filed,
   then their "record the report" tasks are completed through the engine (each completion runs
   the screening decisions and starts the investigation: 7 events), in blocks of
   --block that take turns between three arms: the outbox switched off (events dropped), on
   with no active subscription (events written, no deliveries), and on with --subscriptions
   subscriptions to every topic (events and one delivery per subscription written). Prints
   mean/p50/p95 ms of each arm and the differences.

The database given (default: postgresql+psycopg://postgres@127.0.0.1/cw_bench) is emptied
and migrated. The defaults run in about a minute.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import statistics
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from standardwebhooks import Webhook
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sample_reports import REPORT as SAMPLE_REPORT  # noqa: E402
from sample_reports import recorded  # noqa: E402

from engine.cases.casefile import file_intake  # noqa: E402
from engine.clock import SystemClock  # noqa: E402
from engine.context import Actor, EngineContext  # noqa: E402
from engine.definitions.bundle import read_bundle  # noqa: E402
from engine.definitions.deployments import deploy_bundle  # noqa: E402
from engine.definitions.versions import DefinitionRegistry  # noqa: E402
from engine.identity.users import NewUser, Principal, create_team, create_user, load_principal  # noqa: E402
from engine.spiff.runtime import Runtime  # noqa: E402
from engine.statuses import DeliveryStatus  # noqa: E402
from engine.storage import appended, schema  # noqa: E402
from engine.storage.db import connect  # noqa: E402
from engine.storage.tables import (  # noqa: E402
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from engine.storage.uow import UnitOfWork  # noqa: E402
from engine.tasks import queries  # noqa: E402
from engine.tasks.completion import complete  # noqa: E402
from webhooks import subscriptions  # noqa: E402
from webhooks.delivery import DeliveryPolicy, deliver_due  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1/cw_bench"
ACTOR = Actor("bench", "administrator")
PUBLISH_CHUNK = 500

REPORT = {**SAMPLE_REPORT, "team": "north"}


def context(url: str) -> EngineContext:
    clock = SystemClock()
    return EngineContext(connect(url), Runtime(clock), DefinitionRegistry(), clock)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


# -- the receiver ---------------------------------------------------------------------------------


@dataclass
class Arrival:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP receiver: records every POST (path, headers, body) and answers 204."""

    arrivals: list[Arrival] = field(default_factory=list)
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> Receiver:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def url(self, path: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}/{path}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def _app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        self.arrivals.append(
            Arrival(
                request.path.strip("/"),
                {k.lower(): v for k, v in request.headers.items()},
                request.get_data(),
            )
        )
        return Response(status=204)(environ, start_response)


# -- 1. delivery ----------------------------------------------------------------------------------


def worker_loop(url: str, name: str, poll: float, go: Any, stop: Any, results: Any) -> None:
    """A delivery worker process, ticking like `casework worker`."""
    ctx = context(url)
    with ctx.db.reader() as session:  # connect before the clock starts
        session.execute(text("SELECT 1"))
    policy = DeliveryPolicy()
    delivered = ticks = 0
    go.wait()
    cpu = time.process_time()
    while not stop.is_set():
        report = deliver_due(ctx, worker=name, policy=policy)
        ticks += 1
        delivered += report.delivered
        if not (report.delivered or report.retrying or report.dead):
            stop.wait(poll)
    results.put((name, delivered, ticks, time.process_time() - cpu))
    ctx.db.dispose()


def admin(ctx: EngineContext) -> Principal:
    create_user(ctx, ACTOR, NewUser("alex", "Alex Admin", ["administrator"]))
    principal = load_principal(ctx, "alex")
    assert principal is not None
    return principal


def subscribe(
    ctx: EngineContext, principal: Principal, receiver: Receiver, count: int
) -> dict[str, tuple[uuid.UUID, str]]:
    """Subscriptions to every topic, one receiver path each: path -> (id, secret)."""
    made = {}
    for n in range(count):
        path = f"sub{n}"
        view, secret = subscriptions.create(ctx, principal, receiver.url(path), ["*"], path)
        made[path] = (uuid.UUID(view["id"]), secret)
    return made


def queue_events(ctx: EngineContext, count: int) -> None:
    """Events as case.opened would publish them, through the outbox, some hundreds a commit."""
    for start in range(0, count, PUBLISH_CHUNK):
        with UnitOfWork(ctx.db.writer) as uow:
            for n in range(start, min(count, start + PUBLISH_CHUNK)):
                uow.publish(
                    "case.opened",
                    ctx.clock.now(),
                    case_id=uuid.uuid4(),
                    case_number=f"BENCH-{n:06d}",
                    status="open",
                    team="north",
                    profile_id="us-tx",
                )
            uow.commit()
    with ctx.db.engine.begin() as connection:
        connection.execute(text("ANALYZE outbox_events, webhook_deliveries"))


def empty_outbox(ctx: EngineContext) -> None:
    with ctx.db.engine.begin() as connection:
        connection.execute(
            text("TRUNCATE webhook_attempts, webhook_deliveries, outbox_events RESTART IDENTITY")
        )


def expected_queues(ctx: EngineContext) -> dict[uuid.UUID, list[str]]:
    """Each subscription's webhook ids in queue order."""
    queues: dict[uuid.UUID, list[str]] = defaultdict(list)
    with ctx.db.reader() as session:
        for subscription_id, message_id in session.execute(
            select(WebhookDelivery.subscription_id, WebhookDelivery.message_id).order_by(
                WebhookDelivery.seq
            )
        ):
            queues[subscription_id].append(message_id)
    return queues


def delivered_count(ctx: EngineContext) -> int:
    with ctx.db.reader() as session:
        return (
            session.scalar(
                select(func.count()).where(WebhookDelivery.status == DeliveryStatus.DELIVERED)
            )
            or 0
        )


def check_receiver(
    receiver: Receiver,
    made: dict[str, tuple[uuid.UUID, str]],
    queues: dict[uuid.UUID, list[str]],
) -> str:
    """Every message arrived, signed, once or more, in its subscription's queue order."""
    problems = []
    duplicates = 0
    for path, (subscription_id, secret) in made.items():
        webhook = Webhook(secret)
        got = [a for a in receiver.arrivals if a.path == path]
        for arrival in got:
            webhook.verify(arrival.body, arrival.headers)  # raises on a bad signature
        firsts: list[str] = []
        seen: set[str] = set()
        for arrival in got:
            message_id = arrival.headers["webhook-id"]
            if message_id in seen:
                duplicates += 1
            else:
                seen.add(message_id)
                firsts.append(message_id)
        expected = queues[subscription_id]
        if set(firsts) != set(expected):
            problems.append(f"{path}: {len(set(expected) - seen)} missing")
        elif firsts != expected:
            problems.append(f"{path}: out of order")
    if problems:
        return "FAILED: " + "; ".join(problems)
    total = sum(len(q) for q in queues.values())
    return (
        f"all {total} arrived, signatures valid, order kept in each of {len(made)} queues, "
        f"{duplicates} duplicate(s)"
    )


def delivery_round(
    url: str,
    ctx: EngineContext,
    receiver: Receiver,
    made: dict[str, tuple[uuid.UUID, str]],
    events: int,
    workers: int,
    poll: float,
) -> None:
    empty_outbox(ctx)
    receiver.arrivals.clear()
    queue_events(ctx, events)
    queues = expected_queues(ctx)
    total = sum(len(q) for q in queues.values())

    spawn = multiprocessing.get_context("spawn")
    go, stop, results = spawn.Event(), spawn.Event(), spawn.Queue()
    processes = [
        spawn.Process(target=worker_loop, args=(url, f"w{i}", poll, go, stop, results))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    time.sleep(3)  # let them start and connect
    started, cpu = time.perf_counter(), time.process_time()
    go.set()
    deadline = started + 300
    while delivered_count(ctx) < total:
        if time.perf_counter() > deadline:
            stop.set()
            raise SystemExit(f"only {delivered_count(ctx)} of {total} delivered in 300 s")
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    here = time.process_time() - cpu
    stop.set()
    shares = sorted(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(30)

    with ctx.db.reader() as session:
        latencies = list(session.scalars(select(WebhookAttempt.latency_ms)))
    split = ", ".join(f"{name} {count}" for name, count, _, _ in shares)
    worker_cpu = sum(seconds for _, _, _, seconds in shares)
    print(
        f"{workers} worker(s): {total} deliveries ({events} events x {len(made)} subscriptions) "
        f"in {elapsed:.2f} s = {total / elapsed:.0f} deliveries/s   [{split}]"
    )
    print(
        f"  {len(latencies)} POSTs, latency p50 {statistics.median(latencies):.2f} ms, "
        f"p95 {percentile(latencies, 0.95):.2f} ms"
    )
    print(
        f"  CPU: workers {worker_cpu:.1f} s, receiver and this monitor {here:.1f} s, "
        f"over {elapsed:.1f} s on {os.cpu_count()} cores (PostgreSQL not counted)"
    )
    print(f"  receiver: {check_receiver(receiver, made, queues)}")


# -- 2. cost on a task completion -----------------------------------------------------------------


def agency(ctx: EngineContext) -> Principal:
    deploy_bundle(ctx, ACTOR, read_bundle([ROOT / "bpmn"]))
    create_team(ctx, ACTOR, "north", "North investigations", "region-1")
    create_user(ctx, ACTOR, NewUser("sue", "Sue Supervisor", ["supervisor"], team_id="north"))
    for n in range(8):
        create_user(
            ctx, ACTOR, NewUser(f"inv{n}", f"Investigator {n}", ["investigator"], team_id="north")
        )
    create_user(ctx, ACTOR, NewUser("sam", "Sam Screener", ["intake_screener"], team_id="north"))
    screener = load_principal(ctx, "sam")
    assert screener is not None
    return screener


def set_active(ctx: EngineContext, active: bool) -> None:
    with ctx.db.writer() as session:
        session.execute(update(WebhookSubscription).values(active=active))
        session.commit()


_WRITE_APPENDED = appended.write


def switch_outbox(ctx: EngineContext, on: bool) -> None:
    """Off: commits drop the events they queued (audit rows are still written)."""
    appended.write = (  # type: ignore[assignment]
        _WRITE_APPENDED
        if on
        else lambda session, audited, _events: _WRITE_APPENDED(session, audited, [])
    )


def counts(ctx: EngineContext) -> tuple[int, int]:
    with ctx.db.reader() as session:
        events = session.scalar(select(func.count()).select_from(OutboxEvent)) or 0
        deliveries = session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0
    return events, deliveries


def completion_cost(ctx: EngineContext, per_arm: int, block: int, subs: int) -> None:
    """The delivery part's subscriptions (to every topic) are switched on for one arm only."""
    empty_outbox(ctx)
    set_active(ctx, False)
    screener = agency(ctx)

    warmup = 10
    started = time.perf_counter()
    tasks = []
    for _ in range(3 * per_arm + warmup):
        opened = file_intake(ctx, screener, REPORT)
        [task] = queries.ready_tasks(ctx.db, case_id=opened.id)
        tasks.append(task.id)
    print(f"filed {len(tasks)} reports through the engine: {time.perf_counter() - started:.1f} s")
    with ctx.db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    recorded_now = recorded(datetime.now(UTC).isoformat())  # the response clock starts now
    for task_id in tasks[:warmup]:
        complete(ctx, screener, task_id, recorded_now)
    pending = tasks[warmup:]

    arms = ["outbox off", "0 subscriptions", f"{subs} subscriptions"]
    samples: dict[str, list[float]] = {arm: [] for arm in arms}
    written: dict[str, list[int]] = {arm: [0, 0] for arm in arms}
    cycle = 0
    while pending:
        order = arms[cycle % 3 :] + arms[: cycle % 3]  # each arm leads in turn
        for arm in order:
            switch_outbox(ctx, arm != "outbox off")
            set_active(ctx, arm == arms[2])
            before = counts(ctx)
            for task_id in pending[:block]:
                t0 = time.perf_counter()
                complete(ctx, screener, task_id, recorded_now)
                samples[arm].append((time.perf_counter() - t0) * 1000)
            after = counts(ctx)
            written[arm][0] += after[0] - before[0]
            written[arm][1] += after[1] - before[1]
            pending = pending[block:]
        cycle += 1
    switch_outbox(ctx, True)

    means = {arm: statistics.fmean(samples[arm]) for arm in arms}
    for arm in arms:
        n = len(samples[arm])
        print(
            f"  {arm:<16} {n} completions: mean {means[arm]:.2f} ms, "
            f"p50 {statistics.median(samples[arm]):.2f} ms, "
            f"p95 {percentile(samples[arm], 0.95):.2f} ms; "
            f"per completion {written[arm][0] / n:.1f} events, "
            f"{written[arm][1] / n:.1f} deliveries written"
        )
    base, bare, full = (means[arm] for arm in arms)
    print(
        f"  outbox events (0 subscriptions vs off): {bare - base:+.2f} ms per completion "
        f"({(bare - base) / base:+.1%})"
    )
    print(
        f"  deliveries ({subs} subscriptions vs 0): {full - bare:+.2f} ms per completion "
        f"({(full - bare) / bare:+.1%})"
    )
    print(
        f"  whole outbox ({subs} subscriptions vs off): {full - base:+.2f} ms per completion "
        f"({(full - base) / base:+.1%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", "--postgres", dest="url", default=DEFAULT_URL)
    parser.add_argument("--subscriptions", type=int, default=4)
    parser.add_argument("--events", type=int, default=2500)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--completions", type=int, default=200, help="per arm")
    parser.add_argument("--block", type=int, default=20)
    args = parser.parse_args()
    if not args.url.startswith("postgresql"):
        raise SystemExit("this bench measures PostgreSQL: give a postgresql+psycopg:// URL")

    ctx = context(args.url)
    with ctx.db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    schema.upgrade(ctx.db.engine)
    principal = admin(ctx)
    receiver = Receiver().start()
    try:
        print(
            f"delivery to a local receiver, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
        )
        made = subscribe(ctx, principal, receiver, args.subscriptions)
        for workers in (1, 2):
            delivery_round(args.url, ctx, receiver, made, args.events, workers, args.poll)
        print("cost of the outbox on a task completion (record_report: screening + investigation)")
        completion_cost(ctx, args.completions, args.block, args.subscriptions)
    finally:
        receiver.stop()
        ctx.db.dispose()
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
