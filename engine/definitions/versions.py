"""Deployed definition versions: validation, deployment, and the in-memory spec cache.

A version is immutable and named by the hash of its files. Running instances stay on the
version they started with; new instances take the current version that has their process. The
current version is the one activated last: deploying activates a version (the same files
deployed again activate the version they already are), and a designer may activate an earlier
one again, to roll back.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.deadlines.profiles import DEFAULT_PROFILE_ID
from engine.definitions.bundle import Bundle
from engine.definitions.scenarios import scenario_problems
from engine.definitions.walkthrough import Reach, reach_of, walk_problems
from engine.errors import InvalidDefinition, NotFound, Problem
from engine.spiff.definitions import CompiledBundle, compile_bundle
from engine.spiff.dialects.camunda import Translation
from engine.storage.tables import DefinitionFile, DefinitionVersion, MessageStartRoute
from engine.storage.uow import UnitOfWork


@dataclass(frozen=True)
class Deployment:
    version_id: int
    content_hash: str
    process_ids: list[str]
    created: bool
    compiled: CompiledBundle | None = field(default=None, compare=False, repr=False)
    reactivated: bool = False  # the same files again: that version is current once more


@dataclass(frozen=True)
class Checked:
    """What validation found: the problems (none when the bundle would deploy), and how far
    its dry run reached (None when the bundle did not compile)."""

    problems: list[Problem]
    reach: Reach | None = None
    translations: list[Translation] = field(default_factory=list)  # read from other engines


def check(bundle: Bundle) -> Checked:
    """The bundle compiled, its scenarios run and every process walked."""
    try:
        compiled = checked_compile(bundle)
    except InvalidDefinition as exc:
        return Checked(exc.problems)
    return Checked(
        run_problems(bundle, compiled), reach_of(bundle, compiled), compiled.translations
    )


# Bundles compiled with every deploy-time check, by content, the last few: the same files are
# checked again and again (validate, then deploy; every new database of a test run), and the
# same files compile to the same specs (which are never changed once built).
_CHECKED: OrderedDict[str, CompiledBundle] = OrderedDict()
_CHECKED_KEPT = 8
_CHECKED_LOCK = threading.Lock()


def checked_compile(bundle: Bundle) -> CompiledBundle:
    """The bundle compiled with every check (InvalidDefinition when it does not compile)."""
    key = bundle.content_hash
    with _CHECKED_LOCK:
        if key in _CHECKED:
            _CHECKED.move_to_end(key)
            return _CHECKED[key]
    compiled = compile_bundle(bundle)
    with _CHECKED_LOCK:
        _CHECKED[key] = compiled
        while len(_CHECKED) > _CHECKED_KEPT:
            _CHECKED.popitem(last=False)
    return compiled


def validate(bundle: Bundle) -> list[Problem]:
    """Every problem of the bundle, its scenarios and dry run run; empty when it would deploy."""
    return check(bundle).problems


def run_problems(bundle: Bundle, compiled: CompiledBundle) -> list[Problem]:
    """What fails when the compiled bundle runs: its scenarios, then validation's own walk
    through every process with answers made up from the forms."""
    return scenario_problems(bundle, compiled) + walk_problems(bundle, compiled)


def _current(session: Session, *, lock: bool = False) -> DefinitionVersion | None:
    """The version activated last; with ``lock``, its row locked: of two deploys or
    activations at once, the second waits and comes after the first."""
    query = (
        select(DefinitionVersion)
        .order_by(DefinitionVersion.activated_at.desc(), DefinitionVersion.id.desc())
        .limit(1)
    )
    return session.scalar(query.with_for_update() if lock else query)


def _after(current: DefinitionVersion | None, at: datetime) -> datetime:
    """When a version becomes current: now, and after the current one's instant whatever two
    servers' clocks say."""
    if current is None:
        return at
    return max(at, current.activated_at + timedelta(microseconds=1))


def _recorded(
    before: dict[str, dict[str, Any]], version_id: int, compiled: CompiledBundle
) -> dict[str, Any]:
    """What a new version holds of each jurisdiction. One whose files it left as they were
    goes on starting its work on the version it started on before."""
    recorded = {}
    for profile_id, jurisdiction in compiled.jurisdictions.items():
        held = before.get(profile_id)
        unchanged = held is not None and held["fingerprint"] == jurisdiction.fingerprint
        recorded[profile_id] = {
            "runs": sorted(jurisdiction.runs),
            "intake": jurisdiction.intake,
            "fingerprint": jurisdiction.fingerprint,
            "starts_on": held["starts_on"] if held is not None and unchanged else version_id,
        }
    return recorded


# Compiled bundles by content: a version's files never change, so the same files compile to
# the same specs wherever they are deployed (and registries of one process share them).
_BY_CONTENT: dict[str, CompiledBundle] = {}
_BY_CONTENT_LOCK = threading.Lock()


