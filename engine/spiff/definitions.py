"""Turn a bundle of designer files into runnable process specs, or into a list of problems.

Every check happens before anything is deployed: safe XML parsing (no DTD, no entity, no
network), the BPMN/DMN XML schemas with every error reported, SpiffWorkflow's parser, every
expression compiled by the sandbox, call activities, messages, decisions and forms resolved.
Each problem names its file, element id and line, so a designer can find it.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity as CallActivityMixin
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.clock import SystemClock
from engine.deadlines.calendars import BusinessCalendar
from engine.deadlines.profiles import DEFAULT_PROFILE, Profile, parse_profile
from engine.definitions.bundle import Bundle
from engine.errors import InvalidDefinition, Problem
from engine.identity.roles import ROLES
from engine.spiff.decisions import (
    SUPPORTED_HIT_POLICIES,
    StrictDecisionEngine,
    input_cell_expression,
)
from engine.spiff.dialects.camunda import Reading, Translation, read_bpmn, read_dmn
from engine.spiff.sandbox import check_expression, objection_to
from engine.spiff.script_functions import PERIOD_HELPERS, script_functions
from engine.tasks.form_schemas import schema_problems

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# The process a report starts when the jurisdiction's profile names none (``intake``).
INTAKE_PROCESS = "intake"
# casework's own attributes on BPMN elements (the standard's extension point, anyAttribute).
CASEWORK_NS = "https://casework.example/schema/bpmn"
# On a <bpmn:message>: the roles whose holders may send it by hand (space-separated). A
# message without it cannot be sent by anyone; other systems send through their signed route.
SENDERS = f"{{{CASEWORK_NS}}}senders"
# Messages addressed to casework itself (close the case, mark it sensitive), not to a process.
HOST_MESSAGE_PREFIX = "casework."
HOST_MESSAGES = frozenset({"casework.close_case", "casework.mark_sensitive", "casework.set_status"})

# lxml validators keep per-call state on the schema object.
_XSD_LOCK = threading.Lock()
_DMN_VALIDATORS: dict[str, BpmnValidator | None] = {}


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def read_xml(content: bytes) -> etree._Element | None:
    """A designer's XML file, parsed as safely as compiling does; None if it is not XML."""
    try:
        return etree.fromstring(content, _safe_parser())
    except (etree.XMLSyntaxError, ValueError):
        return None


class CaseworkParser(SpiffBpmnParser):
    """SpiffWorkflow's parser with casework's strict decision tables."""

    def get_engine(self, decision_ref: str, node: Any) -> DMNEngine:
        engine = super().get_engine(decision_ref, node)
        decision = self.dmn_parsers[decision_ref].decision
        return StrictDecisionEngine(engine.decision_table, decision.name or decision.id)


@dataclass(frozen=True)
class ProcessDefinition:
    process_id: str
    name: str
    file: str
    spec: Any
    subprocess_specs: dict[str, Any]
    start_messages: tuple[str, ...]
    has_plain_start: bool


@dataclass(frozen=True)
class Jurisdiction:
    """What of a bundle one jurisdiction runs: its processes (those it names and those they
    call), the process a report starts, and the hash of every file they are made of (the
    profile, the diagrams, their forms, decision tables and report template). Deploying a
    change to another jurisdiction's files leaves this hash as it was."""

    runs: frozenset[str]
    intake: str
    fingerprint: str


@dataclass
class CompiledBundle:
    bundle: Bundle
    processes: dict[str, ProcessDefinition]
    forms: dict[str, dict[str, Any]]
    profiles: dict[str, Profile]
    message_starts: dict[str, list[str]] = field(default_factory=dict)
    message_senders: dict[str, frozenset[str]] = field(default_factory=dict)
    # Court report templates by path (``reports/<name>.html``); a profile names its own.
    reports: dict[str, str] = field(default_factory=dict)
    # What casework runs otherwise than the files say (another engine's constructs, read).
    translations: list[Translation] = field(default_factory=list)
    # Each profile's processes and the hash of the files they are made of, by profile id.
    jurisdictions: dict[str, Jurisdiction] = field(default_factory=dict)

    def senders(self, message: str) -> frozenset[str]:
        """The roles that may send this message by hand; none unless a diagram says so."""
        return self.message_senders.get(message, frozenset())

    def process(self, process_id: str) -> ProcessDefinition | None:
        return self.processes.get(process_id)

    def start_form(self, process_id: str) -> dict[str, Any] | None:
        """The form of the process's plain start event: the data it starts with, if any."""
        definition = self.processes.get(process_id)
        if definition is None:
            return None
        for task_spec in definition.spec.task_specs.values():
            if isinstance(task_spec, StartEvent) and task_spec.bpmn_id in self.forms:
                return self.forms[task_spec.bpmn_id]
        return None

    def roles_of(self, process_id: str) -> frozenset[str]:
        """The roles the process's user tasks are for (its lanes, and its called processes')."""
        definition = self.processes.get(process_id)
        if definition is None:
            return frozenset()
        return frozenset(
            task_spec.lane
            for spec in _all_specs(definition)
            for task_spec in spec.task_specs.values()
            if _is_user_task(task_spec) and task_spec.lane
        )

    def form(self, task_bpmn_id: str) -> dict[str, Any] | None:
        return self.forms.get(task_bpmn_id)

    def waits(self) -> tuple[set[str], set[str]]:
        """Every user task and every timer of the bundle's processes, by element id: where a
        case can stop and wait."""
        tasks: set[str] = set()
        timers: set[str] = set()
        for definition in self.processes.values():
            for spec in _all_specs(definition):
                for task_spec in spec.task_specs.values():
                    element_id = getattr(task_spec, "bpmn_id", None)
                    if not element_id:
                        continue
                    if _is_user_task(task_spec):
                        tasks.add(element_id)
                    event = getattr(task_spec, "event_definition", None)
                    if isinstance(event, TimerEventDefinition):
                        timers.add(element_id)
        return tasks, timers

    def runs(self, profile_id: str, process_id: str) -> bool:
        """Whether a jurisdiction's cases run this process (its own, a shared one, or one they
        call); every process for a jurisdiction the bundle does not have."""
        held = self.jurisdictions.get(profile_id)
        if held is None:  # casework's default profile, or a bundle that names no jurisdiction
            return profile_id == DEFAULT_PROFILE.id or not self.jurisdictions
        return process_id in held.runs

    def profile(self, profile_id: str) -> Profile | None:
        if profile_id == DEFAULT_PROFILE.id:
            return self.profiles.get(profile_id, DEFAULT_PROFILE)
        return self.profiles.get(profile_id)


