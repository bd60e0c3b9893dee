"""The diagram a running phase follows: the BPMN file of its own version that defines its
process, for the case page to draw with the phase's position on it."""

from __future__ import annotations

import uuid

from lxml import etree

from engine.cases.reads import reading_case
from engine.context import EngineContext
from engine.definitions.bundle import Bundle
from engine.errors import NotFound
from engine.identity.users import Principal
from engine.storage.tables import ProcessInstance

BPMN_MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_defining: dict[tuple[str, str], str | None] = {}


def _defines(content: bytes, process_id: str) -> bool:
    # Deployed files were validated, but they are still parsed with no entity or network access.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(content, parser)
    return any(p.get("id") == process_id for p in root.iter(f"{{{BPMN_MODEL}}}process"))


def file_defining(bundle: Bundle, process_id: str) -> str | None:
    key = (bundle.content_hash, process_id)
    if key not in _defining:
        _defining[key] = next(
            (p for p, c in bundle.of_kind("bpmn").items() if _defines(c, process_id)), None
        )
    return _defining[key]


def instance_diagram(
    ctx: EngineContext,
    principal: Principal,
    case_id: uuid.UUID,
    instance_id: uuid.UUID,
    process_id: str | None = None,
) -> bytes:
    """The phase's own diagram, or (``process_id``) that of a process it calls, as the
    phase's version has it."""
    with reading_case(ctx, principal, case_id, "phase diagram") as (session, case):
        instance = session.get(ProcessInstance, instance_id)
        if instance is None or instance.case_id != case.id:
            raise NotFound(f"no phase {instance_id} in this case")
        compiled = ctx.definitions.compiled(session, instance.version_id)
        wanted = process_id or instance.process_id
        # Only a process of this version is looked for (and its file remembered).
        path = file_defining(compiled.bundle, wanted) if compiled.process(wanted) else None
        if path is None:
            raise NotFound(f"no diagram for {wanted}")
        return bytes(compiled.bundle.files[path])
