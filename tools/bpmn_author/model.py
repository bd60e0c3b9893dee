"""A small authoring model for executable BPMN with diagram layout.

Process designers own the files in ``bpmn/``; this module wrote their first version. It
describes a process as elements, lanes and flows, lays it out left to right in swimlanes, and
writes BPMN 2.0 XML with BPMN DI that bpmn-js and other modelers open as a readable diagram.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from xml.sax.saxutils import escape, quoteattr

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"

SIZES = {"task": (110, 80), "event": (36, 36), "gateway": (50, 50)}
COLUMN = 170
ROW = 120
LEFT = 60  # lane label band inside the pool
TOP = 40
PAD = 20


@dataclass
class Element:
    id: str
    name: str
    kind: str  # startEvent, endEvent, userTask, scriptTask, businessRuleTask, ...
    lane: str
    shape: str  # task, event, gateway
    body: str = ""  # inner XML (definitions, scripts, loops)
    attrs: dict[str, str] = field(default_factory=dict)
    host: str | None = None  # for boundary events
    documentation: str = ""
    x: float = 0
    y: float = 0

    @property
    def size(self) -> tuple[int, int]:
        return SIZES[self.shape]


@dataclass
class Flow:
    id: str
    source: str
    target: str
    condition: str | None = None
    name: str = ""


def _text(value: str) -> str:
    return escape(value)


class Process:
    def __init__(
        self, process_id: str, name: str, lanes: list[str], documentation: str = ""
    ) -> None:
        self.id = process_id
        self.name = name
        self.lanes = lanes
        self.documentation = documentation
        self.elements: dict[str, Element] = {}
        self.flows: list[Flow] = []
        self.messages: dict[str, str] = {}  # message name -> id
        self.data_objects: list[str] = []
        self._lane = lanes[0]

    # -- elements ----------------------------------------------------------------------------

    def _add(self, element: Element) -> str:
        if element.id in self.elements:
            raise ValueError(f"duplicate id {element.id}")
        self.elements[element.id] = element
        self._lane = element.lane
        return element.id

    def _lane_of(self, lane: str | None) -> str:
        lane = lane or self._lane
        if lane not in self.lanes:
            raise ValueError(f"unknown lane {lane}")
        return lane

    def message_ref(self, name: str) -> str:
        if name not in self.messages:
            self.messages[name] = "msg_" + name.replace(".", "_")
        return self.messages[name]

    def start(
        self,
        id: str,
        name: str,
        *,
        lane: str | None = None,
        message: str | None = None,
        variable: str | None = None,
    ) -> str:
        body = ""
        if message:
            ext = (
                "<bpmn:extensionElements><spiffworkflow:messageVariable>"
                f"{_text(variable)}</spiffworkflow:messageVariable></bpmn:extensionElements>"
                if variable
                else ""
            )
            body = (
                f'<bpmn:messageEventDefinition id="{id}_def" messageRef="{self.message_ref(message)}">'
                f"{ext}</bpmn:messageEventDefinition>"
            )
        return self._add(Element(id, name, "startEvent", self._lane_of(lane), "event", body))

    def end(
        self,
        id: str,
        name: str,
        *,
        lane: str | None = None,
        message: str | None = None,
        payload: str | None = None,
        terminate: bool = False,
    ) -> str:
        body = ""
        if message:
            body = self._throw_definition(id, message, payload)
        elif terminate:
            body = f'<bpmn:terminateEventDefinition id="{id}_def"/>'
        return self._add(Element(id, name, "endEvent", self._lane_of(lane), "event", body))

    def _throw_definition(self, id: str, message: str, payload: str | None) -> str:
        ext = (
            "<bpmn:extensionElements><spiffworkflow:messagePayload>"
            f"{_text(payload)}</spiffworkflow:messagePayload></bpmn:extensionElements>"
            if payload
            else ""
        )
        return (
            f'<bpmn:messageEventDefinition id="{id}_def" messageRef="{self.message_ref(message)}">'
            f"{ext}</bpmn:messageEventDefinition>"
        )

    def throw(
        self, id: str, name: str, message: str, payload: str | None = None, lane: str | None = None
    ) -> str:
        body = self._throw_definition(id, message, payload)
        return self._add(
            Element(id, name, "intermediateThrowEvent", self._lane_of(lane), "event", body)
        )

    def catch_message(
        self, id: str, name: str, message: str, variable: str, lane: str | None = None
    ) -> str:
        body = (
            f'<bpmn:messageEventDefinition id="{id}_def" messageRef="{self.message_ref(message)}">'
            "<bpmn:extensionElements><spiffworkflow:messageVariable>"
            f"{_text(variable)}</spiffworkflow:messageVariable></bpmn:extensionElements>"
            "</bpmn:messageEventDefinition>"
        )
        return self._add(
            Element(id, name, "intermediateCatchEvent", self._lane_of(lane), "event", body)
        )

    def wait(
        self,
        id: str,
        name: str,
        *,
        date: str | None = None,
        duration: str | None = None,
        lane: str | None = None,
    ) -> str:
        return self._add(
            Element(
                id,
                name,
                "intermediateCatchEvent",
                self._lane_of(lane),
                "event",
                _timer(id, date, duration, None),
            )
        )

    def user(
        self,
        id: str,
        name: str,
        *,
        lane: str | None = None,
        doc: str = "",
        each: tuple[str, str, str, str] | None = None,
        pre: str | None = None,
        post: str | None = None,
        instructions: str | None = None,
    ) -> str:
        """A user task. ``each`` = (collection, item, output collection, output item) makes it
        one task per item."""
        return self._task(id, name, "userTask", lane, doc, each, pre, post, instructions)

    def _task(
        self,
        id: str,
        name: str,
        kind: str,
        lane: str | None,
        doc: str,
        each: tuple[str, str, str, str] | None,
        pre: str | None,
        post: str | None,
        instructions: str | None = None,
        extra_ext: str = "",
        inner: str = "",
    ) -> str:
        ext = extra_ext
        if instructions:
            ext += (
                "<spiffworkflow:instructionsForEndUser>"
                f"{_text(instructions)}</spiffworkflow:instructionsForEndUser>"
            )
        if pre:
            ext += f"<spiffworkflow:preScript>{_text(pre)}</spiffworkflow:preScript>"
        if post:
            ext += f"<spiffworkflow:postScript>{_text(post)}</spiffworkflow:postScript>"
        body = f"<bpmn:extensionElements>{ext}</bpmn:extensionElements>" if ext else ""
        body += inner
        if each:
            collection, item, output, output_item = each
            body += (
                "<bpmn:multiInstanceLoopCharacteristics>"
                f"<bpmn:loopDataInputRef>{collection}</bpmn:loopDataInputRef>"
                f"<bpmn:loopDataOutputRef>{output}</bpmn:loopDataOutputRef>"
                f'<bpmn:inputDataItem id="{item}" name="{item}"/>'
                f'<bpmn:outputDataItem id="{output_item}" name="{output_item}"/>'
                "</bpmn:multiInstanceLoopCharacteristics>"
            )
        return self._add(
            Element(id, name, kind, self._lane_of(lane), "task", body, documentation=doc)
        )

    def script(
        self, id: str, name: str, script: str, *, lane: str | None = None, doc: str = ""
    ) -> str:
        inner = f"<bpmn:script>{_text(script.strip())}</bpmn:script>"
        return self._task(id, name, "scriptTask", lane, doc, None, None, None, inner=inner)

    def rule(
        self, id: str, name: str, decision: str, *, lane: str | None = None, doc: str = ""
    ) -> str:
        ext = f"<spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId>"
        return self._task(id, name, "businessRuleTask", lane, doc, None, None, None, extra_ext=ext)

    def call(
        self, id: str, name: str, process: str, *, lane: str | None = None, doc: str = ""
    ) -> str:
        element_id = self._task(id, name, "callActivity", lane, doc, None, None, None)
        self.elements[element_id].attrs["calledElement"] = process
        return element_id

    def xor(
        self, id: str, name: str, *, lane: str | None = None, default: str | None = None
    ) -> str:
        element = Element(id, name, "exclusiveGateway", self._lane_of(lane), "gateway")
        if default:
            element.attrs["default"] = default
        return self._add(element)

    def parallel(self, id: str, name: str = "", *, lane: str | None = None) -> str:
        return self._add(Element(id, name, "parallelGateway", self._lane_of(lane), "gateway"))

    def boundary_timer(
        self,
        id: str,
        name: str,
        host: str,
        *,
        date: str | None = None,
        duration: str | None = None,
        cycle: str | None = None,
        interrupting: bool = False,
    ) -> str:
        element = Element(
            id,
            name,
            "boundaryEvent",
            self.elements[host].lane,
            "event",
            _timer(id, date, duration, cycle),
            host=host,
        )
        element.attrs["attachedToRef"] = host
        element.attrs["cancelActivity"] = "true" if interrupting else "false"
        self.elements[id] = element
        return id

    def boundary_message(
        self,
        id: str,
        name: str,
        host: str,
        message: str,
        variable: str,
        *,
        interrupting: bool = True,
    ) -> str:
        body = (
            f'<bpmn:messageEventDefinition id="{id}_def" messageRef="{self.message_ref(message)}">'
            "<bpmn:extensionElements><spiffworkflow:messageVariable>"
            f"{_text(variable)}</spiffworkflow:messageVariable></bpmn:extensionElements>"
            "</bpmn:messageEventDefinition>"
        )
        element = Element(
            id, name, "boundaryEvent", self.elements[host].lane, "event", body, host=host
        )
        element.attrs["attachedToRef"] = host
        element.attrs["cancelActivity"] = "true" if interrupting else "false"
        self.elements[id] = element
        return id

    def alerted(self, timer: str, name: str = "Alerts raised") -> str:
        """An end event right after a non-interrupting deadline timer: the alerts of its ladder
        are the host's job; the path itself just ends."""
        end = self.end(f"{timer}_passed", name, lane=self.elements[timer].lane)
        self.flow(timer, end)
        return end

    def flow(self, source: str, target: str, condition: str | None = None, name: str = "") -> str:
        flow_id = f"flow_{source}_to_{target}"
        if any(f.id == flow_id for f in self.flows):
            flow_id += f"_{len(self.flows)}"
        self.flows.append(Flow(flow_id, source, target, condition, name))
        return flow_id

    def chain(self, *ids: str) -> None:
        for source, target in pairwise(ids):
            self.flow(source, target)

    def default(self, gateway: str, target: str, name: str = "") -> None:
        flow_id = self.flow(gateway, target, name=name)
        self.elements[gateway].attrs["default"] = flow_id

    # -- layout --------------------------------------------------------------------------------

    def layout(self) -> dict[str, float]:
        nodes = [e for e in self.elements.values() if e.host is None]
        outgoing: dict[str, list[str]] = {e.id: [] for e in self.elements.values()}
        for flow in self.flows:
            source = self.elements[flow.source]
            outgoing[source.host or source.id].append(flow.target)
        layer: dict[str, int] = {}
        back_edges: set[tuple[str, str]] = set()
        state: dict[str, int] = {}

        def visit(node: str) -> None:
            state[node] = 1
            for target in outgoing[node]:
                if state.get(target) == 1:
                    back_edges.add((node, target))
                elif state.get(target) is None:
                    visit(target)
            state[node] = 2

        starts = [e.id for e in nodes if e.kind == "startEvent"]
        for start in starts:
            if start not in state:
                visit(start)
        for element in nodes:
            if element.id not in state:
                visit(element.id)
        # Longest path over the forward edges, in topological order.
        order: list[str] = []
        seen: set[str] = set()

        def topo(node: str) -> None:
            seen.add(node)
            for target in outgoing[node]:
                if (node, target) not in back_edges and target not in seen:
                    topo(target)
            order.append(node)

        for element in nodes:
            if element.id not in seen:
                topo(element.id)
        order.reverse()
        for node in order:
            layer.setdefault(node, 0)
            for target in outgoing[node]:
                if (node, target) not in back_edges:
                    layer[target] = max(layer.get(target, 0), layer[node] + 1)

        # Tracks: a branch keeps its row from split to join, so long flows run along free rows.
        # A split's first successor stays on its track, the others (and what a boundary event
        # leads to) open new tracks below.
        incoming_forward: dict[str, list[str]] = {e.id: [] for e in nodes}
        boundary_targets: set[str] = set()
        for flow in self.flows:
            source = self.elements[flow.source]
            owner = source.host or source.id
            if (owner, flow.target) not in back_edges:
                incoming_forward[flow.target].append(owner)
                if source.host:
                    boundary_targets.add(flow.target)
        track: dict[str, int] = {}
        taken: set[tuple[str, int, int]] = set()
        next_track: dict[str, int] = {lane: 0 for lane in self.lanes}
        children_seen: dict[str, int] = {}

        def claim(element: Element, wanted: int) -> int:
            slot = wanted
            while (element.lane, layer[element.id], slot) in taken:
                slot += 1
            taken.add((element.lane, layer[element.id], slot))
            next_track[element.lane] = max(next_track[element.lane], slot + 1)
            return slot

        for node_id in order:
            element = self.elements[node_id]
            preds = [p for p in incoming_forward[node_id] if p in track]
            same_lane = [p for p in preds if self.elements[p].lane == element.lane]
            if not preds:
                wanted = 0
            elif node_id in boundary_targets and not same_lane:
                wanted = next_track[element.lane]
            elif same_lane:
                parent = min(same_lane, key=lambda p: track[p])
                index = children_seen.get(parent, 0)
                if len(incoming_forward[node_id]) == 1:
                    children_seen[parent] = index + 1
                wanted = track[parent] if index == 0 else next_track[element.lane]
                if node_id in boundary_targets:
                    wanted = max(wanted, track[parent] + 1)
            else:
                wanted = 0
            track[node_id] = claim(element, wanted)
        lane_rows = {lane: max(next_track[lane], 1) for lane in self.lanes}
        lane_top: dict[str, float] = {}
        y = TOP
        for lane in self.lanes:
            lane_top[lane] = y
            y += lane_rows[lane] * ROW + 2 * PAD
        for element in nodes:
            width, height = element.size
            element.x = LEFT + 40 + layer[element.id] * COLUMN + (COLUMN - width) / 2
            element.y = lane_top[element.lane] + PAD + track[element.id] * ROW + (ROW - height) / 2
        per_host: dict[str, int] = {}
        for element in self.elements.values():
            if element.host:
                host = self.elements[element.host]
                k = per_host.get(host.id, 0)
                per_host[host.id] = k + 1
                element.x = host.x + host.size[0] - 28 - 40 * k
                element.y = host.y + host.size[1] - 18
        self._back_edges = back_edges
        width = LEFT + 40 + (max(layer.values(), default=0) + 1) * COLUMN + 40
        return (
            {"width": width, "height": y - TOP, "lane_top": 0}
            | {f"lane:{lane}": lane_top[lane] for lane in self.lanes}
            | {f"rows:{lane}": lane_rows[lane] for lane in self.lanes}
        )

    def _waypoints(self, flow: Flow) -> list[tuple[float, float]]:
        source, target = self.elements[flow.source], self.elements[flow.target]
        sw, sh = source.size
        tw, th = target.size
        tx1, ty = target.x, target.y + th / 2
        if source.host:  # leave a boundary event downwards
            bx, by = source.x + sw / 2, source.y + sh
            if abs(by - (target.y + th / 2)) < 1 or target.y + th / 2 > by:
                return [(bx, by), (bx, ty), (tx1, ty)]
            return [(bx, by), (bx, by + 20), (tx1 - 20, by + 20), (tx1 - 20, ty), (tx1, ty)]
        sx2, sy = source.x + sw, source.y + sh / 2
        host_of_target_back = (source.host or source.id, target.id) in self._back_edges
        if host_of_target_back or target.x <= source.x:
            below = max(source.y + sh, target.y + th) + 30
            return [
                (source.x + sw / 2, source.y + sh),
                (source.x + sw / 2, below),
                (target.x + tw / 2, below),
                (target.x + tw / 2, target.y + th),
            ]
        if abs(sy - ty) < 1:
            return [(sx2, sy), (tx1, ty)]
        if source.shape == "gateway":  # leave a gateway from its top or bottom
            gx = source.x + sw / 2
            gy = source.y if ty < sy else source.y + sh
            return [(gx, gy), (gx, ty), (tx1, ty)]
        # Run along the source's row, turn just before the target.
        turn = tx1 - 25
        return [(sx2, sy), (turn, sy), (turn, ty), (tx1, ty)]

    # -- XML -------------------------------------------------------------------------------------

    def to_xml(self) -> str:
        box = self.layout()
        collaboration = f"collab_{self.id}"
        participant = f"pool_{self.id}"
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<bpmn:definitions xmlns:bpmn="{BPMN}" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
            'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
            'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'id="{self.id}_definitions" targetNamespace="https://casework.example/bpmn" '
            'exporter="casework" exporterVersion="1">',
            f'  <bpmn:collaboration id="{collaboration}">',
            f'    <bpmn:participant id="{participant}" name={quoteattr(self.name)} '
            f'processRef="{self.id}"/>',
            "  </bpmn:collaboration>",
        ]
        for name, ref in sorted(self.messages.items()):
            out.append(f'  <bpmn:message id="{ref}" name="{name}"/>')
        out.append(
            f'  <bpmn:process id="{self.id}" name={quoteattr(self.name)} isExecutable="true">'
        )
        if self.documentation:
            out.append(f"    <bpmn:documentation>{_text(self.documentation)}</bpmn:documentation>")
        out.append(f'    <bpmn:laneSet id="{self.id}_lanes">')
        for lane in self.lanes:
            out.append(f'      <bpmn:lane id="lane_{self.id}_{lane}" name="{lane}">')
            for element in self.elements.values():
                if element.lane == lane:
                    out.append(f"        <bpmn:flowNodeRef>{element.id}</bpmn:flowNodeRef>")
            out.append("      </bpmn:lane>")
        out.append("    </bpmn:laneSet>")
        incoming: dict[str, list[str]] = {e: [] for e in self.elements}
        outgoing: dict[str, list[str]] = {e: [] for e in self.elements}
        for flow in self.flows:
            incoming[flow.target].append(flow.id)
            outgoing[flow.source].append(flow.id)
        for element in self.elements.values():
            attrs = "".join(f" {k}={quoteattr(v)}" for k, v in element.attrs.items())
            out.append(
                f'    <bpmn:{element.kind} id="{element.id}" name={quoteattr(element.name)}{attrs}>'
            )
            if element.documentation:
                out.append(
                    f"      <bpmn:documentation>{_text(element.documentation)}</bpmn:documentation>"
                )
            before, after = _split_body(element.body)
            if before:
                out.append(f"      {before}")
            for flow_id in incoming[element.id]:
                out.append(f"      <bpmn:incoming>{flow_id}</bpmn:incoming>")
            for flow_id in outgoing[element.id]:
                out.append(f"      <bpmn:outgoing>{flow_id}</bpmn:outgoing>")
            if after:
                out.append(f"      {after}")
            out.append(f"    </bpmn:{element.kind}>")
        for flow in self.flows:
            name = f" name={quoteattr(flow.name)}" if flow.name else ""
            head = f'    <bpmn:sequenceFlow id="{flow.id}"{name} sourceRef="{flow.source}" targetRef="{flow.target}"'
            if flow.condition:
                out.append(head + ">")
                out.append(
                    '      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
                    f"{_text(flow.condition)}</bpmn:conditionExpression>"
                )
                out.append("    </bpmn:sequenceFlow>")
            else:
                out.append(head + "/>")
        out.append("  </bpmn:process>")
        out.append(f'  <bpmndi:BPMNDiagram id="{self.id}_diagram">')
        out.append(f'    <bpmndi:BPMNPlane id="{self.id}_plane" bpmnElement="{collaboration}">')
        width, height = box["width"], box["height"]
        out.append(_shape(participant, 0, TOP, width, height, horizontal=True))
        for lane in self.lanes:
            top = box[f"lane:{lane}"]
            lane_height = box[f"rows:{lane}"] * ROW + 2 * PAD
            out.append(
                _shape(f"lane_{self.id}_{lane}", 30, top, width - 30, lane_height, horizontal=True)
            )
        for element in self.elements.values():
            w, h = element.size
            extra = ' isMarkerVisible="true"' if element.kind == "exclusiveGateway" else ""
            out.append(
                _shape(
                    element.id,
                    element.x,
                    element.y,
                    w,
                    h,
                    extra=extra,
                    label=element.shape != "task",
                )
            )
        for flow in self.flows:
            points = "".join(
                f'<di:waypoint x="{x:.0f}" y="{y:.0f}"/>' for x, y in self._waypoints(flow)
            )
            out.append(
                f'      <bpmndi:BPMNEdge id="{flow.id}_di" bpmnElement="{flow.id}">{points}</bpmndi:BPMNEdge>'
            )
        out.append("    </bpmndi:BPMNPlane>")
        out.append("  </bpmndi:BPMNDiagram>")
        out.append("</bpmn:definitions>")
        return "\n".join(out) + "\n"