class _Locations:
    """Where each element id stands: file and line."""

    def __init__(self) -> None:
        self._by_id: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
        self._flows: dict[tuple[str, str], str] = {}

    def index(self, path: str, root: etree._Element) -> None:
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            element_id = element.get("id")
            if element_id:
                self._by_id[element_id].append((path, _line(element)))
            if (
                element.tag == f"{{{BPMN_NS}}}sequenceFlow"
                and element_id
                and element.find(f"{{{BPMN_NS}}}conditionExpression") is not None
            ):
                self._flows[(element.get("sourceRef", ""), element.get("targetRef", ""))] = (
                    element_id
                )

    def flow(self, source: str | None, target: str | None) -> str | None:
        """The id of the conditional sequence flow between two elements, where there is one."""
        return self._flows.get((source or "", target or ""))

    def find(
        self, element_id: str | None, prefer_file: str | None = None
    ) -> tuple[str, int | None]:
        places = self._by_id.get(element_id or "", [])
        for path, line in places:
            if path == prefer_file:
                return path, line
        if places:
            return places[0]
        return prefer_file or "-", None

    def problem(self, message: str, element_id: str | None, file: str | None = None) -> Problem:
        path, line = self.find(element_id, file)
        return Problem(path, message, line, element_id or None)


def compile_bundle(bundle: Bundle, *, check_expressions: bool = True) -> CompiledBundle:
    """Parse and check a bundle. Raises InvalidDefinition listing every problem found."""
    problems: list[Problem] = []
    locations = _Locations()
    parser = CaseworkParser(validator=None)
    senders: dict[str, frozenset[str]] = {}
    unrouted: set[str] = set()
    # Other engines' constructs, read as casework runs them (engine.spiff.dialects).
    reading = Reading()
    profiles = _load_profiles(bundle, problems)
    role_names = _role_names(bundle, profiles, problems)

    decisions_called: dict[str, set[str]] = {}  # BPMN file → the decision ids it calls
    decision_files: dict[str, str] = {}  # decision id → its DMN file
    for path, content in bundle.of_kind("bpmn").items():
        root = _parse_xml(path, content, problems)
        if root is None:
            continue
        if root.tag != f"{{{BPMN_NS}}}definitions":
            problems.append(Problem(path, f"not a BPMN file: the root element is {root.tag}", 1))
            continue
        locations.index(path, root)
        if _schema_problems(path, root, VALIDATOR, problems):
            continue
        if _unsupported_elements(path, root, problems):
            continue
        _merge(reading, read_bpmn(path, root, role_names))
        decisions_called[path] = {
            (called.text or "").strip() for called in root.iter(f"{{{SPIFF_NS}}}calledDecisionId")
        }
        _read_senders(path, root, senders, problems)
        unrouted |= _unroutable_messages(path, root, problems)
        _guarded(
            problems,
            locations,
            path,
            lambda r=root, p=path: parser.add_bpmn_xml(r.getroottree(), filename=p),
        )

    for path, content in bundle.of_kind("dmn").items():
        root = _parse_xml(path, content, problems)
        if root is None:
            continue
        namespace = _dmn_namespace(root)
        if namespace is None:
            problems.append(Problem(path, f"not a DMN file: the root element is {root.tag}", 1))
            continue
        locations.index(path, root)
        validator = _dmn_validator(namespace)
        if validator is not None and _schema_problems(path, root, validator, problems):
            continue
        if _unsupported_decisions(path, root, namespace, problems):
            continue
        _merge(reading, read_dmn(path, root, namespace))
        for decision in root.iter(f"{{{namespace}}}decision"):
            decision_files.setdefault(decision.get("id") or "", path)
        _guarded(
            problems, locations, path, lambda r=root, p=path: parser.add_dmn_xml(r, filename=p)
        )

    problems.extend(reading.problems)
    processes = _build_processes(parser, locations, problems)
    forms = _load_forms(bundle, processes, problems, reading, locations)
    reports = _load_reports(bundle, profiles, problems)
    # Whatever parsed is checked further, so one run reports as much as it can.
    if check_expressions:  # deploy-time rules: a stored version is reloaded without them
        _check_roles(processes, locations, problems)
        _check_decision_tables(parser, locations, problems)
        for definition in processes.values():
            for spec in _all_specs(definition):
                _check_spec(spec, definition.file, locations, problems)
    _check_messages(processes, locations, problems, unrouted)
    _check_call_cycles(processes, locations, problems)
    _check_deadline_timers(bundle, processes, profiles, problems)
    _check_jurisdictions(bundle, processes, profiles, locations, problems)
    if not processes and not problems:
        problems.extend(
            Problem(path, 'no executable process (isExecutable="true") in this file')
            for path in bundle.of_kind("bpmn")
        )
        problems.extend(
            Problem(
                path,
                "a decision table alone is not a process; deploy it with the diagrams that call it",
            )
            for path in bundle.of_kind("dmn")
        )
    if problems:
        raise InvalidDefinition(_unique(problems))
    compiled = CompiledBundle(
        bundle,
        processes,
        forms,
        profiles,
        message_senders=senders,
        reports=reports,
        translations=reading.translations,
    )
    for definition in processes.values():
        for name in definition.start_messages:
            compiled.message_starts.setdefault(name, []).append(definition.process_id)
    for path, profile in _profile_paths(bundle, profiles):
        runs = runs_of(compiled, profile)
        files = {path, *(processes[p].file for p in runs)}
        elements = {e for p in runs for e in _element_ids(processes[p])}
        files |= {
            decision_files[d]
            for f in list(files)
            for d in decisions_called.get(f, ())
            if d in decision_files
        }
        files.add(str(profile.data.get("court_report", "")))
        # The forms its tasks show, as read (whatever file or key each came from).
        shown = json.dumps({e: forms[e] for e in sorted(elements) if e in forms}, sort_keys=True)
        compiled.jurisdictions[profile.id] = Jurisdiction(
            frozenset(runs),
            profile.intake or INTAKE_PROCESS,
            hashlib.sha256(
                bundle.hash_of(f for f in files if f in bundle.files).encode() + shown.encode()
            ).hexdigest(),
        )
    return compiled


