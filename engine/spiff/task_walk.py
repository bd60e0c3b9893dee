"""A cheaper walk of SpiffWorkflow's task trees, yielding the same tasks in the same order.

SpiffWorkflow finds ready, waiting and unfinished tasks by walking the whole task tree, several
times per engine run (``do_engine_steps``, ``update_waiting_tasks``, ``is_completed``...). Its
iterator keeps the tasks still to visit in a list it pops from the front, and recomputes its
depth after every leaf by climbing the leaf's ancestors, so one walk of an instance holding a
thousand finished tasks costs about 10 ms on a 2-core server, and an engine run takes many.
That made a step's cost grow with the instance's history.

Here the same depth-first walk keeps a stack of (task, depth) pairs: a pop from the end and no
climbing. The order, the filter, the states it descends through, ``end_at_spec``, ``max_depth``
and the BPMN iterator's descent into subprocesses are those of the library's iterator; only the
depth is exact where the library's can overshoot (leaving a subprocess for a task that is not
the subprocess task's own child), which matters only past ``max_depth`` (1000), deeper than
casework lets an instance go (``runtime.DEPTH_LIMIT``). Breadth-first walks keep the library's
code. ``tests/unit/test_task_walk.py`` compares both walks over real and random trees.

Installed once by the runtime, like the clock hook: SpiffWorkflow's modules name its iterator
classes directly, so the classes' methods are what can be replaced.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator, TaskState

SETTLED = "_casework_settled"
# A task with many children (a multi-instance activity's instances) keeps the few of them not
# settled, so a walk does not step over all the others each time.
_OPEN = "_casework_open"
_MANY_CHILDREN = 16
_STOCK = {
    TaskIterator: (TaskIterator.__init__, TaskIterator._next),
    BpmnTaskIterator: (BpmnTaskIterator.__init__, BpmnTaskIterator._next),
}


def _init(stock_init: Any) -> Any:
    def __init__(self: Any, task: Any, *args: Any, **kwargs: Any) -> None:
        stock_init(self, task, *args, **kwargs)
        # The stack holds the tasks still to visit, the next one last.
        self._stack = [(task, 0)] if self.depth_first else None
        # A walk for unfinished tasks has nothing to find below a settled task.
        self._prune = not self.task_filter.state & TaskState.FINISHED_MASK

    return __init__


def mark_settled(workflow: Any) -> None:
    """Mark the tasks whose whole subtree is finished (``SETTLED``), so that walks looking for
    unfinished tasks skip them. A finished task never runs again and never gains a child (the
    library adds children to a task as it completes, while its new children are unfinished),
    so a mark stays true; tasks that hold a subprocess are never marked. Tasks are kept in
    creation order, children after their parent: one pass from the end sees children first,
    and skips what is already marked."""
    subprocesses = workflow.subprocesses
    for tree in (workflow, *subprocesses.values()):
        tasks = tree.tasks
        for task in reversed(tasks.values()):
            if SETTLED in task.__dict__:
                continue
            children = task._children
            if len(children) > _MANY_CHILDREN:
                mark = _children_mark(children)
                kept = task.__dict__.get(_OPEN)
                if kept is not None and kept[0] == mark:
                    candidates = kept[1]
                else:
                    candidates = [tasks.get(c) for c in children]
                open_children = [
                    child
                    for child in candidates
                    if child is not None and SETTLED not in child.__dict__
                ]
                setattr(task, _OPEN, (mark, open_children))
                settled = not open_children
            else:
                settled = all(SETTLED in getattr(tasks.get(c), "__dict__", ()) for c in children)
            if settled and task._state & TaskState.FINISHED_MASK and task.id not in subprocesses:
                setattr(task, SETTLED, True)


def _children_mark(children: list[Any]) -> tuple[int, Any]:
    # Children are only ever appended (a new id, last) or removed: this tells a changed list.
    return len(children), children[-1] if children else None


def _children_to_visit(walk: Any, task: Any) -> list[Any]:
    if not walk._prune:
        return task.children
    kept = task.__dict__.get(_OPEN)
    if kept is not None and kept[0] == _children_mark(task._children):
        return [child for child in kept[1] if SETTLED not in child.__dict__]
    return [child for child in task.children if SETTLED not in child.__dict__]


def _tree_next(self: Any) -> Any:
    stack = self._stack
    if stack is None:
        return _STOCK[TaskIterator][1](self)
    if not stack:
        raise StopIteration()
    task, depth = stack.pop()
    self.depth = depth
    if (
        task._children
        and task.state >= self.min_state
        and depth < self.max_depth
        and task.task_spec.name != self.end_at_spec
    ):
        below = depth + 1
        stack.extend((child, below) for child in reversed(_children_to_visit(self, task)))
    return task


def _bpmn_next(self: Any) -> Any:
    stack = self._stack
    if stack is None:
        return _STOCK[BpmnTaskIterator][1](self)
    if not stack:
        raise StopIteration()
    task, depth = stack.pop()
    self.depth = depth
    subprocess = task.workflow.top_workflow.subprocesses.get(task.id)
    if (
        (task._children or subprocess is not None)
        and (task.state >= self.min_state or subprocess is not None)
        and depth < self.max_depth
        and task.task_spec.name != self.end_at_spec
    ):
        below = depth + 1
        stack.extend((child, below) for child in reversed(_children_to_visit(self, task)))
        # A finished subprocess is not searched for unfinished tasks (as the library does).
        if subprocess is not None and not (
            self.skip_subprocesses
            or (
                task.state >= TaskState.FINISHED_MASK
                and self.task_filter.state <= TaskState.FINISHED_MASK
            )
        ):
            stack.append((subprocess.task_tree, below))
    return task


def install() -> None:
    """Idempotent; called when a runtime is built, never at import."""
    if getattr(TaskIterator, "_casework_walk", False):
        return
    _replace()


def _replace() -> None:
    TaskIterator.__init__ = _init(_STOCK[TaskIterator][0])
    TaskIterator._next = _tree_next
    BpmnTaskIterator.__init__ = _init(_STOCK[BpmnTaskIterator][0])
    BpmnTaskIterator._next = _bpmn_next
    TaskIterator._casework_walk = True


@contextmanager
def stock() -> Iterator[None]:
    """The library's own walk while the block runs (the engine bench's stock step)."""
    installed = getattr(TaskIterator, "_casework_walk", False)
    for iterator_class, (init, step) in _STOCK.items():
        iterator_class.__init__ = init
        iterator_class._next = step
    TaskIterator._casework_walk = False
    try:
        yield
    finally:
        if installed:
            _replace()


def stock_walk(iterator_class: Any, task: Any, **kwargs: Any) -> list[Any]:
    """The library's own walk, for comparison (tests and the engine bench)."""
    walk = object.__new__(iterator_class)
    _STOCK[iterator_class][0](walk, task, **kwargs)
    walk._stack = None
    found: list[Any] = []
    while True:
        try:
            candidate = _STOCK[iterator_class][1](walk)
        except StopIteration:
            return found
        if walk.task_filter.matches(candidate):
            found.append(candidate)
