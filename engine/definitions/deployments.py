"""Deploying a definition bundle: one use case, one transaction."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from engine.context import Actor, EngineContext
from engine.definitions.bundle import Bundle
from engine.definitions.versions import Deployment
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