def _element_ids(definition: ProcessDefinition) -> set[str]:
    return {
        task_spec.bpmn_id
        for spec in _all_specs(definition)
        for task_spec in spec.task_specs.values()
        if getattr(task_spec, "bpmn_id", None)
    }


def _line(element: etree._Element) -> int | None:
    """Where an element starts in its file (lxml knows it for parsed elements)."""
    line = element.sourceline
    return line if isinstance(line, int) else None


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: dict[Problem, None] = {}
    for problem in problems:
        seen.setdefault(problem, None)
    return list(seen)


def _parse_xml(path: str, content: bytes, problems: list[Problem]) -> etree._Element | None:
    try:
        root = etree.fromstring(content, _safe_parser())
    except etree.XMLSyntaxError as exc:
        problems.append(Problem(path, f"not well-formed XML: {exc.msg}", exc.lineno or None))
        return None
    except (ValueError, etree.LxmlError) as exc:
        problems.append(Problem(path, f"not readable as XML: {exc}"))
        return None
    if root is None:
        problems.append(Problem(path, "empty document"))
        return None
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None or docinfo.externalDTD:
        problems.append(
            Problem(path, "DOCTYPE declarations are not allowed (entities are never expanded)", 1)
        )
        return None
    return root


def _dmn_namespace(root: etree._Element) -> str | None:
    if not isinstance(root.tag, str) or not root.tag.endswith("}definitions"):
        return None
    namespace = root.tag[1:].split("}")[0]
    return namespace if namespace in DMN_SCHEMAS else None


def _dmn_validator(namespace: str) -> BpmnValidator | None:
    """The XML schema of a DMN version, or None where the shipped schema cannot be loaded
    (the DMN 1.2 one misses its DI part); such files are still parsed and checked."""
    if namespace not in _DMN_VALIDATORS:
        try:
            _DMN_VALIDATORS[namespace] = BpmnValidator(DMN_SCHEMAS[namespace])
        except etree.LxmlError:
            _DMN_VALIDATORS[namespace] = None
    return _DMN_VALIDATORS[namespace]


def _schema_problems(
    path: str, root: etree._Element, validator: BpmnValidator, problems: list[Problem]
) -> bool:
    """Validate against the XML schema, reporting every error, not just the first."""
    with _XSD_LOCK:
        validator.preprocess(root)
        valid = validator.validator.validate(root)
        errors = list(validator.validator.error_log)
    if valid:
        return False
    for error in errors:
        problems.append(Problem(path, f"schema: {error.message}", error.line or None))
    return True


def _guarded(problems: list[Problem], locations: _Locations, path: str, action: Any) -> Any:
    """Run a parser step; turn any failure, even a parser crash, into a problem."""
    try:
        return action()
    except ValidationException as exc:
        problems.append(_from_validation(exc, locations, path))
    except SpiffWorkflowException as exc:
        problems.append(Problem(path, _message(exc)))
    except RecursionError:
        problems.append(Problem(path, "the diagram nests too deeply to parse"))
    except Exception as exc:
        problems.append(Problem(path, f"the parser failed: {type(exc).__name__}: {exc}"))
    return None


_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>")


def _message(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    return _in_our_words(" ".join(_ELEMENT_REPR.sub(r"<\1>", text).split()))


# The engine library's wording, said as casework explains it: what is wrong, what casework
# supports, what to do instead.
_OUR_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), said)
    for pattern, said in (
        (
            r"^A Service Task must have an operator",
            "service tasks are not supported: casework reaches other systems through messages "
            "and webhooks, never from inside a process",
        ),
        (
            r"^Non-default exclusive outgoing sequence flow without condition",
            "a flow leaving an exclusive gateway needs a condition (e.g. approved == True), "
            "unless it is the gateway's default flow",
        ),
        (
            r"^No DMN Diagram available with id (\S+?),? Available DMN ids are:\s*(.*)$",
            r"the business rule task calls decision \1, which no .dmn file of the bundle has "
            r"(the bundle's decisions: \2)",
        ),
        (
            r"^A multiinstance task must specify a cardinality or a loop input data reference",
            "a task done for each of several needs what it repeats over: a collection of the "
            "process data (its loop input, e.g. children) or a number (its cardinality)",
        ),
        (
            r"^The process (\S+) was not found\. Did you mean one of the following: (.*?)\??$",
            r"the call activity calls process \1, which is not in the bundle (its processes: \2)",
        ),
        (
            r"^Exactly one start event is required in a SubWorkflow Task; found (\d+)",
            r"a sub-process needs exactly one plain start event; it has \1",
        ),
        (
            r"^No start event found",
            "the process has no start event: add a plain one, or a message start event for a "
            "phase another process starts",
        ),
        (
            r"^Cancel Events may only be used with transactions",
            "a cancel event belongs in a transaction, which casework does not run: end with an "
            "error or a message instead",
        ),
    )
)


def _in_our_words(text: str) -> str:
    for pattern, said in _OUR_WORDS:
        if pattern.search(text):
            return pattern.sub(said, text, count=1)
    return text


def _merge(into: Reading, reading: Reading) -> None:
    into.translations.extend(reading.translations)
    into.problems.extend(reading.problems)
    into.forms.update(reading.forms)
    into.form_keys.update(reading.form_keys)


def _unsupported_elements(path: str, root: etree._Element, problems: list[Problem]) -> bool:
    """Elements casework refuses on principle, reported with their id and line."""
    found = False
    for element in root.iter(f"{{{BPMN_NS}}}dataStore"):
        problems.append(
            Problem(
                path,
                "data stores are not supported: process data lives in task data and case records",
                _line(element),
                element.get("id"),
            )
        )
        found = True
    return found


