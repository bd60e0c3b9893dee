"""The jurisdictions deployed, each as the version its new work starts on has it: the profile
a case reads (its zone, its words, its report template) and the process a report starts.

A version deployed before versions recorded their jurisdictions has them all, and its reports
start the process ``intake``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.deadlines.profiles import Profile
from engine.errors import InvalidInput, NotFound
from engine.spiff.definitions import INTAKE_PROCESS, CompiledBundle


def bundle_of(ctx: EngineContext, session: Session, profile_id: str) -> CompiledBundle | None:
    """The version a jurisdiction's new cases start on (None before any deployment)."""
    found = ctx.definitions.intake_of(session, profile_id)
    if found is not None:
        return ctx.definitions.compiled(session, found[0])
    return _unrecorded(ctx, session)


def _unrecorded(ctx: EngineContext, session: Session) -> CompiledBundle | None:
    try:
        version = ctx.definitions.newest_version_of(session, INTAKE_PROCESS)
    except NotFound:
        return None
    return ctx.definitions.compiled(session, version)


def profile_of(ctx: EngineContext, session: Session, profile_id: str) -> Profile | None:
    """A jurisdiction's profile as its newest work has it (None if nothing deployed has it)."""
    compiled = bundle_of(ctx, session, profile_id)
    return compiled.profile(profile_id) if compiled is not None else None


def deployed(ctx: EngineContext, session: Session) -> dict[str, Profile]:
    """Every jurisdiction deployed, by profile id."""
    found: dict[str, Profile] = {}
    for profile_id, (version, _intake) in ctx.definitions.jurisdiction_intakes(session).items():
        profile = ctx.definitions.compiled(session, version).profile(profile_id)
        if profile is not None:
            found[profile_id] = profile
    if not found:  # versions that did not record their jurisdictions
        compiled = _unrecorded(ctx, session)
        found = dict(compiled.profiles) if compiled is not None else {}
    return found


def intake(
    ctx: EngineContext, session: Session, profile_id: str | None
) -> tuple[str, int | None, str]:
    """For a report: its jurisdiction (the one it names, else the default one), the version
    its case starts on and the process it starts."""
    profiles = deployed(ctx, session)
    if profile_id is None:
        defaults = [p for p in profiles.values() if p.default]
        if defaults:
            profile_id = defaults[0].id
        elif len(profiles) == 1:
            profile_id = next(iter(profiles))
        else:
            raise InvalidInput(
                f"name the report's jurisdiction (profile_id): one of {', '.join(sorted(profiles))}"
            )
    elif profiles and profile_id not in profiles:
        raise InvalidInput(
            f"no jurisdiction {profile_id!r} is deployed (known: {', '.join(sorted(profiles))})"
        )
    found = ctx.definitions.intake_of(session, profile_id)
    if found is None:
        return profile_id, None, INTAKE_PROCESS
    return profile_id, found[0], found[1]
