"""Diagrams drawn in Camunda Modeler (Camunda 7 and, where cheap, Zeebe) or Flowable, read as
casework runs them. Before SpiffWorkflow's parser sees a file, its other-engine constructs are
rewritten in place into casework's own: a candidate group becomes the lane of its role, a
``decisionRef`` the decision the task calls, ``formData`` a JSON Schema form, a bare ISO 8601
timer text the literal Camunda means, a JUEL or FEEL condition the Python it means, an implicit
split the gateway it implies, a ``camunda:collection`` the multi-instance input.

The files are stored as the designer wrote them; the translation happens at each compile and
every change is reported (``Translation``) so the designer sees what casework runs. What
cannot be translated is a problem naming the element, never a silent change of meaning."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.errors import Problem
from engine.identity.roles import ROLES
from engine.spiff.dialects import expressions
from engine.spiff.dialects.expressions import NotRunnable

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
FLOWABLE = "http://flowable.org/bpmn"
ACTIVITI = "http://activiti.org/bpmn"
# Camunda 7, Flowable and Activiti name their attributes alike.
ATTRIBUTE_NAMESPACES = (CAMUNDA, FLOWABLE, ACTIVITI)
FOREIGN = frozenset({CAMUNDA, ZEEBE, FLOWABLE, ACTIVITI})

ACTIVITIES = frozenset(
    f"{{{BPMN}}}{name}"
    for name in (
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "businessRuleTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "callActivity",
        "subProcess",
    )
)
# An ISO 8601 duration, repeating interval or instant, as Camunda writes timers bare.
_BARE_ISO = re.compile(
    r"^(R\d*/)?(P[0-9YMWDTHS.,]+|\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?)"
    r"(/(P[0-9YMWDTHS.,]+|\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?))?$"
)
PYTHON_SCRIPTS = frozenset({"python", "python3", "text/x-python", "py"})


@dataclass(frozen=True)
class Translation:
    """One thing of a file that casework runs otherwise than it is written: what was
    written, and what runs (or a note on what is not used)."""

    file: str
    element_id: str | None
    written: str
    runs: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "element_id": self.element_id,
            "written": self.written,
            "runs": self.runs,
        }


@dataclass
class Reading:
    """What reading one file in casework's terms gave: the translations, the problems, and
    the forms its tasks declare (``formData`` fields as JSON Schema; ``formKey`` paths)."""

    translations: list[Translation] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    form_keys: dict[str, str] = field(default_factory=dict)


def is_foreign(root: etree._Element) -> bool:
    """A file written for another engine: it declares that engine's namespace."""
    return bool(FOREIGN & set(root.nsmap.values())) or str(root.get("exporter", "")).startswith(
        ("Camunda", "Flowable")
    )


def read_bpmn(
    path: str, root: etree._Element, role_names: Mapping[str, str] | None = None
) -> Reading:
    """Rewrite a BPMN file's other-engine constructs in place; what changed and what could not.
    ``role_names`` are the jurisdictions' names for casework's roles (a profile's ``roles``)."""
    reading = _BpmnReading(path, root, is_foreign(root), role_names or {})
    reading.scripts()
    reading.conditions()
    reading.timers()
    reading.decisions()
    reading.multi_instances()
    reading.user_tasks()
    reading.lanes()
    reading.listeners()
    reading.input_output()
    reading.implicit_splits()
    return reading.result


def read_dmn(path: str, root: etree._Element, namespace: str) -> Reading:
    """Rewrite a DMN file's FEEL cells in place into the Python tests casework evaluates.

    In a file from another tool every cell is FEEL: one outside what casework translates is
    a problem. In casework's own files a cell is Python, except the forms that read alike and
    mean otherwise (a list of values, ``not(...)``, ``true``), which are read as FEEL means
    them: as Python they never match."""
    result = Reading()
    feel = is_foreign(root) or any(
        "FEEL" in str(element.get("expressionLanguage", "")).upper()
        for element in root.iter()
        if isinstance(element.tag, str)
    )
    for entry in root.iter(f"{{{namespace}}}inputEntry", f"{{{namespace}}}outputEntry"):
        text = entry.find(f"{{{namespace}}}text")
        if text is None or text.text is None:
            continue
        written = text.text
        rule = entry.getparent()
        where = entry.get("id") or (rule.get("id") if rule is not None else None)
        try:
            if entry.tag.endswith("inputEntry"):
                done = expressions.unary_tests(written)
            else:
                done = expressions.output_entry(written)
        except NotRunnable as refused:
            if feel:
                result.problems.append(
                    Problem(path, f"cell {written!r}: {refused}", _line(entry), where)
                )
            continue  # casework's own Python, checked as such
        if done.changed:
            text.text = done.python
            result.translations.append(Translation(path, where, written, done.python))
    return result