# DMN's other ways of deciding, each said in a designer's words: casework runs decision tables.
_OTHER_DECISION_LOGIC = {
    "literalExpression": "a literal (FEEL) expression",
    "context": "a boxed context",
    "invocation": "an invocation of a business knowledge model",
    "relation": "a relation",
    "list": "a list",
    "functionDefinition": "a function definition",
}
_UNRUN_DMN = {
    "decisionService": "a decision service",
    "businessKnowledgeModel": "a business knowledge model",
}


def _unsupported_decisions(
    path: str, root: etree._Element, namespace: str, problems: list[Problem]
) -> bool:
    """Decisions casework cannot run, reported with their id and line instead of the parser
    failing on them: each decision must be a decision table."""
    found = False
    for local, what in _UNRUN_DMN.items():
        for element in root.iter(f"{{{namespace}}}{local}"):
            problems.append(
                Problem(
                    path,
                    f"{what} ({element.get('name') or element.get('id')}) is not run by "
                    "casework: write the logic as a decision table in a decision of its own",
                    _line(element),
                    element.get("id"),
                )
            )
            found = True
    for decision in root.iter(f"{{{namespace}}}decision"):
        for required in decision.iter(f"{{{namespace}}}requiredDecision"):
            problems.append(
                Problem(
                    path,
                    f"decision {decision.get('name') or decision.get('id')!r} requires another "
                    f"decision ({required.get('href', '').lstrip('#')}): casework runs each "
                    "decision table on its own; call each from a business rule task of its "
                    "own, in order, the first one's outputs being the next one's inputs",
                    _line(required),
                    decision.get("id"),
                )
            )
            found = True
        if decision.find(f"{{{namespace}}}decisionTable") is not None:
            continue
        logic = next(
            (
                said
                for local, said in _OTHER_DECISION_LOGIC.items()
                if decision.find(f"{{{namespace}}}{local}") is not None
            ),
            "no decision logic",
        )
        problems.append(
            Problem(
                path,
                f"decision {decision.get('name') or decision.get('id')!r} holds {logic}; "
                "casework runs decision tables only: write it as a decision table (one "
                "output column, with a rule per case)",
                _line(decision),
                decision.get("id"),
            )
        )
        found = True
    return found


# Events that send a message: one naming none would send it under the event's own name. (A
# catching event naming none waits under its name, as SpiffWorkflow reads it.)
_THROWS = {f"{{{BPMN_NS}}}intermediateThrowEvent", f"{{{BPMN_NS}}}endEvent"}


def _unroutable_messages(path: str, root: etree._Element, problems: list[Problem]) -> set[str]:
    """Messages travel by name: a message without one, or an event sending a message it does
    not name, is a problem of its own; the events' ids are returned, so nothing else is said
    of them."""
    unrouted: set[str] = set()
    nameless: set[str] = set()
    for element in root.iter(f"{{{BPMN_NS}}}message"):
        if not (element.get("name") or "").strip():
            nameless.add(element.get("id") or "")
            problems.append(
                Problem(
                    path,
                    f"message {element.get('id')!r} has no name: processes send and catch "
                    "messages by name, so give it one",
                    _line(element),
                    element.get("id"),
                )
            )
    for definition in root.iter(f"{{{BPMN_NS}}}messageEventDefinition"):
        event = definition.getparent()
        event_id = (event.get("id") if event is not None else definition.get("id")) or ""
        if definition.get("messageRef") in nameless:
            unrouted.add(event_id)
        elif not definition.get("messageRef") and event is not None and event.tag in _THROWS:
            unrouted.add(event_id)
            problems.append(
                Problem(
                    path,
                    "a message event names no message: choose the message it sends or waits "
                    "for (its messageRef)",
                    _line(event if event is not None else definition),
                    event_id,
                )
            )
    return unrouted


def _from_validation(exc: ValidationException, locations: _Locations, path: str) -> Problem:
    element_id = exc.id or None
    file = exc.file_name or path
    found_file, line = locations.find(element_id, file)
    if isinstance(exc.line_number, int) and exc.line_number:
        line = exc.line_number
    return Problem(found_file if element_id else file, _message(exc), line, element_id)


def _build_processes(
    parser: CaseworkParser, locations: _Locations, problems: list[Problem]
) -> dict[str, ProcessDefinition]:
    processes: dict[str, ProcessDefinition] = {}
    for process_id in _guarded(problems, locations, "-", parser.get_process_ids) or []:
        process_parser = parser.get_process_parser(process_id)
        file = getattr(process_parser, "filename", None) or "-"

        def build(pid: str = process_id) -> tuple[Any, dict[str, Any]]:
            return parser.get_spec(pid), parser.get_subprocess_specs(pid)

        built = _guarded(problems, locations, file, build)
        if built is None:
            continue
        spec, subprocess_specs = built
        start_messages, plain = _start_events(spec)
        processes[process_id] = ProcessDefinition(
            process_id,
            spec.description or process_id,
            file,
            spec,
            subprocess_specs,
            tuple(start_messages),
            plain,
        )
    return processes


def _start_events(spec: Any) -> tuple[list[str], bool]:
    messages: list[str] = []
    plain = False
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, StartEvent):
            definition = task_spec.event_definition
            found = list(_messages_of(definition))
            messages.extend(found)
            if type(definition).__name__ == "NoneEventDefinition":
                plain = True
    return messages, plain


def _all_specs(definition: ProcessDefinition) -> Iterator[Any]:
    yield definition.spec
    yield from (s for s in definition.subprocess_specs.values() if s is not None)