def _split_body(body: str) -> tuple[str, str]:
    """Extension elements come before incoming/outgoing; event definitions, scripts and loop
    characteristics after them (the BPMN schema's order)."""
    if body.startswith("<bpmn:extensionElements>"):
        end = body.index("</bpmn:extensionElements>") + len("</bpmn:extensionElements>")
        return body[:end], body[end:]
    return "", body


def _timer(id: str, date: str | None, duration: str | None, cycle: str | None) -> str:
    if date:
        inner = f'<bpmn:timeDate xsi:type="bpmn:tFormalExpression">{_text(date)}</bpmn:timeDate>'
    elif duration:
        inner = f'<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{_text(duration)}</bpmn:timeDuration>'
    elif cycle:
        inner = f'<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">{_text(cycle)}</bpmn:timeCycle>'
    else:
        raise ValueError("a timer needs a date, a duration or a cycle")
    return f'<bpmn:timerEventDefinition id="{id}_def">{inner}</bpmn:timerEventDefinition>'


def _shape(
    element: str,
    x: float,
    y: float,
    w: float,
    h: float,
    *,
    horizontal: bool = False,
    extra: str = "",
    label: bool = False,
) -> str:
    orient = ' isHorizontal="true"' if horizontal else ""
    label_xml = (
        f'<bpmndi:BPMNLabel><dc:Bounds x="{x - 30:.0f}" y="{y + h + 4:.0f}" width="{w + 60:.0f}" '
        'height="27"/></bpmndi:BPMNLabel>'
        if label
        else ""
    )
    return (
        f'      <bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}"{orient}{extra}>'
        f'<dc:Bounds x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}"/>{label_xml}'
        "</bpmndi:BPMNShape>"
    )
