"""The ``casework`` command."""

from __future__ import annotations

import json
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import isodate

from engine.context import Actor
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import activate_version, deploy_bundle
from engine.definitions.simulate import DryRun, simulate
from engine.definitions.versions import Checked, check
from engine.errors import (
    EngineError,
    InvalidDefinition,
    InvalidTaskData,
    NotFound,
    Problem,
    ScriptFailed,
)
from engine.identity.users import Principal
from engine.instances.migration import Migration, migrate
from engine.storage import schema
from workflows.bootstrap import Services, bootstrap
from workflows.settings import Settings
from workflows.shared_metrics import share_across_processes

CLI_ACTOR = Actor("cli", "administrator")
# Who runs a command on the server itself: its operator, an administrator.
CLI_PRINCIPAL = Principal("cli", "The command line", frozenset({"administrator"}))


def _services() -> Services:
    return bootstrap(Settings.from_env())


def _print_problems(problems: list[Problem], as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps({"valid": False, "problems": [p.as_dict() for p in problems]}, indent=2)
        )
    else:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(problems)} problem(s); nothing was deployed", err=True)


@click.group()
def main() -> None:
    """casework: child-protective-services cases run on BPMN."""
    from workflows.logs import configure

    configure(Settings.from_env().log_format)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    services = _services()
    try:
        schema.upgrade(services.ctx.db.engine)
        click.echo(f"database at revision {schema.current_revision(services.ctx.db.engine)}")
    finally:
        services.ctx.db.dispose()


@main.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def validate_command(paths: tuple[str, ...], as_json: bool) -> None:
    """Check BPMN/DMN files or folders; print every problem as file:line: element-id: message."""
    try:
        checked = check(read_bundle(paths))
    except InvalidDefinition as exc:
        checked = Checked(exc.problems)
    if checked.problems:
        _print_problems(checked.problems, as_json)
        sys.exit(1)
    reach = checked.reach
    if as_json:
        click.echo(
            json.dumps(
                {
                    "valid": True,
                    "problems": [],
                    "dry_run": reach.as_dict() if reach else None,
                    "translations": [t.as_dict() for t in checked.translations],
                }
            )
        )
        return
    click.echo("valid" + (f"; {reach.in_words()}" if reach else ""))
    if checked.translations:
        click.echo("written for another engine, run by casework as:")
    for said in checked.translations:
        click.echo(f"  {said.file}: {said.element_id or '-'}: {said.written} -> {said.runs}")


@main.command("deploy")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def deploy_command(paths: tuple[str, ...], as_json: bool) -> None:
    """Validate and deploy files or folders as a new immutable version."""
    services = _services()
    try:
        deployment = deploy_bundle(services.ctx, CLI_ACTOR, read_bundle(paths))
    except InvalidDefinition as exc:
        _print_problems(exc.problems, as_json)
        sys.exit(1)
    finally:
        services.ctx.db.dispose()
    result = {
        "version": deployment.version_id,
        "content_hash": deployment.content_hash,
        "processes": deployment.process_ids,
        "created": deployment.created,
        "reactivated": deployment.reactivated,
    }
    if as_json:
        click.echo(json.dumps(result))
    else:
        state = (
            "deployed"
            if deployment.created
            else "already deployed, and the current version again"
            if deployment.reactivated
            else "already deployed, unchanged"
        )
        click.echo(
            f"version {deployment.version_id} ({deployment.content_hash[:12]}) {state}: "
            f"{', '.join(deployment.process_ids)}"
        )


@main.command("activate")
@click.argument("version", type=int)
def activate_command(version: int) -> None:
    """Make an earlier version the current one again (a rollback): new cases and new phases
    start on it; running ones stay on theirs."""
    services = _services()
    try:
        activated = activate_version(services.ctx, CLI_PRINCIPAL, version)
    except NotFound as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    finally:
        services.ctx.db.dispose()
    click.echo(
        f"version {activated['version']} ({activated['content_hash'][:12]}) is current "
        f"(it was version {activated['previous_version']}): {', '.join(activated['processes'])}"
    )


