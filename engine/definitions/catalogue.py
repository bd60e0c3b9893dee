"""The deployed versions, as designers and supervisors browse them: each version's files, and
how many running phases each process has on each version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.context import EngineContext
from engine.errors import NotFound
from engine.identity.access import require
from engine.identity.roles import ROLES
from engine.identity.users import Principal
from engine.spiff.definitions import read_xml
from engine.statuses import InstanceStatus
from engine.storage.tables import (
    DefinitionFile,
    DefinitionVersion,
    ProcessInstance,
)


def definition_versions(ctx: EngineContext, principal: Principal) -> list[dict[str, Any]]:
    require(principal, "process_designer", "administrator", "supervisor", "program_director")
    with ctx.db.reader() as session:
        running = dict(
            session.execute(
                select(ProcessInstance.version_id, func.count())
                .where(ProcessInstance.status == InstanceStatus.ACTIVE)
                .group_by(ProcessInstance.version_id)
            ).all()
        )
        current = ctx.definitions.current_version_id(session)
        result = []
        for version in session.scalars(
            select(DefinitionVersion).order_by(DefinitionVersion.id.desc())
        ):
            files = session.scalars(
                select(DefinitionFile.path)
                .where(DefinitionFile.version_id == version.id)
                .order_by(DefinitionFile.path)
            ).all()
            result.append(
                {
                    "id": version.id,
                    "content_hash": version.content_hash,
                    "process_ids": list(version.process_ids),
                    "deployed_at": version.deployed_at.isoformat(),
                    "deployed_by": version.deployed_by,
                    "activated_at": version.activated_at.isoformat(),
                    "current": version.id == current,
                    "files": list(files),
                    "active_instances": running.get(version.id, 0),
                }
            )
        return result


def definition_file(ctx: EngineContext, principal: Principal, version_id: int, path: str) -> bytes:
    require(principal, "process_designer", "administrator", "supervisor", "program_director")
    with ctx.db.reader() as session:
        found = session.get(DefinitionFile, (version_id, path))
        if found is None:
            raise NotFound(f"no file {path} in version {version_id}")
        return bytes(found.content)


def version_files(ctx: EngineContext, principal: Principal, version_id: int) -> dict[str, bytes]:
    """Every file of a version: the starting point of a designer's next version."""
    require(principal, "process_designer", "administrator")
    with ctx.db.reader() as session:
        files = {
            f.path: bytes(f.content)
            for f in session.scalars(
                select(DefinitionFile).where(DefinitionFile.version_id == version_id)
            )
        }
    if not files:
        raise NotFound(f"no version {version_id}")
    return files


def running_phases(ctx: EngineContext, principal: Principal) -> list[dict[str, Any]]:
    """How many phases of each process run on each version: counts only, since a designer
    needs to know what a change would touch, not whose cases they are."""
    require(principal, "process_designer", "administrator")
    with ctx.db.reader() as session:
        rows = session.execute(
            select(ProcessInstance.process_id, ProcessInstance.version_id, func.count())
            .where(ProcessInstance.status == InstanceStatus.ACTIVE)
            .group_by(ProcessInstance.process_id, ProcessInstance.version_id)
            .order_by(ProcessInstance.process_id, ProcessInstance.version_id)
        ).all()
    return [{"process_id": p, "version_id": v, "running": n} for p, v, n in rows]


def design_vocabulary(ctx: EngineContext, principal: Principal, version_id: int) -> dict[str, Any]:
    """What a designer picks from in the modeler's properties: the roles lanes may name, the
    version's processes (for a call activity), decisions (for a business rule task) and forms,
    and which statutory deadline each timer stands for in each profile."""
    require(principal, "process_designer", "administrator")
    with ctx.db.reader() as session:
        compiled = ctx.definitions.compiled(session, version_id)
    bundle = compiled.bundle
    decisions = sorted(
        {
            decision.get("id") or ""
            for content in bundle.of_kind("dmn").values()
            for root in [read_xml(content)]
            if root is not None
            for decision in root.iter("{*}decision")
        }
        - {""}
    )
    deadlines: dict[str, list[str]] = {}
    for profile_id, profile in sorted(compiled.profiles.items()):
        for rule in profile.deadlines:
            deadlines.setdefault(rule.timer, []).append(f"{rule.id} {rule.title} ({profile_id})")
    return {
        "roles": sorted(ROLES),
        "processes": sorted(compiled.processes),
        "decisions": decisions,
        "forms": sorted(bundle.of_kind("form")),
        "deadlines": deadlines,
    }
