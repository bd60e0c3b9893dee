"""Write DMN 1.3 decision tables (one decision per file, cells in Python as the engine reads
them: ``-`` is "any", ``?`` stands for the input value)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"


@dataclass(frozen=True)
class Input:
    label: str
    expression: str
    type: str = "string"


@dataclass(frozen=True)
class Output:
    name: str
    label: str
    type: str = "string"


@dataclass(frozen=True)
class Rule:
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    note: str = ""


def table(
    decision_id: str,
    name: str,
    hit_policy: str,
    inputs: list[Input],
    outputs: list[Output],
    rules: list[Rule],
    description: str = "",
) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<definitions xmlns="{DMN}" id="{decision_id}_definitions" name={quoteattr(name)} '
        'namespace="https://casework.example/dmn" exporter="casework" exporterVersion="1">',
        f'  <decision id="{decision_id}" name={quoteattr(name)}>',
    ]
    if description:
        out.append(f"    <description>{escape(description)}</description>")
    out.append(f'    <decisionTable id="{decision_id}_table" hitPolicy="{hit_policy}">')
    for i, item in enumerate(inputs):
        out.append(f'      <input id="{decision_id}_in{i}" label={quoteattr(item.label)}>')
        out.append(
            f'        <inputExpression id="{decision_id}_in{i}_expr" typeRef="{item.type}">'
            f"<text>{escape(item.expression)}</text></inputExpression>"
        )
        out.append("      </input>")
    for i, item in enumerate(outputs):
        out.append(
            f'      <output id="{decision_id}_out{i}" label={quoteattr(item.label)} '
            f'name="{item.name}" typeRef="{item.type}"/>'
        )
    for r, rule in enumerate(rules, start=1):
        if len(rule.inputs) != len(inputs) or len(rule.outputs) != len(outputs):
            raise ValueError(f"{decision_id} rule {r} has the wrong number of cells")
        out.append(f'      <rule id="{decision_id}_r{r}">')
        if rule.note:
            out.append(f"        <description>{escape(rule.note)}</description>")
        for i, cell in enumerate(rule.inputs):
            out.append(
                f'        <inputEntry id="{decision_id}_r{r}_i{i}"><text>{escape(cell)}</text></inputEntry>'
            )
        for i, cell in enumerate(rule.outputs):
            out.append(
                f'        <outputEntry id="{decision_id}_r{r}_o{i}"><text>{escape(cell)}</text></outputEntry>'
            )
        out.append("      </rule>")
    out.append("    </decisionTable>")
    out.append("  </decision>")
    out.append("</definitions>")
    return "\n".join(out) + "\n"
