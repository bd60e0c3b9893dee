"""The whole case lifecycle as one collaboration diagram: a pool per phase process and the
messages that hand a case from one to the next. It is an overview to read, not to run."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from tools.bpmn_author.model import BPMN

POOLS = [
    ("intake", "Intake and screening (S1-S2)"),
    ("investigation", "Investigation (S3-S5)"),
    ("services", "In-home services (S6-S7)"),
    ("substitute_care", "Substitute care and court (S8-S9)"),
    ("monthly_visit", "Monthly caseworker visit (T27, one per month)"),
    ("periodic_review", "Periodic review (T28, every 6 months)"),
    ("permanency_hearing", "Permanency hearings (T31/T36)"),
    ("permanency", "Permanency planning (S10)"),
    ("closure", "Closure (S11)"),
    ("casework", "casework (closes the case, restricts access)"),
]
FLOWS = [
    ("intake", "investigation", "investigation_requested"),
    ("intake", "casework", "casework.mark_sensitive"),
    ("investigation", "services", "services_requested"),
    ("investigation", "substitute_care", "removal_requested"),
    ("investigation", "closure", "closure_requested"),
    ("services", "closure", "closure_requested"),
    ("substitute_care", "monthly_visit", "visit_month_started"),
    ("substitute_care", "periodic_review", "review_due"),
    ("substitute_care", "permanency_hearing", "permanency_hearing_due"),
    ("substitute_care", "permanency", "permanency_planning_started"),
    ("permanency", "closure", "closure_requested"),
    ("closure", "services", "services_requested"),
    ("closure", "casework", "casework.close_case"),
]
WIDTH, HEIGHT, GAP, LEFT = 1500, 60, 50, 100


def lifecycle() -> str:
    y = {pool: 40 + i * (HEIGHT + GAP) for i, (pool, _) in enumerate(POOLS)}
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<bpmn:definitions xmlns:bpmn="{BPMN}" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
        'id="lifecycle_definitions" targetNamespace="https://casework.example/bpmn" '
        'exporter="casework" exporterVersion="1">',
        '  <bpmn:collaboration id="case_lifecycle">',
        "    <bpmn:documentation>How a case moves through its phases: each pool is a process "
        "of this folder, each arrow a message for the same case.</bpmn:documentation>",
    ]
    for pool, name in POOLS:
        out.append(f'    <bpmn:participant id="pool_{pool}" name={quoteattr(name)}/>')
    for i, (source, target, message) in enumerate(FLOWS):
        out.append(
            f'    <bpmn:messageFlow id="handover_{i}" name="{message}" '
            f'sourceRef="pool_{source}" targetRef="pool_{target}"/>'
        )
    out.append("  </bpmn:collaboration>")
    out.append('  <bpmndi:BPMNDiagram id="lifecycle_diagram">')
    out.append('    <bpmndi:BPMNPlane id="lifecycle_plane" bpmnElement="case_lifecycle">')
    for pool, _ in POOLS:
        out.append(
            f'      <bpmndi:BPMNShape id="pool_{pool}_di" bpmnElement="pool_{pool}" isHorizontal="true">'
            f'<dc:Bounds x="{LEFT}" y="{y[pool]}" width="{WIDTH}" height="{HEIGHT}"/></bpmndi:BPMNShape>'
        )
    for i, (source, target, _message) in enumerate(FLOWS):
        x = LEFT + 80 + i * 105
        down = y[target] > y[source]
        start = y[source] + (HEIGHT if down else 0)
        end = y[target] + (0 if down else HEIGHT)
        label_y = start + 6 if down else start - 33  # next to where the message leaves
        out.append(
            f'      <bpmndi:BPMNEdge id="handover_{i}_di" bpmnElement="handover_{i}">'
            f'<di:waypoint x="{x}" y="{start}"/><di:waypoint x="{x}" y="{end}"/>'
            f'<bpmndi:BPMNLabel><dc:Bounds x="{x + 4}" y="{label_y:.0f}" width="100" height="27"/>'
            "</bpmndi:BPMNLabel></bpmndi:BPMNEdge>"
        )
    out.append("    </bpmndi:BPMNPlane>")
    out.append("  </bpmndi:BPMNDiagram>")
    out.append("</bpmn:definitions>")
    return "\n".join(out) + "\n"
