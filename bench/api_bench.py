"""The REST API under load on PostgreSQL, served by gunicorn (`casework serve`).

    .venv/bin/python bench/api_bench.py --postgres URL [--open-cases 100000] [--completions 2000]
        [--clients 16] [--workers 2] [--reads 1500] [--read-clients 4]

1. Seeds --open-cases open investigations (one ready task each) spread over 1000 investigators
   in 40 teams, copied in SQL from one case the engine made, so worklists read a full agency.
2. Files --completions hotline reports through the engine; each leaves a "record the report"
   task in the screeners' queue, on its own case.
3. Starts `casework serve --workers N` and has --clients threads complete those tasks at once
   (each completion runs the screening decisions and starts the investigation), then the
   first contacts those completions gave investigators (the everyday kind of completion), then
   read worklists: an investigator's own, a supervisor's team view, the screeners' queue.

Prints completions per second, p50/p95/p99 latency seen by the clients, and the engine's share
of the server's time (from each response's Server-Timing header). Targets on a 2-core machine:
300 completions/s with p95 under 50 ms; worklist p95 under 20 ms. The clients run on the same
two cores as the server and the database, so the figures are a floor. The database is emptied.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sample_reports import REPORT, recorded  # noqa: E402

from engine.cases.casefile import file_intake  # noqa: E402
from engine.clock import SystemClock  # noqa: E402
from engine.context import Actor, EngineContext  # noqa: E402
from engine.definitions.bundle import read_bundle  # noqa: E402
from engine.definitions.deployments import deploy_bundle  # noqa: E402
from engine.definitions.versions import DefinitionRegistry  # noqa: E402
from engine.identity.users import NewUser, create_team, create_user, issue_token, load_principal  # noqa: E402
from engine.spiff.runtime import Runtime  # noqa: E402
from engine.storage import schema  # noqa: E402
from engine.storage.db import connect  # noqa: E402
from engine.tasks import queries  # noqa: E402
from engine.tasks.completion import complete  # noqa: E402

ACTOR = Actor("bench", "administrator")
TEAMS = 40
INVESTIGATORS = 1000
PORT = 8765

# Reports received an hour ago and first contacts made now: work done on time, as most of an
# agency's is (late work adds missed deadlines and alerts to each completion).
STARTED = datetime.now(UTC)
RECORDED = recorded((STARTED - timedelta(hours=1)).isoformat())


def investigator(n: int) -> str:
    return f"inv{n:04d}"


def team_of(n: int) -> str:
    return f"team{n % TEAMS:02d}"


@dataclass
class Agency:
    tokens: dict[str, str] = field(default_factory=dict)
    intake_tasks: list[str] = field(default_factory=list)


def context(url: str) -> EngineContext:
    clock = SystemClock()
    return EngineContext(connect(url), Runtime(clock), DefinitionRegistry(), clock)


def build_agency(ctx: EngineContext, open_cases: int, intakes: int) -> Agency:
    agency = Agency()
    deploy_bundle(ctx, ACTOR, read_bundle([ROOT / "bpmn"]))
    for t in range(TEAMS):
        create_team(ctx, ACTOR, f"team{t:02d}", f"Team {t}", f"region-{t % 4}")
        create_user(
            ctx,
            ACTOR,
            NewUser(f"sup{t:02d}", f"Supervisor {t}", ["supervisor"], team_id=f"team{t:02d}"),
        )
    for n in range(INVESTIGATORS):
        create_user(
            ctx,
            ACTOR,
            NewUser(investigator(n), f"Investigator {n}", ["investigator"], team_id=team_of(n)),
        )
    for s in range(4):
        create_user(
            ctx, ACTOR, NewUser(f"scr{s}", f"Screener {s}", ["intake_screener"], team_id="team00")
        )
    for user in [f"scr{s}" for s in range(4)] + [f"sup{t:02d}" for t in range(10)]:
        agency.tokens[user] = issue_token(ctx, ACTOR, user)
    for n in range(0, INVESTIGATORS, INVESTIGATORS // 50):
        agency.tokens[investigator(n)] = issue_token(ctx, ACTOR, investigator(n))

    started = time.perf_counter()
    seed_open_investigations(ctx, open_cases)
    print(f"seeded {open_cases} open investigations: {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    screener = load_principal(ctx, "scr0")
    assert screener is not None
    for i in range(intakes):
        opened = file_intake(ctx, screener, {**REPORT, "team": team_of(i)})
        [task] = queries.ready_tasks(ctx.db, case_id=opened.id)
        agency.intake_tasks.append(str(task.id))
    print(f"filed {intakes} reports through the engine: {time.perf_counter() - started:.1f} s")
    # As autovacuum leaves a table in steady use: statistics read, and pages all-visible, so
    # that index-only scans read no table pages.
    with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return agency


def seed_open_investigations(ctx: EngineContext, count: int) -> None:
    """One case made by the engine (report filed and screened in), then copied in SQL with new
    ids, case numbers, workers and due dates: the rows worklists read, at agency scale."""
    screener = load_principal(ctx, "scr0")
    assert screener is not None
    opened = file_intake(ctx, screener, {**REPORT, "team": "team00"})
    [task] = queries.ready_tasks(ctx.db, case_id=opened.id)
    complete(ctx, screener, task.id, RECORDED)
    contact = next(
        t for t in queries.ready_tasks(ctx.db, case_id=opened.id) if t.bpmn_id == "first_contact"
    )
    columns = {
        table: [
            row[0]
            for row in ctx.db.engine.connect().execute(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = :t ORDER BY ordinal_position"
                ),
                {"t": table},
            )
        ]
        for table in ("cases", "process_instances", "human_tasks")
    }
    overrides = {
        "cases": {
            "id": "s.case_id",
            "case_number": "'BENCH-' || s.n",
            "assigned_to": "'inv' || lpad((s.n % :workers)::text, 4, '0')",
            "team": "'team' || lpad(((s.n % :workers) % :teams)::text, 2, '0')",
            "opened_at": "now() - (s.n % 500) * interval '1 hour'",
        },
        "process_instances": {"id": "s.instance_id", "case_id": "s.case_id", "state": "'{}'"},
        "human_tasks": {
            "id": "s.task_id",
            "instance_id": "s.instance_id",
            "case_id": "s.case_id",
            "assignee": "'inv' || lpad((s.n % :workers)::text, 4, '0')",
            "team": "'team' || lpad(((s.n % :workers) % :teams)::text, 2, '0')",
            "due_at": "now() + ((s.n % 700) - 100) * interval '1 hour'",
        },
    }
    where = {
        "cases": "t.id = :case_id",
        "process_instances": "t.id = :instance_id",
        "human_tasks": "t.id = :task_id",
    }
    series = (
        "(SELECT n, gen_random_uuid() AS case_id, gen_random_uuid() AS instance_id, "
        "gen_random_uuid() AS task_id FROM generate_series(1, :count) AS n) AS s"
    )
    with ctx.db.engine.begin() as connection:
        connection.execute(
            text(f"CREATE TEMP TABLE seed AS SELECT * FROM {series}"), {"count": count}
        )
        for table, names in columns.items():
            values = ", ".join(overrides[table].get(name, f"t.{name}") for name in names)
            connection.execute(
                text(
                    f"INSERT INTO {table} ({', '.join(names)}) "
                    f"SELECT {values} FROM seed AS s CROSS JOIN {table} AS t WHERE {where[table]}"
                ),
                {
                    "case_id": opened.id,
                    "instance_id": contact.instance_id,
                    "task_id": contact.id,
                    "workers": INVESTIGATORS,
                    "teams": TEAMS,
                },
            )


def first_contacts(url: str, agency: Agency) -> list[tuple[str, str]]:
    """(investigator, task id) of the first contacts the screened reports opened, with a
    token issued for each investigator who got one."""
    ctx = context(url)
    with ctx.db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT t.assignee, t.id FROM human_tasks AS t JOIN cases AS c "
                "ON c.id = t.case_id WHERE t.bpmn_id = 'first_contact' AND t.status = 'ready' "
                "AND c.case_number NOT LIKE 'BENCH-%' AND t.assignee IS NOT NULL"
            )
        ).all()
    for who in {who for who, _ in rows} - set(agency.tokens):
        agency.tokens[who] = issue_token(ctx, ACTOR, who)
    ctx.db.dispose()
    return [(who, str(task_id)) for who, task_id in rows]


def contact(base: str, token: str, task_id: str) -> Callable[[requests.Session], requests.Response]:
    headers = {"Authorization": f"Bearer {token}"}
    body = {"contact_at": STARTED.isoformat(), "location": "child_residence"}
    return lambda s: s.post(
        f"{base}/tasks/{task_id}/complete", json=body, headers=headers, timeout=60
    )


def start_server(url: str, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CASEWORK_DATABASE_URL": url, "CASEWORK_LOG_FORMAT": "json"}
    log = open(ROOT / "var" / "api_bench_server.log", "wb")
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "casework"), "serve", "--host", "127.0.0.1",
         "--port", str(PORT), "--workers", str(workers)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{PORT}/healthz", timeout=5).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not come up; see var/api_bench_server.log")


@dataclass
class Sample:
    status: int
    seconds: float
    server_ms: float
    engine_ms: float


def timed(
    job: Callable[[requests.Session], requests.Response], session: requests.Session
) -> Sample:
    started = time.perf_counter()
    response = job(session)
    elapsed = time.perf_counter() - started
    timing = dict(
        part.strip().split(";dur=") for part in response.headers.get("Server-Timing", "").split(",")
        if ";dur=" in part
    )  # fmt: skip
    return Sample(
        response.status_code,
        elapsed,
        float(timing.get("app", 0)),
        float(timing.get("engine", 0)),
    )


def hammer(
    server_pid: int, clients: int, jobs: list[Callable[[requests.Session], requests.Response]]
) -> tuple[list[Sample], float, tuple[dict[str, float], dict[str, float]]]:
    work: queue.Queue[Callable[[requests.Session], requests.Response]] = queue.Queue()
    for job in jobs:
        work.put(job)
    samples: list[Sample] = []
    lock = threading.Lock()

    def client() -> None:
        session = requests.Session()
        while True:
            try:
                job = work.get_nowait()
            except queue.Empty:
                return
            sample = timed(job, session)
            with lock:
                samples.append(sample)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    cpu_before = cpu_seconds(server_pid)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return samples, wall, (cpu_before, cpu_seconds(server_pid))


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time used so far by the server (gunicorn and its workers), by PostgreSQL's
    processes, and by this process (the clients), read from /proc: where a request's cost goes
    when all three share the two cores."""
    used = {"server": 0.0, "database": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text_ = stat.read_text()
        except OSError:
            continue  # the process ended meanwhile
        name = text_[text_.index("(") + 1 : text_.rindex(")")]
        fields = text_[text_.rindex(")") + 2 :].split()
        pid, ppid = int(stat.parent.name), int(fields[1])
        seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        if pid == server_pid or ppid == server_pid:
            used["server"] += seconds
        elif name.startswith("postgres"):
            used["database"] += seconds
    times = os.times()
    used["clients"] = times.user + times.system
    return used


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def report(
    label: str,
    samples: list[Sample],
    wall: float,
    target_ms: float,
    cpu: tuple[dict[str, float], dict[str, float]],
) -> None:
    ok = [s for s in samples if s.status < 400]
    latencies = [s.seconds * 1000 for s in ok]
    server = sum(s.server_ms for s in ok)
    engine = sum(s.engine_ms for s in ok)
    print(
        f"{label}: {len(ok)}/{len(samples)} ok in {wall:.1f} s = {len(ok) / wall:.0f}/s; "
        f"latency p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {percentile(latencies, 0.95):.1f} ms, "
        f"p99 {percentile(latencies, 0.99):.1f} ms (target p95 < {target_ms:.0f} ms); "
        f"server time p50 {statistics.median(s.server_ms for s in ok):.1f} ms, "
        f"engine p50 {statistics.median(s.engine_ms for s in ok):.1f} ms, "
        f"engine share {engine / server:.0%}"
    )
    before, after = cpu
    print(
        "  CPU per request: "
        + ", ".join(
            f"{group} {(after[group] - before[group]) * 1000 / len(samples):.1f} ms"
            for group in ("server", "database", "clients")
        )
    )
    failed = sorted({s.status for s in samples if s.status >= 400})
    if failed:
        print(f"  failed statuses: {failed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", required=True)
    parser.add_argument("--open-cases", type=int, default=100_000)
    parser.add_argument("--completions", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reads", type=int, default=1500)
    parser.add_argument("--read-clients", type=int, default=4)
    args = parser.parse_args()

    ctx = context(args.postgres)
    with ctx.db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    schema.upgrade(ctx.db.engine)
    agency = build_agency(ctx, args.open_cases, args.completions)
    ctx.db.dispose()
    (ROOT / "var").mkdir(exist_ok=True)
    server = start_server(args.postgres, args.workers)
    base = f"http://127.0.0.1:{PORT}/api/v1"
    try:
        screeners = [f"scr{s}" for s in range(4)]

        def completion(i: int, task_id: str) -> Callable[[requests.Session], requests.Response]:
            headers = {"Authorization": f"Bearer {agency.tokens[screeners[i % 4]]}"}
            return lambda s: s.post(
                f"{base}/tasks/{task_id}/complete", json=RECORDED, headers=headers, timeout=60
            )

        samples, wall, cpu = hammer(
            server.pid, args.clients, [completion(i, t) for i, t in enumerate(agency.intake_tasks)]
        )
        report(
            f"record_report completions ({args.clients} clients, {args.workers} gunicorn "
            "workers; each runs the screening decisions and starts the investigation)",
            samples,
            wall,
            50,
            cpu,
        )
        contacts = first_contacts(args.postgres, agency)
        samples, wall, cpu = hammer(
            server.pid,
            args.clients,
            [contact(base, agency.tokens[who], task_id) for who, task_id in contacts],
        )
        report(
            f"first_contact completions ({args.clients} clients, {args.workers} gunicorn "
            "workers; an investigator's everyday task)",
            samples,
            wall,
            50,
            cpu,
        )

        readers = {
            "my worklist (investigator)": [u for u in agency.tokens if u.startswith("inv")],
            "team worklist (supervisor)": [u for u in agency.tokens if u.startswith("sup")],
            "queue (screeners)": screeners,
        }
        views = {
            "my worklist (investigator)": "mine",
            "team worklist (supervisor)": "team",
            "queue (screeners)": "queue",
        }
        for label, users in readers.items():

            def read(
                user: str, view: str = views[label]
            ) -> Callable[[requests.Session], requests.Response]:
                headers = {"Authorization": f"Bearer {agency.tokens[user]}"}
                return lambda s: s.get(
                    f"{base}/tasks", params={"view": view}, headers=headers, timeout=60
                )

            jobs = [read(users[i % len(users)]) for i in range(args.reads)]
            samples, wall, cpu = hammer(server.pid, args.read_clients, jobs)
            report(
                f"{label}, {args.open_cases} open cases, {args.read_clients} clients",
                samples,
                wall,
                20,
                cpu,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