def _line(element: etree._Element) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) else None


def _attribute(element: etree._Element, name: str) -> str | None:
    for namespace in ATTRIBUTE_NAMESPACES:
        value = element.get(f"{{{namespace}}}{name}")
        if value is not None:
            return value
    return None


def _nearest(
    element: etree._Element, test: Callable[[etree._Element], bool]
) -> etree._Element | None:
    """The closest enclosing element that passes ``test``."""
    found = element.getparent()
    while found is not None and not test(found):
        found = found.getparent()
    return found


def _zeebe(element: etree._Element, local: str, attribute: str) -> str | None:
    """An attribute of a Zeebe extension element inside ``element`` (Camunda 8 writes there
    what Camunda 7 writes as attributes)."""
    found = element.find(f".//{{{ZEEBE}}}{local}")
    return found.get(attribute) if found is not None else None


def _role_of(name: str) -> str:
    """A lane or group named as people write it ("Ongoing caseworker"), as casework's role id."""
    return re.sub(r"[\s\-]+", "_", name.strip()).lower()


def _extensions(element: etree._Element) -> etree._Element:
    found = element.find(f"{{{BPMN}}}extensionElements")
    if found is None:
        found = etree.Element(f"{{{BPMN}}}extensionElements")
        element.insert(_after_documentation(element), found)
    return found


def _after_documentation(element: etree._Element) -> int:
    """Where a child goes first: after documentation, as the BPMN schema orders them."""
    index = 0
    for index, child in enumerate(element):
        if child.tag != f"{{{BPMN}}}documentation":
            return index
    return len(element)


