"""What a bundle changes against the version now current, as a designer reviews it before a
deploy: files added and removed; per process, the elements added, removed and changed (a
renamed task, an edited condition, timer or script; moving shapes on the diagram is not a
change); per decision table, each rule added, removed or changed with its cells before and
after; per form, the fields; per profile, the entries of each section.

Only bundles that validate are compared, so the XML and JSON here have been checked already;
the reading is defensive all the same (a file that does not parse is listed as changed)."""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.definitions.bundle import Bundle, kind_of
from engine.spiff.definitions import read_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
# Attributes at BPMN's default value: one tool writes them, another leaves them out.
_DEFAULTS = {
    "cancelActivity": "true",
    "isInterrupting": "true",
    "isForCompensation": "false",
    "startQuantity": "1",
    "completionQuantity": "1",
    "gatewayDirection": "Unspecified",
    "parallelMultiple": "false",
    "isImmediate": "true",
    "isSequential": "false",
}
DMN_TABLE = "decisionTable"
# What is reported as an element of a process: whatever has an id and sits directly in a
# process, a sub-process or a lane set; the definitions nested in it (a timer's expression, a
# condition, a script) are part of it.
_CONTAINERS = {"process", "subProcess", "adHocSubProcess", "transaction", "laneSet"}


@dataclass(frozen=True)
class Element:
    id: str
    type: str
    name: str
    signature: str


def changes(current: Bundle | None, proposed: Bundle) -> dict[str, Any]:
    """The changes ``proposed`` makes to ``current`` (everything is new without one)."""
    before = dict(current.files) if current is not None else {}
    after = dict(proposed.files)
    changed_paths = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    found: dict[str, Any] = {
        "files": {
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "changed": changed_paths,
        },
        "processes": _processes(current, proposed),
        "decisions": _decisions(current, proposed),
        "forms": _json_files("form", current, proposed, _form_fields),
        "profiles": _json_files("profile", current, proposed, _profile_entries),
    }
    found["unchanged"] = not any(found["files"].values())
    return found


# -- processes -------------------------------------------------------------------------------


def _processes(current: Bundle | None, proposed: Bundle) -> list[dict[str, Any]]:
    old = _process_elements(current.of_kind("bpmn") if current else {})
    new = _process_elements(proposed.of_kind("bpmn"))
    result: list[dict[str, Any]] = []
    for process_id in sorted(set(old) | set(new)):
        if process_id not in old:
            result.append({"process_id": process_id, "status": "added"})
            continue
        if process_id not in new:
            result.append({"process_id": process_id, "status": "removed"})
            continue
        was, now = old[process_id], new[process_id]
        added = [_shown(now[i]) for i in sorted(set(now) - set(was))]
        removed = [_shown(was[i]) for i in sorted(set(was) - set(now))]
        changed = [
            {**_shown(now[i]), "what": _what_changed(was[i], now[i])}
            for i in sorted(set(was) & set(now))
            if was[i].signature != now[i].signature
        ]
        if added or removed or changed:
            result.append(
                {
                    "process_id": process_id,
                    "status": "changed",
                    "elements": {"added": added, "removed": removed, "changed": changed},
                }
            )
    return result


def _process_elements(files: dict[str, bytes]) -> dict[str, dict[str, Element]]:
    processes: dict[str, dict[str, Element]] = {}
    for content in files.values():
        root = read_xml(content)
        if root is None:
            continue
        for process in root.iter(f"{{{BPMN}}}process"):
            elements: dict[str, Element] = {}
            _collect(process, elements)
            processes[process.get("id") or ""] = elements
    return processes


def _collect(container: etree._Element, elements: dict[str, Element]) -> None:
    for child in container:
        if not isinstance(child.tag, str):
            continue
        kind = etree.QName(child).localname
        element_id = child.get("id")
        if element_id and kind not in ("laneSet",):
            elements[element_id] = Element(
                element_id, kind, child.get("name") or "", _signature(child)
            )
        if kind in _CONTAINERS or kind == "lane":
            _collect(child, elements)