def _check_spec(spec: Any, file: str, locations: _Locations, problems: list[Problem]) -> None:
    for task_spec in spec.task_specs.values():
        element_id = getattr(task_spec, "bpmn_id", None)
        for kind, source, mode, target in _expressions(task_spec):
            if source is None or not str(source).strip():
                continue
            checked_as = (
                "timer"
                if kind == "timer expression"
                else "script"
                if mode == "exec"
                else "expression"
            )
            said = objection_to(checked_as, str(source), helper_names())
            objections = [said] if said else []
            # A gateway's condition belongs to its outgoing flow: point the designer there.
            where = locations.flow(element_id, target) if target else None
            for objection in objections:
                problems.append(
                    locations.problem(f"{kind}: {objection}", where or element_id, file)
                )
        if isinstance(task_spec, ServiceTask):
            problems.append(
                locations.problem(
                    "service tasks are not supported: casework reaches other systems through "
                    "messages and webhooks, never from inside a process",
                    element_id,
                    file,
                )
            )


@cache
def helper_names() -> frozenset[str]:
    """The helpers every script may call (which do not depend on the jurisdiction's calendar)."""
    return frozenset(script_functions(BusinessCalendar("UTC"), SystemClock()))


Expression = tuple[str, str | None, str, str | None]


def _expressions(task_spec: TaskSpec) -> Iterator[Expression]:
    """Every expression a task spec carries: (what it is, source, eval or exec, and for a
    gateway condition the element its flow leads to)."""
    yield "script", getattr(task_spec, "script", None), "exec", None
    yield "pre-script", getattr(task_spec, "prescript", None), "exec", None
    yield "post-script", getattr(task_spec, "postscript", None), "exec", None
    for condition, target in getattr(task_spec, "cond_task_specs", []) or []:
        args = getattr(condition, "args", None)
        if args:
            target_spec = task_spec._wf_spec.task_specs.get(target)
            yield "condition", args[0], "eval", getattr(target_spec, "bpmn_id", None)
    if isinstance(task_spec, MultiInstanceTask):
        yield "multi-instance cardinality", getattr(task_spec, "cardinality", None), "eval", None
        yield "completion condition", getattr(task_spec, "condition", None), "eval", None
    elif isinstance(getattr(task_spec, "condition", None), str):
        yield "loop condition", task_spec.condition, "eval", None
    yield from _event_expressions(getattr(task_spec, "event_definition", None))


def _event_expressions(definition: Any) -> Iterator[Expression]:
    if definition is None:
        return
    if isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            yield from _event_expressions(inner)
    elif isinstance(definition, TimerEventDefinition):
        yield "timer expression", definition.expression, "eval", None
    elif isinstance(definition, ConditionalEventDefinition):
        yield "event condition", definition.expression, "eval", None
    else:
        yield "payload expression", getattr(definition, "expression", None), "eval", None
        for prop in getattr(definition, "correlation_properties", None) or []:
            source = getattr(prop, "retrieval_expression", None)
            yield "correlation expression", source, "eval", None


def _check_decision_tables(
    parser: CaseworkParser, locations: _Locations, problems: list[Problem]
) -> None:
    for decision_id, dmn_parser in parser.dmn_parsers.items():
        file = dmn_parser.filename or "-"
        decision = _guarded(
            problems, locations, file, lambda p=dmn_parser: (p.parse(), p.decision)[1]
        )
        if decision is None:
            continue
        if not decision.decisionTables:
            problems.append(locations.problem("decision has no decision table", decision_id, file))
            continue
        table = decision.decisionTables[0]
        if table.hit_policy not in SUPPORTED_HIT_POLICIES:
            problems.append(
                locations.problem(
                    f"hit policy {table.hit_policy} is not supported; use UNIQUE, FIRST or COLLECT "
                    "(the engine would silently treat it as FIRST)",
                    table.id,
                    file,
                )
            )
        for item in table.inputs:
            # Without an expression the engine falls back to the input's label.
            if not (item.expression or item.label):
                problems.append(locations.problem("input has no expression", item.id, file))
                continue
            for objection in check_expression(item.expression or item.label):
                problems.append(locations.problem(f"input expression: {objection}", item.id, file))
        for rule in table.rules:
            for entry in rule.inputEntries:
                for cell in entry.lhs:
                    if cell is None or not cell.strip() or cell.strip() == "-":
                        continue
                    source = input_cell_expression(
                        entry.input.expression or entry.input.label or "", cell
                    )
                    for objection in check_expression(source):
                        problems.append(
                            locations.problem(
                                f"rule {rule.row_number} input cell {cell!r}: {objection}",
                                entry.id,
                                file,
                            )
                        )
            for entry in rule.outputEntries:
                if entry.text and entry.text.strip():
                    for objection in check_expression(entry.text):
                        problems.append(
                            locations.problem(
                                f"rule {rule.row_number} output cell {entry.text!r}: {objection}",
                                entry.id,
                                file,
                            )
                        )


def _check_messages(
    processes: dict[str, ProcessDefinition],
    locations: _Locations,
    problems: list[Problem],
    unrouted: set[str],
) -> None:
    thrown: dict[str, list[tuple[str, str]]] = defaultdict(list)
    caught: set[str] = set()
    for definition in processes.values():
        for spec in _all_specs(definition):
            for task_spec in spec.task_specs.values():
                if task_spec.bpmn_id in unrouted:
                    continue  # said already: the event names no message that has a name
                for message in _messages_of(getattr(task_spec, "event_definition", None)):
                    if isinstance(task_spec, ThrowingEvent):
                        thrown[message].append((task_spec.bpmn_id, definition.file))
                    elif isinstance(task_spec, CatchingEvent):
                        caught.add(message)
    for message, places in thrown.items():
        if message.startswith(HOST_MESSAGE_PREFIX):
            if message not in HOST_MESSAGES:
                for element_id, file in places:
                    known = ", ".join(sorted(HOST_MESSAGES))
                    problems.append(
                        locations.problem(
                            f"{message!r} is not a casework command (known: {known})",
                            element_id,
                            file,
                        )
                    )
            continue
        if message not in caught:
            for element_id, file in places:
                problems.append(
                    locations.problem(
                        f"message {message!r} is thrown but no process in the bundle catches it",
                        element_id,
                        file,
                    )
                )