class _BpmnReading:
    def __init__(
        self, path: str, root: etree._Element, foreign: bool, role_names: Mapping[str, str]
    ) -> None:
        self.path, self.root, self.foreign = path, root, foreign
        self.role_names = role_names
        self.result = Reading()

    def said(self, element: etree._Element, written: str, runs: str) -> None:
        self.result.translations.append(Translation(self.path, element.get("id"), written, runs))

    def refuse(self, element: etree._Element, message: str) -> None:
        self.result.problems.append(Problem(self.path, message, _line(element), element.get("id")))

    def each(self, *local_names: str) -> list[etree._Element]:
        return list(self.root.iter(*(f"{{{BPMN}}}{name}" for name in local_names)))

    # -- what runs -------------------------------------------------------------------------

    def scripts(self) -> None:
        for task in self.each("scriptTask"):
            language = (task.get("scriptFormat") or "python").strip()
            if _attribute(task, "resource") is not None:
                self.refuse(
                    task,
                    f"the script is an external file ({_attribute(task, 'resource')}): casework "
                    "runs the script written in the diagram; copy it into the script task, in "
                    "Python",
                )
            elif language.lower() not in PYTHON_SCRIPTS:
                self.refuse(
                    task,
                    f"a {language} script: casework runs scripts in Python only, in a sandbox; "
                    "rewrite it in Python (for example: total = amount * 2)",
                )

    def conditions(self) -> None:
        for expression in self.each("conditionExpression", "condition"):
            owner = expression.getparent()
            language = (expression.get("language") or "").strip().lower()
            if language and language not in PYTHON_SCRIPTS | {"juel", "feel"}:
                self.refuse(
                    owner if owner is not None else expression,
                    f"a condition in {language}: casework runs conditions in Python; write it "
                    "as a Python expression over the process's data, for example "
                    "approved == True",
                )
                continue
            self.expression(expression, owner if owner is not None else expression)

    def expression(self, holder: etree._Element, owner: etree._Element) -> None:
        written = (holder.text or "").strip()
        if not written:
            return
        try:
            done = expressions.condition(written)
        except NotRunnable as refused:
            self.refuse(owner, str(refused))
            return
        if done.changed:
            holder.text = done.python
            self.said(owner, written, done.python)

    def timers(self) -> None:
        for definition in self.each("timerEventDefinition"):
            event = definition.getparent()
            for local in ("timeDate", "timeDuration", "timeCycle"):
                holder = definition.find(f"{{{BPMN}}}{local}")
                if holder is None or not (holder.text or "").strip():
                    continue
                written = (holder.text or "").strip()
                if self.foreign and _BARE_ISO.match(written):
                    # Camunda reads timer text as a literal; casework evaluates an expression.
                    holder.text = json.dumps(written)
                    self.said(event if event is not None else definition, written, holder.text)
                else:
                    self.expression(holder, event if event is not None else definition)

    def decisions(self) -> None:
        for task in self.each("businessRuleTask"):
            decision = _attribute(task, "decisionRef") or _zeebe(
                task, "calledDecision", "decisionId"
            )
            if decision is None:
                continue
            extensions = _extensions(task)
            if extensions.find(f"{{{SPIFF}}}calledDecisionId") is None:
                etree.SubElement(extensions, f"{{{SPIFF}}}calledDecisionId").text = decision
                self.said(task, f"decisionRef {decision}", f"calls decision {decision}")
            result = _attribute(task, "resultVariable") or _zeebe(
                task, "calledDecision", "resultVariable"
            )
            if result:
                self.said(
                    task,
                    f"resultVariable {result}",
                    f"not set: the decision's outputs are variables of their own names "
                    f"(read the output columns' names where {result} was read)",
                )

    def multi_instances(self) -> None:
        for loop in self.each("multiInstanceLoopCharacteristics"):
            owner = loop.getparent()
            collection = _attribute(loop, "collection") or _zeebe(
                loop, "loopCharacteristics", "inputCollection"
            )
            element = _attribute(loop, "elementVariable") or _zeebe(
                loop, "loopCharacteristics", "inputElement"
            )
            if not collection or loop.find(f"{{{BPMN}}}loopDataInputRef") is not None:
                continue
            try:
                name = expressions.condition(collection.strip()).python.strip()
            except NotRunnable as refused:
                self.refuse(owner if owner is not None else loop, str(refused))
                continue
            if not name.isidentifier():
                self.refuse(
                    owner if owner is not None else loop,
                    f"the multi-instance collection {collection!r} is an expression: casework "
                    "runs one instance per item of a variable; set a variable to the list in a "
                    "script before the task and name it here",
                )
                continue
            etree.SubElement(loop, f"{{{BPMN}}}loopDataInputRef").text = name
            item = element or "item"
            etree.SubElement(loop, f"{{{BPMN}}}inputDataItem", id=f"{name}_{item}", name=item)
            self.said(
                owner if owner is not None else loop,
                f"collection {collection}, element {element or '-'}",
                f"one instance per item of {name}, each as {item}",
            )

    # -- who does the work, with what form --------------------------------------------------

    def user_tasks(self) -> None:
        self.groups: dict[str, list[str]] = {}
        for task in self.each("userTask", "startEvent"):
            task_id = task.get("id") or ""
            groups = _attribute(task, "candidateGroups") or _zeebe(
                task, "assignmentDefinition", "candidateGroups"
            )
            if groups:
                self.groups[task_id] = [g.strip() for g in groups.split(",") if g.strip()]
            assignee = _attribute(task, "assignee") or _zeebe(
                task, "assignmentDefinition", "assignee"
            )
            if assignee:
                self.said(
                    task,
                    f"assignee {assignee}",
                    "not used: casework gives a task to the case's worker who holds its role, "
                    "or to its team's queue",
                )
            key = (
                _attribute(task, "formKey")
                or _zeebe(task, "formDefinition", "formKey")
                or _zeebe(task, "formDefinition", "formId")
            )
            if key:
                self.result.form_keys[task_id] = key
            fields = (
                task.findall(f".//{{{CAMUNDA}}}formField")
                + task.findall(f".//{{{FLOWABLE}}}formProperty")
                + task.findall(f".//{{{ACTIVITI}}}formProperty")
            )
            if fields:
                form = self.form_of(task, fields)
                if form is not None:
                    self.result.forms[task_id] = form
                    self.said(task, "formData", f"a form of {len(fields)} field(s)")

    def form_of(self, task: etree._Element, fields: list[etree._Element]) -> dict[str, Any] | None:
        """Camunda's ``formData`` (or Flowable's ``formProperty``) fields as a JSON Schema."""
        properties: dict[str, Any] = {}
        required: list[str] = []
        for found in fields:
            name = found.get("id") or ""
            if not name.isidentifier():
                self.refuse(task, f"form field {name!r}: a field's id must be a variable name")
                return None
            kind = (found.get("type") or "string").lower()
            schema: dict[str, Any] = {"title": found.get("label") or found.get("name") or name}
            values = [
                (v.get("id"), v.get("name") or v.get("id"))
                for v in found.iter(f"{{{CAMUNDA}}}value", f"{{{FLOWABLE}}}value")
            ]
            if kind == "boolean":
                schema["type"] = "boolean"
            elif kind in ("long", "integer"):
                schema["type"] = "integer"
            elif kind in ("double", "number"):
                schema["type"] = "number"
            elif kind == "date":
                schema |= {"type": "string", "format": "date"}
            elif kind == "enum":
                schema |= {"type": "string", "oneOf": [{"const": v, "title": t} for v, t in values]}
            elif kind == "string":
                schema |= {"type": "string", "maxLength": 8000}
            else:
                self.refuse(
                    task,
                    f"form field {name!r} is of type {kind!r}: casework forms know string, "
                    "long, double, boolean, date and enum",
                )
                return None
            default = found.get("defaultValue")
            if default is not None and not default.startswith(("${", "#{")):
                schema["default"] = _typed(default, schema.get("type"))
            for constraint in found.iter(f"{{{CAMUNDA}}}constraint"):
                rule, value = constraint.get("name"), constraint.get("config")
                if rule == "required":
                    required.append(name)
                elif rule in ("minlength", "maxlength", "min", "max") and value is not None:
                    limit = {
                        "minlength": "minLength",
                        "maxlength": "maxLength",
                        "min": "minimum",
                        "max": "maximum",
                    }[rule]
                    schema[limit] = float(value) if "." in value else int(value)
            if found.get("required") == "true":
                required.append(name)
            properties[name] = schema
        return {
            "type": "object",
            "title": task.get("name") or task.get("id"),
            "properties": properties,
            "required": sorted(set(required)),
            "additionalProperties": False,
        }

    def lanes(self) -> None:
        """Lanes named as people write roles ("Ongoing caseworker") read as the role; a user
        task in no lane takes the lane of its candidate group's role."""
        in_lane: set[str] = set()
        for lane in self.each("lane"):
            name = lane.get("name") or ""
            written = _role_of(name)
            role = self.role_names.get(written, written)
            if name not in ROLES and role in ROLES:
                lane.set("name", role)
                if role == written:  # a profile's own name for a role is no translation
                    self.said(lane, f"lane {name}", f"role {role}")
            in_lane |= {(ref.text or "").strip() for ref in lane.findall(f"{{{BPMN}}}flowNodeRef")}
        for process in self.each("process"):
            for task in process.iter(f"{{{BPMN}}}userTask"):
                task_id = task.get("id") or ""
                groups = self.groups.get(task_id)
                if task_id in in_lane or not groups:
                    continue
                roles = [self.role_names.get(_role_of(g), _role_of(g)) for g in groups]
                role = next((r for r in roles if r in ROLES), groups[0])
                self.lane_for(process, role).append(_ref(task_id))
                self.said(task, f"candidateGroups {', '.join(groups)}", f"lane {role}")

    def lane_for(self, process: etree._Element, role: str) -> etree._Element:
        lanes = process.find(f"{{{BPMN}}}laneSet")
        if lanes is None:
            lanes = etree.Element(f"{{{BPMN}}}laneSet", id=f"{process.get('id')}_lanes")
            process.insert(_after_documentation(process), lanes)
        for lane in lanes.findall(f"{{{BPMN}}}lane"):
            if lane.get("name") == role:
                return lane
        return etree.SubElement(
            lanes, f"{{{BPMN}}}lane", id=f"{process.get('id')}_{_role_of(role)}_lane", name=role
        )

    # -- the shape of the flow -------------------------------------------------------------

    def listeners(self) -> None:
        """Execution and task listeners run Java or scripts beside the diagram's flow, where
        nobody reading the diagram sees them: refused, with where to put the work instead."""
        for listener in self.root.iter(
            f"{{{CAMUNDA}}}executionListener",
            f"{{{CAMUNDA}}}taskListener",
            f"{{{FLOWABLE}}}executionListener",
            f"{{{FLOWABLE}}}taskListener",
        ):
            owner = _nearest(listener, lambda e: e.get("id") is not None)
            self.refuse(
                owner if owner is not None else listener,
                f"a {etree.QName(listener).localname} ({listener.get('event') or 'an event'}): "
                "casework runs no listeners; put the work in a script task (in Python) on the "
                "flow, or in the task's pre- or post-script",
            )

    def input_output(self) -> None:
        """Camunda's input and output parameters, as the task's pre- and post-script that set
        the same variables (a parameter holding a script, list or map is refused)."""
        for mapping in self.root.iter(f"{{{CAMUNDA}}}inputOutput"):
            owner = _nearest(mapping, lambda e: e.tag in ACTIVITIES)
            if owner is None:
                holder = _nearest(mapping, lambda e: e.get("id") is not None)
                self.refuse(
                    holder if holder is not None else mapping,
                    "input/output parameters on an event: casework sets variables in a task's "
                    "pre- or post-script, or in a script task",
                )
                continue
            scripts: dict[str, list[str]] = {"inputParameter": [], "outputParameter": []}
            lines = [
                (etree.QName(p).localname, self.assignment(owner, p))
                for p in mapping
                if isinstance(p.tag, str) and etree.QName(p).localname in scripts
            ]
            if any(line is None for _, line in lines):
                continue  # refused, and said why
            for kind, line in lines:
                scripts[kind].append(str(line))
            self.add_scripts(owner, scripts["inputParameter"], "preScript", first=True)
            self.add_scripts(owner, scripts["outputParameter"], "postScript", first=False)

    def add_scripts(
        self, owner: etree._Element, lines: list[str], tag: str, *, first: bool
    ) -> None:
        """Lines added to the task's pre- or post-script: inputs before what it already does,
        outputs after."""
        if not lines:
            return
        extensions = _extensions(owner)
        script = extensions.find(f"{{{SPIFF}}}{tag}")
        if script is None:
            script = etree.SubElement(extensions, f"{{{SPIFF}}}{tag}")
        added = "\n".join(lines)
        existing = script.text or ""
        script.text = (
            (f"{added}\n{existing}" if first else f"{existing}\n{added}") if existing else added
        )
        self.said(owner, f"camunda:inputOutput ({tag})", "; ".join(lines))

    def assignment(self, owner: etree._Element, parameter: etree._Element) -> str | None:
        """One parameter as the Python line that sets it, or None (refused)."""
        name = parameter.get("name") or ""
        if not name.isidentifier():
            self.refuse(owner, f"parameter {name!r}: a parameter's name must be a variable name")
            return None
        if len(parameter):
            self.refuse(
                owner,
                f"parameter {name!r} holds a {etree.QName(parameter[0]).localname}: casework "
                "reads parameters given as text or an expression; set it in the task's "
                "pre-script, in Python",
            )
            return None
        value = (parameter.text or "").strip()
        if not value.startswith(("${", "#{", "=")):
            return f"{name} = {json.dumps(value)}"  # Camunda reads plain text as a string
        try:
            return f"{name} = {expressions.condition(value).python}"
        except NotRunnable as refused:
            self.refuse(owner, f"parameter {name!r}: {refused}")
            return None

    def implicit_splits(self) -> None:
        """An activity with several outgoing flows splits there, as BPMN says: all of them
        (a parallel gateway), or those whose condition holds (an inclusive gateway)."""
        flows = {f.get("id"): f for f in self.each("sequenceFlow")}
        for activity in list(self.root.iter(*ACTIVITIES)):
            outgoing = [f for f in flows.values() if f.get("sourceRef") == activity.get("id")]
            if len(outgoing) < 2:
                continue
            container = activity.getparent()
            if container is None:
                continue
            activity_id = activity.get("id") or ""
            conditional = any(
                f.find(f"{{{BPMN}}}conditionExpression") is not None for f in outgoing
            )
            kind = "inclusiveGateway" if conditional else "parallelGateway"
            gateway_id, joining_id = f"{activity_id}_split", f"{activity_id}_to_split"
            gateway = etree.SubElement(container, f"{{{BPMN}}}{kind}", id=gateway_id)
            if activity.get("default"):
                gateway.set("default", activity.attrib.pop("default"))
            etree.SubElement(gateway, f"{{{BPMN}}}incoming").text = joining_id
            for flow in outgoing:
                flow.set("sourceRef", gateway_id)
                etree.SubElement(gateway, f"{{{BPMN}}}outgoing").text = flow.get("id")
            for ref in activity.findall(f"{{{BPMN}}}outgoing"):
                activity.remove(ref)
            activity_out = etree.Element(f"{{{BPMN}}}outgoing")
            activity_out.text = joining_id
            incoming = activity.findall(f"{{{BPMN}}}incoming")
            position = activity.index(incoming[-1]) + 1 if incoming else len(activity)
            activity.insert(position, activity_out)
            etree.SubElement(
                container,
                f"{{{BPMN}}}sequenceFlow",
                id=joining_id,
                sourceRef=activity_id,
                targetRef=gateway_id,
            )
            self.said(
                activity,
                f"{len(outgoing)} flows out of the task",
                "an inclusive split on their conditions" if conditional else "a parallel split",
            )


def _ref(task_id: str) -> etree._Element:
    ref = etree.Element(f"{{{BPMN}}}flowNodeRef")
    ref.text = task_id
    return ref


def _typed(text: str, kind: Any) -> Any:
    if kind == "boolean":
        return text.strip().lower() == "true"
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            return text
    if kind == "number":
        try:
            return float(text)
        except ValueError:
            return text
    return text