def _signature(element: etree._Element) -> str:
    """The element as it behaves: itself and what is nested in it, without the elements
    reported on their own (a sub-process's tasks, a lane's other lanes) and without the
    layout."""
    copy = deepcopy(element)
    for nested in list(copy):
        if isinstance(nested.tag, str) and etree.QName(nested).localname in (
            *_CONTAINERS,
            "lane",
        ):
            copy.remove(nested)
    if etree.QName(copy).localname in _CONTAINERS:
        for nested in list(copy):
            if isinstance(nested.tag, str) and nested.get("id"):
                copy.remove(nested)
    return _canonical(copy)


def _canonical(element: etree._Element) -> str:
    """What an element says, whichever tool wrote it: names by namespace, attributes in order,
    text with its spacing folded; prefixes, namespace declarations and the xsi:type a modeler
    adds or drops on expressions do not count."""
    if not isinstance(element.tag, str):
        return ""
    attributes = sorted(
        (k, v) for k, v in element.attrib.items() if k != _XSI_TYPE and _DEFAULTS.get(str(k)) != v
    )
    text = " ".join((element.text or "").split())
    children = "".join(_canonical(child) for child in element)
    return f"<{element.tag} {attributes!r}>{text}{children}</>"


def _what_changed(was: Element, now: Element) -> str:
    if was.type != now.type:
        return f"was a {was.type}"
    if was.name != now.name:
        return f"renamed from “{was.name}”"
    return "its definition changed (a condition, timer, script, form or data)"


def _shown(element: Element) -> dict[str, str]:
    return {"id": element.id, "type": element.type, "name": element.name}


# -- decision tables -------------------------------------------------------------------------


def _decisions(current: Bundle | None, proposed: Bundle) -> list[dict[str, Any]]:
    old = _rules(current.of_kind("dmn") if current else {})
    new = _rules(proposed.of_kind("dmn"))
    old_tables = _tables(current.of_kind("dmn") if current else {})
    new_tables = _tables(proposed.of_kind("dmn"))
    result: list[dict[str, Any]] = []
    for decision_id in sorted(set(old) | set(new)):
        was, now = old.get(decision_id), new.get(decision_id)
        if was is None or now is None:
            result.append(
                {"decision_id": decision_id, "status": "added" if was is None else "removed"}
            )
            continue
        rows = {
            "added": [{"id": i, "row": now[i][0], "cells": now[i][1]} for i in now if i not in was],
            "removed": [
                {"id": i, "row": was[i][0], "cells": was[i][1]} for i in was if i not in now
            ],
            "changed": [
                {"id": i, "row": now[i][0], "before": was[i][1], "after": now[i][1]}
                for i in now
                if i in was and was[i][1] != now[i][1]
            ],
        }
        # The order of rules matters to a FIRST table; the hit policy and columns to any.
        reordered = [i for i in now if i in was] != [i for i in was if i in now]
        table = old_tables.get(decision_id) != new_tables.get(decision_id) or reordered
        if any(rows.values()) or table:
            result.append(
                {"decision_id": decision_id, "status": "changed", "rules": rows, "table": table}
            )
    return result


def _rules(files: dict[str, bytes]) -> dict[str, dict[str, tuple[int, list[str]]]]:
    """Each decision's rules: rule id → (its row, numbered from 1; its cells' texts)."""
    found: dict[str, dict[str, tuple[int, list[str]]]] = {}
    for content in files.values():
        root = read_xml(content)
        if root is None:
            continue
        for decision in root.iter("{*}decision"):
            rules: dict[str, tuple[int, list[str]]] = {}
            for table in decision.iter(f"{{*}}{DMN_TABLE}"):
                for row, rule in enumerate(table.iter("{*}rule"), start=1):
                    cells = [
                        " ".join((entry.findtext("{*}text") or "").split())
                        for entry in rule
                        if isinstance(entry.tag, str)
                        and etree.QName(entry).localname in ("inputEntry", "outputEntry")
                    ]
                    rules[rule.get("id") or f"row {row}"] = (row, cells)
            found[decision.get("id") or ""] = rules
    return found