def _read_senders(
    path: str, root: etree._Element, senders: dict[str, frozenset[str]], problems: list[Problem]
) -> None:
    """Who may send each message by hand, as the diagrams declare it: known roles only, and
    one answer per message name across the bundle."""
    for message in root.iter(f"{{{BPMN_NS}}}message"):
        declared = message.get(SENDERS)
        if declared is None:
            continue
        name = message.get("name") or ""
        roles = frozenset(declared.replace(",", " ").split())
        unknown = sorted(roles - set(ROLES))
        if unknown:
            refusal = f"names unknown roles {unknown} (known: {', '.join(ROLES)})"
        elif name.startswith(HOST_MESSAGE_PREFIX):
            refusal = "is casework's own command, which nobody sends by hand"
        elif name in senders and senders[name] != roles:
            refusal = f"differs from another file's ({' '.join(sorted(senders[name]))})"
        else:
            senders[name] = roles
            continue
        problems.append(
            Problem(
                path,
                f"message {name!r}: casework:senders {refusal}",
                _line(message),
                message.get("id"),
            )
        )


def _check_call_cycles(
    processes: dict[str, ProcessDefinition], locations: _Locations, problems: list[Problem]
) -> None:
    """A process that calls itself, directly or through others, would recurse until stopped."""
    specs: dict[str, Any] = {}
    for definition in processes.values():
        specs[definition.process_id] = definition.spec
        specs.update({k: v for k, v in definition.subprocess_specs.items() if v is not None})
    calls = {
        name: [
            (task_spec.bpmn_id, task_spec.spec)
            for task_spec in spec.task_specs.values()
            if isinstance(task_spec, CallActivityMixin)
        ]
        for name, spec in specs.items()
    }
    reported: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        for element_id, called in calls.get(name, []):
            if called in path:
                if element_id not in reported:
                    reported.add(element_id)
                    cycle = " -> ".join([*path[path.index(called) :], called])
                    problems.append(
                        locations.problem(f"call activities form a cycle: {cycle}", element_id)
                    )
                continue
            visit(called, [*path, called])

    for name in calls:
        visit(name, [name])


def _check_deadline_timers(
    bundle: Bundle,
    processes: dict[str, ProcessDefinition],
    profiles: dict[str, Profile],
    problems: list[Problem],
) -> None:
    """Every deadline a profile configures must name a timer event of the bundle."""
    if not profiles:
        return
    timers = {
        task_spec.bpmn_id
        for definition in processes.values()
        for spec in _all_specs(definition)
        for task_spec in spec.task_specs.values()
        if isinstance(getattr(task_spec, "event_definition", None), TimerEventDefinition)
    }
    paths = {p.id: path for path, p in _profile_paths(bundle, profiles)}
    for profile in profiles.values():
        for rule in profile.deadlines:
            if rule.timer not in timers:
                problems.append(
                    Problem(
                        paths.get(profile.id, "-"),
                        f"deadlines/{rule.id}: no timer event {rule.timer!r} in the bundle",
                    )
                )


def _role_names(
    bundle: Bundle, profiles: dict[str, Profile], problems: list[Problem]
) -> dict[str, str]:
    """The jurisdictions' names for casework's roles (social_worker → ongoing_caseworker): a
    lane so named is for that role. Two profiles may not give one name two meanings."""
    names: dict[str, str] = {}
    paths = {p.id: path for path, p in _profile_paths(bundle, profiles)}
    for profile in profiles.values():
        for name, _title, role in profile.roles:
            where = paths.get(profile.id, "-")
            if role not in ROLES:
                problems.append(
                    Problem(
                        where,
                        f"roles/{name}: {role!r} is no role casework knows ({', '.join(ROLES)})",
                    )
                )
            elif names.setdefault(name, role) != role:
                problems.append(
                    Problem(where, f"roles/{name}: another profile makes it {names[name]!r}")
                )
    return names