class DefinitionRegistry:
    """Compiles each deployed version once per process and keeps it."""

    def __init__(self) -> None:
        self._compiled: dict[int, CompiledBundle] = {}
        self._lock = threading.Lock()

    def deploy(
        self,
        uow: UnitOfWork,
        bundle: Bundle,
        *,
        actor_id: str,
        actor_role: str | None,
        at: datetime,
    ) -> Deployment:
        """Validate and store a bundle in the caller's transaction.

        Raises InvalidDefinition (nothing stored) when the bundle has any problem. The same
        content deployed again returns the existing version, made current if it was not.
        """
        session = uow.session
        content_hash = bundle.content_hash
        existing = session.scalar(
            select(DefinitionVersion).where(DefinitionVersion.content_hash == content_hash)
        )
        if existing is not None:
            again = self.current_version_id(session) != existing.id
            if again:
                self.activate(uow, existing.id, actor_id=actor_id, actor_role=actor_role, at=at)
            return Deployment(
                existing.id, content_hash, list(existing.process_ids), False, reactivated=again
            )
        compiled = checked_compile(bundle)
        failed = run_problems(bundle, compiled)
        if failed:
            raise InvalidDefinition(failed)
        # Locked first: what each jurisdiction starts on is read as the deploy before left it.
        current = _current(session, lock=True)
        held_before = self._held(session)
        version = DefinitionVersion(
            content_hash=content_hash,
            process_ids=sorted(compiled.processes),
            deployed_at=at,
            deployed_by=actor_id,
            activated_at=_after(current, at),
        )
        session.add(version)
        session.flush()
        version.jurisdictions = _recorded(held_before, version.id, compiled)
        for path, content in sorted(bundle.files.items()):
            session.add(DefinitionFile(version_id=version.id, path=path, content=content))
        for message, process_ids in compiled.message_starts.items():
            for process_id in sorted(set(process_ids)):
                session.add(
                    MessageStartRoute(
                        version_id=version.id, message_name=message, process_id=process_id
                    )
                )
        uow.audit(
            at=at,
            actor_id=actor_id,
            actor_role=actor_role,
            action="definition.deployed",
            version_id=version.id,
            content_hash=content_hash,
            process_ids=version.process_ids,
        )
        uow.publish(
            "definition.deployed",
            at,
            version_id=version.id,
            content_hash=content_hash,
            processes=list(version.process_ids),
        )
        return Deployment(version.id, content_hash, list(version.process_ids), True, compiled)

    def activate(
        self,
        uow: UnitOfWork,
        version_id: int,
        *,
        actor_id: str,
        actor_role: str | None,
        at: datetime,
    ) -> DefinitionVersion:
        """Make a deployed version the current one, in the caller's transaction: new cases
        and new phases start on it; running ones stay where they are."""
        version = uow.session.get(DefinitionVersion, version_id, with_for_update=True)
        if version is None:
            raise NotFound(f"no deployed version {version_id}")
        current = _current(uow.session, lock=True)
        previous = current.id if current is not None else None
        if previous == version.id:
            return version  # current already: nothing changes, nothing to say
        version.activated_at = _after(current, at)
        # Activated by hand, it is every one of its jurisdictions' version again.
        version.jurisdictions = {
            profile_id: {**held, "starts_on": version.id}
            for profile_id, held in (version.jurisdictions or {}).items()
        }
        uow.audit(
            at=at,
            actor_id=actor_id,
            actor_role=actor_role,
            action="definition.activated",
            version_id=version.id,
            previous_version_id=previous,
            content_hash=version.content_hash,
        )
        uow.publish(
            "definition.activated",
            at,
            version_id=version.id,
            previous_version_id=previous,
            content_hash=version.content_hash,
        )
        return version

    def files_of(self, session: Session, version_id: int) -> Bundle:
        """A deployed version's files, as they were deployed."""
        files = session.scalars(
            select(DefinitionFile).where(DefinitionFile.version_id == version_id)
        ).all()
        if not files:
            raise NotFound(f"no deployed version {version_id}")
        return Bundle({f.path: bytes(f.content) for f in files})

    def current_version_id(self, session: Session) -> int | None:
        """The version activated last (None before any deployment)."""
        current = _current(session)
        return current.id if current is not None else None

    def remember(self, deployment: Deployment) -> None:
        """Cache a fresh deployment's compiled specs, once its transaction has committed."""
        if deployment.compiled is not None:
            with self._lock:
                self._compiled.setdefault(deployment.version_id, deployment.compiled)

    def compiled(self, session: Session, version_id: int) -> CompiledBundle:
        with self._lock:
            cached = self._compiled.get(version_id)
        if cached is not None:
            return cached
        content_hash = session.scalar(
            select(DefinitionVersion.content_hash).where(DefinitionVersion.id == version_id)
        )
        if content_hash is None:
            raise NotFound(f"no deployed version {version_id}")
        with _BY_CONTENT_LOCK:
            compiled = _BY_CONTENT.get(content_hash)
        if compiled is None:
            # Expressions were checked at deployment; the stored files are trusted from here.
            compiled = compile_bundle(self.files_of(session, version_id), check_expressions=False)
            with _BY_CONTENT_LOCK:
                compiled = _BY_CONTENT.setdefault(content_hash, compiled)
        with self._lock:
            self._compiled.setdefault(version_id, compiled)
            return self._compiled[version_id]

    def newest_version_of(
        self, session: Session, process_id: str, profile_id: str | None = None
    ) -> int:
        """The version new instances of this process start on: of the live versions that
        have it, the one activated last; for a case of a jurisdiction, the version that
        jurisdiction's work starts on (a deployment that left its files as they were does not
        move it)."""
        found = self._starts_on(session, profile_id, lambda processes: process_id in processes)
        if found is None:
            raise NotFound(f"no deployed process {process_id!r}")
        return found[0]

    def newest_start_route(
        self, session: Session, message: str, profile_id: str | None = None
    ) -> MessageStartRoute | None:
        """The process a message starts: in the live version activated last that routes it
        (for a case of a jurisdiction, to one of the processes it runs)."""
        routes = session.scalars(
            select(MessageStartRoute)
            .where(MessageStartRoute.message_name == message)
            .order_by(MessageStartRoute.process_id)
        ).all()
        started = {route.process_id for route in routes}
        found = self._starts_on(session, profile_id, lambda processes: bool(processes & started))
        if found is None:
            return None
        version_id, runs = found
        return next(
            (r for r in routes if r.version_id == version_id and r.process_id in runs), None
        )

    def intake_of(self, session: Session, profile_id: str) -> tuple[int, str] | None:
        """The version a jurisdiction's new cases start on, and the process they start
        (None when nothing deployed has the jurisdiction)."""
        return self.jurisdiction_intakes(session).get(profile_id)

    def jurisdiction_intakes(self, session: Session) -> dict[str, tuple[int, str]]:
        """Every jurisdiction the live versions start work for: the version its new cases
        start on and the process they start (read in one pass)."""
        found: dict[str, tuple[int, str]] = {}
        for _version_id, _processes, jurisdictions in self._live(session):
            for profile_id, held in jurisdictions.items():
                if profile_id not in found and held["intake"] in held["runs"]:
                    found[profile_id] = int(held["starts_on"]), str(held["intake"])
        return found

    def _starts_on(
        self, session: Session, profile_id: str | None, wanted: Callable[[frozenset[str]], bool]
    ) -> tuple[int, frozenset[str]] | None:
        """The live version, activated last, with a process ``wanted``, and the processes that
        may start there: for a jurisdiction, among the processes it runs, and then the version
        its work starts on. A case of casework's own default profile, or any case before
        versions recorded their jurisdictions, may start any process; one of a jurisdiction
        nothing live runs (rolled back to before it) starts nothing."""
        live = self._live(session)
        if profile_id == DEFAULT_PROFILE_ID or not any(held for _v, _ps, held in live):
            profile_id = None
        for version_id, processes, jurisdictions in live:
            if profile_id is not None and jurisdictions:
                held = jurisdictions.get(profile_id)
                runs = frozenset(held["runs"]) if held is not None else frozenset()
                if held is not None and wanted(runs):
                    return int(held["starts_on"]), runs
                continue
            if wanted(processes):
                return version_id, processes
        return None

    def _held(self, session: Session) -> dict[str, dict[str, Any]]:
        """What the live versions hold of each jurisdiction (the one activated last first)."""
        held: dict[str, dict[str, Any]] = {}
        for _id, _processes, jurisdictions in self._live(session):
            for profile_id, record in jurisdictions.items():
                held.setdefault(profile_id, record)
        return held

    @staticmethod
    def _live(session: Session) -> list[tuple[int, frozenset[str], dict[str, Any]]]:
        """Versions that still start work, the one activated last first, with what they hold
        of each jurisdiction. A version stops when one activated after it shares a process
        with it: a rollback to an earlier version withdraws the later one whole (a process it
        alone had starts no more), while bundles of unrelated processes deployed one after
        another all stay live."""
        versions = session.execute(
            select(
                DefinitionVersion.id,
                DefinitionVersion.process_ids,
                DefinitionVersion.jurisdictions,
            ).order_by(DefinitionVersion.activated_at.desc(), DefinitionVersion.id.desc())
        ).all()
        live: list[tuple[int, frozenset[str], dict[str, Any]]] = []
        covered: set[str] = set()
        for version_id, process_ids, jurisdictions in versions:
            processes = frozenset(process_ids)
            if not processes & covered:
                live.append((version_id, processes, jurisdictions or {}))
            covered |= processes
        return live

    def forget(self) -> None:
        """Drop what was compiled, as a restart would (tests prove versions reload from the
        database)."""
        with self._lock:
            self._compiled.clear()
        with _BY_CONTENT_LOCK:
            _BY_CONTENT.clear()
        with _CHECKED_LOCK:
            _CHECKED.clear()