def _tables(files: dict[str, bytes]) -> dict[str, str]:
    """Each decision's table apart from its rules: hit policy, inputs, outputs."""
    found: dict[str, str] = {}
    for content in files.values():
        root = read_xml(content)
        if root is None:
            continue
        for decision in root.iter("{*}decision"):
            for table in decision.iter(f"{{*}}{DMN_TABLE}"):
                copy = deepcopy(table)
                for rule in list(copy.iter("{*}rule")):
                    parent = rule.getparent()
                    if parent is not None:
                        parent.remove(rule)
                found[decision.get("id") or ""] = _canonical(copy)
    return found


# -- forms and profiles ----------------------------------------------------------------------


def _json_files(
    kind: str, current: Bundle | None, proposed: Bundle, entries: Any
) -> list[dict[str, Any]]:
    old = current.of_kind(kind) if current else {}
    new = proposed.of_kind(kind)
    result: list[dict[str, Any]] = []
    for path in sorted(set(old) | set(new)):
        if path not in old or path not in new:
            result.append({"file": path, "status": "added" if path not in old else "removed"})
            continue
        if old[path] == new[path]:
            continue
        was, now = entries(_json(old[path])), entries(_json(new[path]))
        sections = {
            section: {
                "added": sorted(set(now.get(section, {})) - set(was.get(section, {}))),
                "removed": sorted(set(was.get(section, {})) - set(now.get(section, {}))),
                "changed": sorted(
                    key
                    for key in set(was.get(section, {})) & set(now.get(section, {}))
                    if was[section][key] != now[section][key]
                ),
            }
            for section in sorted(set(was) | set(now))
        }
        sections = {name: diff for name, diff in sections.items() if any(diff.values())}
        result.append({"file": path, "status": "changed", "sections": sections})
    return result


def _form_fields(form: Any) -> dict[str, dict[str, Any]]:
    """A form's fields, and its other settings (title, record kind, extensions)."""
    if not isinstance(form, dict):
        return {}
    fields = form.get("properties")
    settings = {k: v for k, v in form.items() if k != "properties"}
    return {"fields": dict(fields) if isinstance(fields, dict) else {}, "settings": settings}


def _profile_entries(profile: Any) -> dict[str, dict[str, Any]]:
    """A profile's sections (data, deadlines, ladders, records, holidays), entry by entry."""
    if not isinstance(profile, dict):
        return {}
    return {
        section: (value if isinstance(value, dict) else {"(value)": value})
        for section, value in profile.items()
    }


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def in_words(found: dict[str, Any]) -> list[str]:
    """The changes as lines a designer confirms: one per process, decision, form and profile."""
    if found["unchanged"]:
        return ["Nothing changes: these are the current version's files."]
    lines = []
    for process in found["processes"]:
        if process["status"] != "changed":
            lines.append(f"Process {process['process_id']}: {process['status']}")
            continue
        elements = process["elements"]
        said = [
            f"{len(elements[k])} element{'' if len(elements[k]) == 1 else 's'} {k}"
            for k in ("added", "removed", "changed")
            if elements[k]
        ]
        named = ", ".join(f"{e['name'] or e['id']} ({e['what']})" for e in elements["changed"][:3])
        lines.append(
            f"Process {process['process_id']}: {', '.join(said)}" + (f": {named}" if named else "")
        )
    for decision in found["decisions"]:
        if decision["status"] != "changed":
            lines.append(f"Decision {decision['decision_id']}: {decision['status']}")
            continue
        rules = decision["rules"]
        rows = [
            f"rule {r['row']} {kind}"
            for kind in ("added", "removed", "changed")
            for r in rules[kind]
        ]
        if decision["table"]:
            rows.append("its hit policy, columns or order of rules changed")
        lines.append(f"Decision {decision['decision_id']}: {', '.join(rows)}")
    for kind in ("forms", "profiles"):
        for item in found[kind]:
            if item["status"] != "changed":
                lines.append(f"{item['file']}: {item['status']}")
                continue
            parts = [
                f"{section} {change} {', '.join(names)}"
                for section, diff in item["sections"].items()
                for change, names in diff.items()
                if names
            ]
            lines.append(f"{item['file']}: {'; '.join(parts) or 'its layout only'}")
    # Files no section above describes (report templates, scenarios): what became of each.
    described = {"bpmn", "dmn", "form", "profile"}
    for change in ("added", "removed", "changed"):
        lines += [
            f"{path}: {change}" for path in found["files"][change] if kind_of(path) not in described
        ]
    return lines
