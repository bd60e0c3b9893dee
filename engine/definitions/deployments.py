"""Deploying a definition bundle: one use case, one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from engine.context import Actor, EngineContext
from engine.definitions.bundle import Bundle
from engine.definitions.changes import changes, in_words
from engine.definitions.versions import Deployment, check
from engine.identity.access import require
from engine.identity.users import Principal
from engine.storage.uow import UnitOfWork


def deploy_bundle(ctx: EngineContext, actor: Actor, bundle: Bundle) -> Deployment:
    """Deploy a bundle as a new immutable version, or return the version that already has
    exactly this content. Raises InvalidDefinition, with every problem, and deploys nothing."""
    for attempt in range(2):
        with UnitOfWork(ctx.db.writer) as uow:
            deployment = ctx.definitions.deploy(
                uow, bundle, actor_id=actor.id, actor_role=actor.role, at=ctx.clock.now()
            )
            try:
                uow.commit()
            except IntegrityError:
                # Someone deployed the same content at the same moment; theirs is the version.
                if attempt:
                    raise
                continue
            ctx.definitions.remember(deployment)
            return deployment
    raise AssertionError("unreachable")


DESIGNERS = ("process_designer", "administrator")


def activate_version(ctx: EngineContext, principal: Principal, version_id: int) -> dict[str, Any]:
    """Make an earlier version current again (a rollback): new cases and new phases start on
    it; running ones stay on theirs. Audited, and heard by subscribers."""
    require(principal, *DESIGNERS)
    with UnitOfWork(ctx.db.writer) as uow:
        previous = ctx.definitions.current_version_id(uow.session)
        version = ctx.definitions.activate(
            uow,
            version_id,
            actor_id=principal.id,
            actor_role=principal.actor.role,
            at=ctx.clock.now(),
        )
        uow.commit()
        return {
            "version": version.id,
            "content_hash": version.content_hash,
            "processes": list(version.process_ids),
            "previous_version": previous,
            "activated_at": version.activated_at.isoformat(),
        }


def review(ctx: EngineContext, principal: Principal, bundle: Bundle) -> dict[str, Any]:
    """What a designer reads before deploying: every problem of the bundle, and what it
    changes against the version new cases start on now. Nothing is deployed."""
    require(principal, *DESIGNERS)
    checked = check(bundle)
    problems = checked.problems
    with ctx.db.reader() as session:
        current_id = ctx.definitions.current_version_id(session)
        current = ctx.definitions.files_of(session, current_id) if current_id else None
    changed = changes(current, bundle)
    return {
        "valid": not problems,
        "problems": [p.as_dict() for p in problems],
        "against_version": current_id,
        "content_hash": bundle.content_hash,
        "changes": changed,
        "summary": in_words(changed),
        "dry_run": checked.reach.as_dict() if checked.reach else None,
        "dry_run_summary": checked.reach.in_words() if checked.reach else None,
        "translations": [t.as_dict() for t in checked.translations],
    }
