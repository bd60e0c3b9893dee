"""Decision tables that fail loudly.

SpiffWorkflow returns no outputs at all when no rule matches, and treats UNIQUE as "first
match" without checking that only one row matched. A missing output then surfaces much later
as a confusing NameError in a gateway. Here an unmatched input, or two matching rows under
UNIQUE, is an error of the business-rule task itself, naming the table and the rows.
"""

from __future__ import annotations

import re
from typing import Any

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.specs.model import HitPolicy

SUPPORTED_HIT_POLICIES = frozenset({"UNIQUE", "FIRST", "COLLECT"})

# The same rule the engine applies: a '?' outside quotes stands for the input value.
_PLACEHOLDER = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


class DecisionError(Exception):
    pass


def input_cell_expression(input_expression: str, cell: str) -> str:
    """The Python expression the engine evaluates for one input cell, for checking ahead."""
    if _PLACEHOLDER.search(cell):
        return _PLACEHOLDER.sub(f"({input_expression})", cell)
    try:
        compile(cell, "<cell>", "eval")
    except SyntaxError:
        # Exactly what the engine evaluates: the two texts side by side, no space between.
        return input_expression + cell
    return f"({input_expression}) == ({cell})"


class StrictDecisionEngine(DMNEngine):
    def __init__(self, decision_table: Any, title: str = "") -> None:
        super().__init__(decision_table)
        self.title = title or decision_table.name or decision_table.id  # the decision's name

    def decide(self, task: Any) -> list[Any]:
        table = self.decision_table
        policy = table.hit_policy
        if policy == HitPolicy.UNIQUE.value:
            # Evaluate every row (the stock engine stops at the first) to enforce uniqueness.
            table.hit_policy = "FIRST"
            try:
                rules = super().decide(task)
            finally:
                table.hit_policy = policy
            if len(rules) > 1:
                rows = ", ".join(str(r.row_number) for r in rules)
                raise DecisionError(
                    f"decision table {table.name or table.id!r} has hit policy UNIQUE "
                    f"but rows {rows} all match"
                )
        else:
            rules = super().decide(task)
        if not rules:
            inputs = ", ".join(i.expression or i.label or "?" for i in table.inputs)
            raise DecisionError(
                f"no rule of decision table {table.name or table.id!r} matches the inputs "
                f"({inputs})"
            )
        # Kept with the task (and so in the instance's state) so that the record can say why:
        # the inputs the table saw, the rows that matched and what their annotations say.
        applied = rules if policy == HitPolicy.COLLECT.value else rules[:1]
        task.internal_data[EXPLANATION] = {
            "table": self.title,
            "inputs": {_input_label(i): _evaluated(task, i.expression) for i in table.inputs},
            # The outputs' labels, as the designer wrote them in the table's header.
            "labels": {o.name: o.label or o.name for o in table.outputs if o.name},
            "rules": [{"row": r.row_number, "annotation": r.description or ""} for r in applied],
        }
        return rules


EXPLANATION = "casework_explanation"


def _input_label(column: Any) -> str:
    return str(column.label or column.expression or column.id)


def _evaluated(task: Any, expression: str | None) -> Any:
    """An input's value as the table read it, as plain JSON (None if it cannot be read)."""
    if not expression:
        return None
    try:
        value = task.workflow.script_engine.evaluate(task, expression)
    except Exception:
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