def periods_named(source: str) -> tuple[list[str], bool]:
    """The deadline ids an expression reads a period by (``due_after("U03", start)``), and whether
    it names one otherwise than as written text (which validation cannot check)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [], False
    named: list[str] = []
    unnamed = False
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in PERIOD_HELPERS
        ):
            continue
        ids = _written_ids(node.args[0]) if node.args else None
        if ids is None:
            unnamed = True
        else:
            named += ids
    return named, unnamed


def _written_ids(node: ast.expr) -> list[str] | None:
    """The text an argument is, or either text a condition picks (``"T38-on-request" if
    asked else "T38"``); None when it is computed otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _written_ids(node.body), _written_ids(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _periods_read(
    definition: ProcessDefinition, locations: _Locations, problems: list[Problem]
) -> dict[str, str]:
    """The statutory periods a process reads (deadline id → the element that reads it)."""
    found: dict[str, str] = {}
    for spec in _all_specs(definition):
        for task_spec in spec.task_specs.values():
            element_id = getattr(task_spec, "bpmn_id", None) or "-"
            for kind, source, _mode, _target in _expressions(task_spec):
                if source is None:
                    continue
                named, unnamed = periods_named(str(source))
                for deadline_id in named:
                    found.setdefault(deadline_id, element_id)
                if unnamed:
                    problems.append(
                        locations.problem(
                            f"{kind}: name the period by its deadline id, as text "
                            '(due_after("U03", start)), so validation can check that every '
                            "profile has it",
                            element_id,
                            definition.file,
                        )
                    )
    return found


def _called(processes: dict[str, ProcessDefinition], roots: Iterator[str]) -> set[str]:
    """The processes given and every process they call, however deep."""
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        process_id = pending.pop()
        definition = processes.get(process_id)
        if process_id in seen or definition is None:
            continue
        seen.add(process_id)
        for spec in _all_specs(definition):
            for task_spec in spec.task_specs.values():
                if isinstance(task_spec, CallActivityMixin):
                    pending.append(task_spec.spec)
    return seen


def runs_of(compiled: CompiledBundle, profile: Profile) -> set[str]:
    """The processes a jurisdiction runs: its own, the shared ones, and what they call."""
    own = jurisdiction_processes(compiled.processes, profile, compiled.profiles)
    return _called(compiled.processes, iter(own))


def jurisdiction_processes(
    processes: dict[str, ProcessDefinition], profile: Profile, profiles: dict[str, Profile]
) -> list[str]:
    """The processes a profile names as its own, and those no profile names (shared by every
    jurisdiction); all of them when it names none."""
    claimed = {p for other in profiles.values() for p in other.processes or ()}
    return sorted(p for p in processes if profile.owns(p) or p not in claimed)


def _check_jurisdictions(
    bundle: Bundle,
    processes: dict[str, ProcessDefinition],
    profiles: dict[str, Profile],
    locations: _Locations,
    problems: list[Problem],
) -> None:
    """Each profile's processes exist, and it has every statutory period they read."""
    paths = {p.id: path for path, p in _profile_paths(bundle, profiles)}
    reads = {pid: _periods_read(d, locations, problems) for pid, d in processes.items()}
    if len(profiles) < len(bundle.of_kind("profile")):
        return  # a profile that did not read is problem enough: its periods are unknown
    defaults = sorted(p.id for p in profiles.values() if p.default)
    if len(defaults) > 1:
        problems.append(
            Problem(
                paths.get(defaults[1], "-"),
                f"default: {', '.join(defaults)} all say they "
                "are the default jurisdiction; one at most may",
            )
        )
    for profile in profiles.values() or [DEFAULT_PROFILE]:
        where = paths.get(profile.id, "-")
        for process_id in profile.processes or ():
            if process_id not in processes:
                problems.append(
                    Problem(where, f"processes: no process {process_id!r} in the bundle")
                )
        if profile.intake is not None and (
            profile.intake not in processes
            or profile.intake not in jurisdiction_processes(processes, profile, profiles)
        ):
            problems.append(
                Problem(where, f"intake: {profile.intake!r} is not one of the profile's processes")
            )
        runs = _called(processes, iter(jurisdiction_processes(processes, profile, profiles)))
        have = profile.period_by_id
        for process_id in sorted(runs):
            for deadline_id, element_id in sorted(reads[process_id].items()):
                if deadline_id in have:
                    continue
                file = processes[process_id].file
                if profile is DEFAULT_PROFILE:
                    problems.append(
                        locations.problem(
                            f"reads the period {deadline_id!r}, and the bundle has no "
                            "jurisdiction profile to give it (profiles/<id>.json, periods)",
                            element_id,
                            file,
                        )
                    )
                else:
                    problems.append(
                        Problem(
                            where,
                            f"periods: no {deadline_id!r}, which {file} ({element_id}) reads "
                            f"for process {process_id!r}",
                        )
                    )


def _profile_paths(bundle: Bundle, profiles: dict[str, Profile]) -> Iterator[tuple[str, Profile]]:
    for path, content in bundle.of_kind("profile").items():
        profile, _ = parse_profile(path, content)
        if profile is not None and profile.id in profiles:
            yield path, profile


def _messages_of(definition: Any) -> Iterator[str]:
    if isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            yield from _messages_of(inner)
    elif isinstance(definition, MessageEventDefinition) and definition.name:
        yield definition.name


def _load_forms(
    bundle: Bundle,
    processes: dict[str, ProcessDefinition],
    problems: list[Problem],
    reading: Reading,
    locations: _Locations,
) -> dict[str, dict[str, Any]]:
    """Each user task's form: the file named for it, else the fields its diagram declares
    (``formData``), else the file its ``formKey`` names."""
    user_tasks = _user_tasks(processes) | _plain_starts(processes)
    keyed = {_form_path(key): task for task, key in reading.form_keys.items()}
    files: dict[str, dict[str, Any]] = {}
    forms: dict[str, dict[str, Any]] = {}
    for path, content in bundle.of_kind("form").items():
        task_id = path.rsplit("/", 1)[-1].removesuffix(".schema.json")
        schema, objections = schema_problems(content)
        problems.extend(Problem(path, objection, None, task_id) for objection in objections)
        if schema is None:
            continue
        files[path] = schema
        if processes and task_id not in user_tasks and path not in keyed:
            problems.append(Problem(path, f"no user task {task_id!r} in the bundle", None, task_id))
            continue
        if task_id in user_tasks:
            forms[task_id] = schema
    for task_id, schema in reading.forms.items():
        if task_id in forms:
            problems.append(
                Problem(
                    f"forms/{task_id}.schema.json",
                    f"user task {task_id!r} has both this form and formData fields in its "
                    "diagram: keep one",
                    None,
                    task_id,
                )
            )
            continue
        _, objections = schema_problems(json.dumps(schema).encode())
        problems.extend(locations.problem(objection, task_id) for objection in objections)
        forms[task_id] = schema
    for task_id, key in reading.form_keys.items():
        if task_id in forms:
            continue
        named = files.get(_form_path(key))
        if named is None:
            problems.append(
                locations.problem(
                    f"formKey {key!r} names a form casework cannot show: give {task_id!r} a "
                    f"JSON Schema form (forms/{task_id}.schema.json) or formData fields",
                    task_id,
                )
            )
            continue
        forms[task_id] = named
    return forms


def _is_user_task(task_spec: Any) -> bool:
    """A task a person completes (a user task, or a manual one)."""
    return isinstance(task_spec, UserTask) or bool(getattr(task_spec, "manual", False))


def _user_tasks(processes: dict[str, ProcessDefinition]) -> dict[str, str]:
    """Every user task's id, with the file of the process that holds it."""
    return {
        task_spec.bpmn_id: definition.file
        for definition in processes.values()
        for spec in _all_specs(definition)
        for task_spec in spec.task_specs.values()
        if _is_user_task(task_spec)
    }


def _plain_starts(processes: dict[str, ProcessDefinition]) -> dict[str, str]:
    """Every plain start event's id: a form of its own says what data the process starts
    with (given by whoever starts it by hand)."""
    return {
        task_spec.bpmn_id: definition.file
        for definition in processes.values()
        for task_spec in definition.spec.task_specs.values()
        if isinstance(task_spec, StartEvent)
        and type(task_spec.event_definition).__name__ == "NoneEventDefinition"
    }


# How Camunda names a form deployed with the diagrams: a prefix, then the path.
_FORM_KEY_PREFIXES = (
    "camunda-forms:deployment:",
    "camunda-forms:app:",
    "embedded:deployment:",
    "embedded:app:",
    "deployment:",
    "app:",
)


def _form_path(key: str) -> str:
    for prefix in _FORM_KEY_PREFIXES:
        if key.startswith(prefix):
            return key.removeprefix(prefix)
    return key


def _check_roles(
    processes: dict[str, ProcessDefinition], locations: _Locations, problems: list[Problem]
) -> None:
    """Every user task is for a role someone holds: its lane (or candidate group) names one."""
    known = ", ".join(ROLES)
    for definition in processes.values():
        for spec in _all_specs(definition):
            for task_spec in spec.task_specs.values():
                if not _is_user_task(task_spec):
                    continue
                element_id = task_spec.bpmn_id
                lane = task_spec.lane
                if not lane:
                    message = (
                        f"user task {task_spec.bpmn_name or element_id!r} is in no lane and names "
                        "no candidate group: no one could take it; put it in a lane named for "
                        f"the role that does it ({known})"
                    )
                elif lane not in ROLES:
                    message = (
                        f"user task {task_spec.bpmn_name or element_id!r} is for {lane!r}, which "
                        f"is no role casework knows: name its lane or candidate group for one of "
                        f"{known}"
                    )
                else:
                    continue
                problems.append(locations.problem(message, element_id, definition.file))


def _load_reports(
    bundle: Bundle, profiles: dict[str, Profile], problems: list[Problem]
) -> dict[str, str]:
    """The court report templates, each parsed as the sandbox will render it (a syntax error is
    a problem with its line), and each profile's ``data.court_report`` naming one of them."""
    reports: dict[str, str] = {}
    for path, content in bundle.of_kind("report").items():
        try:
            source = content.decode("utf-8")
            report_templates().parse(source)
        except UnicodeDecodeError:
            problems.append(Problem(path, "a report template is UTF-8 text"))
            continue
        except TemplateSyntaxError as exc:
            problems.append(Problem(path, f"template syntax: {exc.message}", exc.lineno))
            continue
        except RecursionError:
            problems.append(Problem(path, "the template nests too deeply to be read"))
            continue
        reports[path] = source
    for profile in profiles.values():
        named = profile.data.get("court_report")
        if named is not None and (
            not isinstance(named, str) or named not in bundle.of_kind("report")
        ):
            problems.append(
                Problem(
                    f"profiles/{profile.id}.json",
                    f"data.court_report names {named!r}, which is not a report of the bundle",
                )
            )
    return reports


class _BoundedConcat(CodeGenerator):
    """Templates compiled so that ``a ~ b`` asks the environment first: joining two values
    whose length together is too large is refused before it is built."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        else:
            join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        self.write(f"environment.bounded_join({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _ReportSandbox(SandboxedEnvironment):
    """The sandbox, and nothing that builds a huge value in one step (``"x" * 10**9``, a string
    doubled in a loop, a 10**9-wide padding): a report's size is bounded as it is written,
    which a single giant value would escape, and one C-level step cannot be interrupted."""

    code_generator_class = _BoundedConcat
    intercepted_binops = frozenset({"*", "**", "+"})
    LARGEST_REPEAT = 10_000
    LARGEST_VALUE = 1_000_000  # characters or items of one value a template builds
    LARGEST_EXPONENT = 64
    LARGEST_INTEGER_BITS = 4096
    # str methods whose argument is a size to allocate, and formatting with widths in it.
    SIZED = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
    UNSAFE = frozenset({"format", "format_map"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > self.LARGEST_EXPONENT:
            raise SecurityError(f"a power above {self.LARGEST_EXPONENT} in a report template")
        sized = [v for v in (left, right) if isinstance(v, str | list | tuple)]
        numbers = [v for v in (left, right) if isinstance(v, int) and not isinstance(v, bool)]
        if operator == "*" and sized and numbers:
            if (
                abs(numbers[0]) > self.LARGEST_REPEAT
                or len(sized[0]) * abs(numbers[0]) > self.LARGEST_VALUE
            ):
                raise SecurityError("a value too large for a report template")
        if operator == "*" and len(numbers) == 2:
            if sum(abs(n).bit_length() for n in numbers) > self.LARGEST_INTEGER_BITS:
                raise SecurityError("a number too large for a report template")
        if (
            operator == "+"
            and len(sized) == 2
            and len(sized[0]) + len(sized[1]) > self.LARGEST_VALUE
        ):
            raise SecurityError("a value too large for a report template")
        return super().call_binop(context, operator, left, right)

    def bounded_join(self, join: Any, parts: tuple[Any, ...]) -> Any:
        """``a ~ b``: the parts joined, once their total length is known to be in bounds."""
        if sum(len(p) if isinstance(p, str) else len(str(p)) for p in parts) > self.LARGEST_VALUE:
            raise SecurityError("a value too large for a report template")
        return join(parts)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        name = getattr(obj, "__name__", "")
        if name in self.UNSAFE:  # str.format, however the sandbox wraps it
            raise SecurityError("formatting with str.format is not offered to report templates")
        if isinstance(getattr(obj, "__self__", None), str):
            if name in self.SIZED and any(
                isinstance(a, int) and a > self.LARGEST_VALUE for a in (*args, *kwargs.values())
            ):
                raise SecurityError("a value too large for a report template")
        return super().call(context, obj, *args, **kwargs)


def report_templates() -> SandboxedEnvironment:
    """How report templates are read and rendered: sandboxed (a template reaches no Python
    internals), every value escaped as HTML; without the filters that pad or format to a
    width a template chooses."""
    environment = _ReportSandbox(autoescape=True)
    for name in ("center", "format", "indent", "wordwrap", "truncate"):
        environment.filters.pop(name, None)
    return environment


def _load_profiles(bundle: Bundle, problems: list[Problem]) -> dict[str, Profile]:
    profiles: dict[str, Profile] = {}
    for path, content in bundle.of_kind("profile").items():
        profile, objections = parse_profile(path, content)
        problems.extend(objections)
        if profile is None:
            continue
        if profile.id in profiles:
            problems.append(Problem(path, f"profile {profile.id!r} is defined twice"))
        profiles[profile.id] = profile
    return profiles