@main.command("migrate")
@click.option("--from", "from_version", type=int, required=True, help="The version they run on.")
@click.option("--to", "to_version", type=int, required=True, help="The version to move them to.")
@click.option("--process", "process_id", default=None, help="Only this process's instances.")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False),
    help='JSON: renamed elements, old id -> new id ({"first_contact": "make_first_contact"}).',
)
@click.option("--dry-run", is_flag=True, help="Say what would move; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def migrate_command(
    from_version: int,
    to_version: int,
    process_id: str | None,
    mapping: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Move running instances to another version, each whole or not at all."""
    renamed = json.loads(Path(mapping).read_text()) if mapping else {}
    if not isinstance(renamed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in renamed.items()
    ):
        click.echo("the mapping is a JSON object of old element id -> new element id", err=True)
        sys.exit(2)
    asked = Migration(from_version, to_version, process_id, renamed, dry_run)
    services = _services()
    try:
        moved = migrate(services.ctx, CLI_PRINCIPAL, asked)
    except EngineError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    finally:
        services.ctx.db.dispose()
    if as_json:
        click.echo(json.dumps(moved))
    else:
        for one in moved:
            head = f"{one['case_number']} {one['process_id']} ({one['instance_id'][:8]})"
            if not one["moves"]:
                click.echo(f"{head}: cannot move: {one['why']}")
                continue
            verb = "would move" if dry_run else "moved"
            changes = [f"{k} {', '.join(one[k])}" for k in ("cancelled", "created") if one[k]]
            click.echo(f"{head}: {verb}; waiting at {', '.join(one['waiting']) or 'nothing'}"
                       + (f"; {'; '.join(changes)}" if changes else ""))  # fmt: skip
        click.echo(f"{sum(o['moves'] for o in moved)} of {len(moved)} instance(s) "
                   + ("can move" if dry_run else "moved"), err=True)  # fmt: skip
    if any(not o["moves"] for o in moved):
        sys.exit(1)


@main.command("simulate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--process", "process_id", required=True, help="The process to run.")
@click.option(
    "--answers", type=click.Path(exists=True, dir_okay=False), help="JSON: task id -> data."
)
@click.option("--advance", default="PT0S", help="How far to move the clock, ISO 8601 (P30D).")
@click.option("--start", "start_at", default=None, help="Start instant, ISO 8601 (default: now).")
@click.option("--profile", "profile_id", default="default", help="Jurisdiction profile id.")
def simulate_command(
    paths: tuple[str, ...],
    process_id: str,
    answers: str | None,
    advance: str,
    start_at: str | None,
    profile_id: str,
) -> None:
    """Dry-run a process in memory with a fake clock and print each step."""
    try:
        given: dict[str, Any] = json.loads(Path(answers).read_text()) if answers else {}
        if not isinstance(given, dict):
            raise click.UsageError("the answers file must hold a JSON object keyed by task id")
        duration = isodate.parse_duration(advance)
        start = datetime.fromisoformat(start_at) if start_at else datetime.now(UTC)
        if start.tzinfo is None:
            raise click.UsageError("--start needs a time zone, e.g. 2025-03-03T09:15:00-06:00")
        now = start.astimezone(UTC)
        span = (now + duration) - now if isinstance(duration, isodate.Duration) else duration
        dry_run = DryRun(process_id, given, now, span, profile_id)
        report = simulate(read_bundle(paths), dry_run)
    except InvalidDefinition as exc:
        _print_problems(exc.problems, False)
        sys.exit(1)
    except ScriptFailed as exc:
        click.echo(f"error: {exc.describe()}", err=True)
        sys.exit(1)
    except (InvalidTaskData, EngineError) as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except (ValueError, isodate.ISO8601Error) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for step in report.steps:
        click.echo(f"{step.at.isoformat()}  {step.kind:<8} {step.text}")
    click.echo("stopped:" if not report.completed else "completed:")
    for line in report.stopped:
        click.echo(f"  {line}")


@main.command("worker")
def worker_command() -> None:
    """Fire due timers, raise deadline alerts and deliver webhooks until stopped (SIGTERM stops
    it cleanly)."""
    # Its timers and deliveries add up with the web processes' at /metrics (set before the
    # metrics library is first imported, which reads it then).
    share_across_processes(Settings.from_env().shared_metrics_dir)
    from workflows.scheduler import run_worker

    services = _services()
    try:
        run_worker(services)
    finally:
        services.ctx.db.dispose()


@main.command("fire-timers")
def fire_timers_command() -> None:
    """One pass: fire every due timer, raise every due alert, then exit."""
    from engine.deadlines.timers import fire_due_timers
    from workflows.scheduler import worker_name

    services = _services()
    try:
        report = fire_due_timers(services.ctx, worker=worker_name(), policy=services.timer_policy)
    finally:
        services.ctx.db.dispose()
    click.echo(
        f"fired {report.fired}, alerts {report.alerts}, retried {report.retried}, "
        f"failed {report.failed}, not yet {report.not_yet}"
    )


@main.command("deliver-webhooks")
def deliver_webhooks_command() -> None:
    """One pass: post every due webhook delivery (with its retries), then exit."""
    from webhooks.delivery import deliver_due
    from workflows.scheduler import worker_name

    services = _services()
    try:
        report = deliver_due(services.ctx, worker=worker_name(), policy=services.delivery)
    finally:
        services.ctx.db.dispose()
    click.echo(
        f"delivered {report.delivered}, retrying {report.retrying}, dead {report.dead}, "
        f"subscriptions disabled {len(report.disabled)}"
    )


@main.command("retention")
@click.option("--perform", is_flag=True, help="Do what is due (audited); without it, only say.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def retention_command(perform: bool, as_json: bool) -> None:
    """Records retention: what is due (finished engine state of closed cases to compact, cases
    to expunge, delivered webhook rows to prune, audit partitions to create), and with
    --perform, doing it in batches of one transaction each."""
    from engine.retention.runs import due
    from engine.retention.runs import perform as perform_retention

    services = _services()
    try:
        if perform:
            result = perform_retention(services.ctx, services.retention).as_dict()
        else:
            result = due(services.ctx, services.retention).as_dict()
    finally:
        services.ctx.db.dispose()
    if as_json:
        click.echo(json.dumps({"performed": perform, **result}))
        return
    for key, value in result.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k.replace('_', ' ')} {_said(v)}" for k, v in value.items())
        click.echo(f"{key.replace('_', ' ')}: {_said(value)}")
    if not perform:
        click.echo("nothing was changed; --perform does it")


def _said(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@main.group("incidents", invoke_without_command=True)
@click.pass_context
def incidents_group(context: click.Context) -> None:
    """Timers that kept failing, for an administrator to look at (lists the open ones)."""
    if context.invoked_subcommand is not None:
        return
    from sqlalchemy import select

    from engine.storage.tables import Incident

    services = _services()
    try:
        with services.ctx.db.reader() as session:
            rows = session.scalars(
                select(Incident).where(Incident.resolved_at.is_(None)).order_by(Incident.opened_at)
            ).all()
    finally:
        services.ctx.db.dispose()
    for row in rows:
        click.echo(
            f"{row.id}  {row.opened_at.isoformat()}  case {row.case_id}  {row.element_id}  "
            f"after {row.attempts} attempts: {row.error}"
        )
    click.echo(f"{len(rows)} open incident(s)", err=True)


@incidents_group.command("retry")
@click.argument("incident_id")
def incidents_retry(incident_id: str) -> None:
    """Put an incident's timer back in the queue (after fixing its cause)."""
    import uuid

    from engine.deadlines.timers import retry_incident

    services = _services()
    try:
        retry_incident(services.ctx, uuid.UUID(incident_id), CLI_ACTOR.id)
    except EngineError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    finally:
        services.ctx.db.dispose()
    click.echo("queued again")


def _stop_serving(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@main.group("users")
def users_group() -> None:
    """People and their access."""


@users_group.command("add")
@click.argument("user_id")
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--role", "roles", multiple=True, required=True, help="A role; repeat for more.")
@click.option("--team", default=None, help="Team id.")
@click.option("--unit", default=None, help="Unit (for program directors).")
@click.option(
    "--security-group", is_flag=True, help="Member of the security group (sensitive cases)."
)
@click.option("--password", default=None, help="A password for the web pages (else none).")
def users_add(
    user_id: str,
    display_name: str | None,
    roles: tuple[str, ...],
    team: str | None,
    unit: str | None,
    security_group: bool,
    password: str | None,
) -> None:
    """Add a user and print an API token for them (shown once)."""
    from werkzeug.security import generate_password_hash

    from engine.identity.users import NewUser, create_user, issue_token

    services = _services()
    try:
        create_user(
            services.ctx,
            CLI_ACTOR,
            NewUser(
                user_id,
                display_name or user_id,
                list(roles),
                team_id=team,
                unit=unit,
                security_group=security_group,
                password_hash=generate_password_hash(password) if password else None,
            ),
        )
        token = issue_token(services.ctx, CLI_ACTOR, user_id, "cli")
    except EngineError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    finally:
        services.ctx.db.dispose()
    click.echo(token)


@users_group.command("token")
@click.argument("user_id")
@click.option("--label", default="cli")
def users_token(user_id: str, label: str) -> None:
    """Issue another API token for a user (shown once)."""
    from engine.identity.users import issue_token

    services = _services()
    try:
        click.echo(issue_token(services.ctx, CLI_ACTOR, user_id, label))
    except EngineError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    finally:
        services.ctx.db.dispose()


@users_group.command("revoke")
@click.argument("user_id")
def users_revoke(user_id: str) -> None:
    """Revoke every API token of a user."""
    from engine.identity.users import revoke_tokens

    services = _services()
    try:
        click.echo(f"revoked {revoke_tokens(services.ctx, CLI_ACTOR, user_id)} token(s)")
    finally:
        services.ctx.db.dispose()


@main.group("teams")
def teams_group() -> None:
    """Teams and units."""


@teams_group.command("add")
@click.argument("team_id")
@click.option("--name", required=True)
@click.option("--unit", required=True)
def teams_add(team_id: str, name: str, unit: str) -> None:
    """Add a team; its first supervisor added to it becomes its supervisor."""
    from engine.identity.users import create_team

    services = _services()
    try:
        create_team(services.ctx, CLI_ACTOR, team_id, name, unit)
    except EngineError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    finally:
        services.ctx.db.dispose()
    click.echo(f"team {team_id} added")


@main.command("serve")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--workers", default=2, type=int, help="gunicorn worker processes.")
def serve_command(host: str | None, port: int | None, workers: int) -> None:
    """Production web server: gunicorn with N workers (run `casework worker` beside it)."""
    import os

    settings = Settings.from_env()
    bind = f"{host or settings.host}:{port or settings.port}"
    # Each web worker's requests add up with the others' (and `casework worker`'s figures).
    share_across_processes(settings.shared_metrics_dir, starting_server=True)
    os.execvp(  # noqa: S606 - replaces this process with gunicorn on purpose
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            bind,
            "--config",
            "python:workflows.gunicorn_config",
            "workflows.app:create_app()",
        ],
    )


@main.command("demo")
def demo_command() -> None:
    """Seed the demo agency (once) and print its credentials."""
    from workflows.demo import seed

    services = _services()
    try:
        schema.upgrade(services.ctx.db.engine)
        _print_credentials(seed(services))
    finally:
        services.ctx.db.dispose()


def _print_credentials(credentials: list[dict[str, str]]) -> None:
    click.echo("demo accounts (user / password / API token):")
    for row in credentials:
        click.echo(f"  {row['user']:<18} {row['password']:<14} {row['token']}   [{row['roles']}]")


@main.command("run")
@click.option("--host", default=None, help="Address to listen on.")
@click.option("--port", default=None, type=int, help="Port to listen on.")
def run_command(host: str | None, port: int | None) -> None:
    """Run casework in one process: migrate, deploy bpmn/, serve the web app."""
    from werkzeug.serving import make_server

    from workflows.app import create_app

    settings = Settings.from_env()
    settings = settings.with_overrides(host=host or settings.host, port=port or settings.port)
    services = bootstrap(settings)
    schema.upgrade(services.ctx.db.engine)
    if settings.bpmn_dir.is_dir():
        try:
            deployment = deploy_bundle(services.ctx, CLI_ACTOR, read_bundle([settings.bpmn_dir]))
            processes = ", ".join(deployment.process_ids)
            click.echo(f"definitions: version {deployment.version_id} ({processes})")
        except InvalidDefinition as exc:
            _print_problems(exc.problems, False)
            click.echo(f"{settings.bpmn_dir} was not deployed; fix the problems above", err=True)
    from workflows.demo import seed
    from workflows.scheduler import background_scheduler

    if not settings.no_demo:
        _print_credentials(seed(services))
    app = create_app(settings, services)
    server = make_server(settings.host, settings.port, app, threaded=True)
    scheduler = background_scheduler(services)
    scheduler.start()
    signal.signal(signal.SIGTERM, _stop_serving)
    click.echo(f"casework is running at http://{settings.host}:{settings.port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown(wait=True)
        server.server_close()
