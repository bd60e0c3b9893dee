"""Engine state stored incrementally: a finished task is converted and stored once.

SpiffWorkflow's serializer converts every task of a workflow to a dict and encodes the whole
document at each dump, so storing a step cost as much as the instance's history (1,000
finished tasks: ~20 ms to dump and ~450 KB to write, each step). A finished task (completed,
cancelled, errored) does not change again, so here:

- ``dump`` writes the workflow's own fields and its unfinished tasks as the *head* (the
  instance row's ``state``), and hands back the tasks finished since the last dump as rows of
  their own (``finished_tasks``), each the library's own JSON of the task, written once;
- a task's JSON text is kept on the task object, so a workflow kept in memory between steps
  (``engine.spiff.workflow_cache``) converts only what changed;
- ``assemble`` puts the head and the rows back together into the document the library's
  serializer reads, tasks in the order the workflow created them (a task's data is stored as
  its changes from its parent's, so parents must be read first).

Each task carries a sequence number (its place in creation order), given at the first dump
that sees it: the head records those of its tasks, each row its own. A head written before
this scheme (no numbers) is read in its own order, every task in it. ``tests/unit/
test_state_json.py`` checks, over random runs of the shipped diagrams, that head and rows
assemble to exactly the full dump.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.spiff.task_walk import SETTLED

# The task mappings of the dump in progress, by the token standing for each in the head.
_deferred: ContextVar[dict[str, tuple[str, Mapping[uuid.UUID, Task]]] | None] = ContextVar(
    "casework_deferred_tasks", default=None
)
_KEPT = "_casework_json"  # (what the text was written from, the text)
_SEQ = "_casework_seq"
_STORED = "_casework_stored"  # the task's text is in a row
_SEQS_KEY = "casework_seq"  # in the head: {tree: {task id: seq}}
_NEXT_KEY = "casework_next_seq"
_ROWS_KEY = "casework_rows"  # how many finished-task rows the head goes with
TOP = ""  # the tree of the process itself; a subprocess's is its calling task's id


@dataclass(frozen=True)
class FinishedRow:
    task_id: uuid.UUID
    tree: str
    seq: int
    body: str


@dataclass
class StoredState:
    """What a dump stores: the head, and the change to the instance's finished-task rows."""

    head: str
    finished: list[FinishedRow] = field(default_factory=list)
    # Rows to remove: tasks the workflow no longer holds, or whose text must be written
    # again (in ``finished`` too); all of them when ``replace_all``.
    removed: list[uuid.UUID] = field(default_factory=list)
    replace_all: bool = False


class DeferredTasks:
    """Mixed into the workflow converters: while ``dump`` runs, a workflow's task mapping is
    left out of its dict as a token, written afterwards task by task."""

    def mapping_to_dict(self, mapping: Mapping[Any, Any], **kwargs: Any) -> Any:
        deferred = _deferred.get()
        first = next(iter(mapping.values()), None)
        if deferred is not None and isinstance(first, Task):
            tree = (
                TOP
                if first.workflow is first.workflow.top_workflow
                else str(first.workflow.parent_task_id)
            )
            token = f"casework-tasks-{uuid.uuid4().hex}"
            deferred[token] = (tree, mapping)
            return token
        return super().mapping_to_dict(mapping, **kwargs)  # type: ignore[misc]


def dump(serializer: BpmnWorkflowSerializer, workflow: Any) -> StoredState:
    """The workflow's head, and its tasks finished since the last dump as rows."""
    registry = serializer.registry
    encoder = serializer._encoder_cls
    stored = StoredState("", replace_all=workflow.__dict__.pop("_casework_rewrite", False))
    with _deferring() as deferred:
        registry._encoder_mode = True
        try:
            dct = serializer.to_dict(workflow)
            dct[serializer.VERSION_KEY] = serializer.VERSION
            writer = _TaskWriter(workflow, registry, encoder, stored)
            texts = {token: writer.tree(tree, tasks) for token, (tree, tasks) in deferred.items()}
            dct[_SEQS_KEY] = writer.seqs
            dct[_NEXT_KEY] = workflow._casework_next_seq
            dct[_ROWS_KEY] = len(workflow._casework_stored_ids)
            head = json.dumps(dct, cls=encoder)
        finally:
            registry._encoder_mode = False
    for token, text in texts.items():
        head = head.replace(json.dumps(token), text, 1)
    stored.head = head
    writer.forget_gone()
    return stored


class _TaskWriter:
    def __init__(self, workflow: Any, registry: Any, encoder: Any, stored: StoredState) -> None:
        self.workflow = workflow
        self.registry = registry
        self.encoder = encoder
        self.stored = stored
        self.seqs: dict[str, dict[str, int]] = {}
        self.present = 0  # stored tasks the workflow still holds
        if stored.replace_all:
            workflow._casework_stored_ids = set()
        workflow.__dict__.setdefault("_casework_next_seq", 0)
        workflow.__dict__.setdefault("_casework_stored_ids", set())

    def tree(self, tree: str, tasks: Mapping[uuid.UUID, Task]) -> str:
        """The head's JSON of one tree's tasks; its newly finished ones become rows."""
        workflow, stored = self.workflow, self.stored
        stored_ids: set[uuid.UUID] = workflow._casework_stored_ids
        seqs = self.seqs.setdefault(tree, {})
        parts = []
        for task_id, task in tasks.items():
            held = task.__dict__
            if SETTLED in held and held.get(_STORED) and not stored.replace_all:
                self.present += 1  # settled and stored: nothing of it can have moved
                continue
            seq = held.get(_SEQ)
            if seq is None:
                seq = workflow._casework_next_seq
                workflow._casework_next_seq = seq + 1
                setattr(task, _SEQ, seq)
            text, rewritten = self._text(task)
            in_row = stored.replace_all is False and task.__dict__.get(_STORED, False)
            if task._state & TaskState.FINISHED_MASK:
                self.present += 1
                if in_row:
                    if not rewritten:
                        continue
                    stored.removed.append(task_id)
                stored.finished.append(FinishedRow(task_id, tree, seq, text))
                setattr(task, _STORED, True)
                stored_ids.add(task_id)
                continue
            if in_row:  # not finished after all: back in the head
                stored.removed.append(task_id)
                setattr(task, _STORED, False)
                stored_ids.discard(task_id)
            seqs[str(task_id)] = seq
            parts.append(f'"{task_id}": {text}')
        return "{" + ", ".join(parts) + "}"

    def _text(self, task: Task) -> tuple[str, bool]:
        """The task's JSON text, and whether it differs from text kept for it before. Only a
        finished task's text is kept: an unfinished one's data moves with its parent's."""
        if not task._state & TaskState.FINISHED_MASK:
            return json.dumps(self.registry.convert(task), cls=self.encoder), False
        written_from = _written_from(task)
        kept = task.__dict__.get(_KEPT)
        if kept is not None and kept[0] == written_from:
            return kept[1], False
        text = json.dumps(self.registry.convert(task), cls=self.encoder)
        setattr(task, _KEPT, (written_from, text))
        return text, kept is not None

    def forget_gone(self) -> None:
        """Rows of tasks the workflow no longer holds (the library dropped them) go."""
        stored_ids: set[uuid.UUID] = self.workflow._casework_stored_ids
        if self.present != len(stored_ids):
            held = {
                task_id
                for sub in (self.workflow, *self.workflow.subprocesses.values())
                for task_id in sub.tasks
            }
            gone = stored_ids - held
            self.stored.removed.extend(gone)
            stored_ids -= gone


@contextmanager
def _deferring() -> Iterator[dict[str, tuple[str, Mapping[uuid.UUID, Task]]]]:
    deferred: dict[str, tuple[str, Mapping[uuid.UUID, Task]]] = {}
    token = _deferred.set(deferred)
    try:
        yield deferred
    finally:
        _deferred.reset(token)


def read(
    head: str, rows: Iterable[Any] | Callable[[], Iterable[Any]]
) -> tuple[dict[str, Any], list[Any]]:
    """``assemble`` from a head and its rows, or what reads them (asked only when the head
    goes with rows); returns the document and the rows."""
    dct: dict[str, Any] = json.loads(head)
    if callable(rows):
        rows = rows() if dct.get(_ROWS_KEY) else []
    found = list(rows)
    return _assembled(dct, found), found


def assemble(head: str, rows: Iterable[Any]) -> dict[str, Any]:
    """The document the library's serializer reads, from a head and its instance's rows
    (anything with ``task_id``, ``tree``, ``seq`` and ``body``): each tree's tasks in creation
    order. The sequence numbers stay in the document under ``casework_seq``, for ``adopt``."""
    return _assembled(json.loads(head), list(rows))


def self_contained(head: str, rows: Iterable[Any]) -> str:
    """A head holding every task, that goes with no rows (to copy an instance whole)."""
    dct = assemble(head, rows)
    for key in (_SEQS_KEY, _NEXT_KEY, _ROWS_KEY):
        dct.pop(key, None)
    return json.dumps(dct)


def _assembled(dct: dict[str, Any], rows: list[Any]) -> dict[str, Any]:
    expected = dct.get(_ROWS_KEY) or 0
    if len(rows) != expected:
        raise ValueError(f"the state goes with {expected} finished tasks; {len(rows)} were found")
    seqs: dict[str, dict[str, int]] = dct.get(_SEQS_KEY) or {}
    by_tree: dict[str, list[tuple[int, str, Any]]] = {}
    for row in rows:
        by_tree.setdefault(row.tree, []).append((row.seq, str(row.task_id), row.body))
    trees = [(TOP, dct), *dct.get("subprocesses", {}).items()]
    for tree, tree_dct in trees:
        found = by_tree.get(tree)
        tree_seqs = seqs.get(tree)
        if not found and tree_seqs is None:
            continue  # a head from before rows: complete, in order
        entries = [
            (seq, task_id, json.loads(body) if isinstance(body, str) else body)
            for seq, task_id, body in found or []
        ]
        entries += [((tree_seqs or {}).get(t, 0), t, d) for t, d in tree_dct["tasks"].items()]
        entries.sort(key=lambda entry: entry[0])
        tree_dct["tasks"] = {task_id: task for _, task_id, task in entries}
    return dct


def adopt(workflow: Any, dct: Mapping[str, Any], rows: list[Any], *, stored: bool = True) -> None:
    """After the library read an assembled document: each task knows its sequence number,
    and those read from rows know they are stored (with their text, so it is not converted
    again), so the next dump writes only what changes. With ``stored`` False (the document
    was changed after it was read) the next dump writes every row again."""
    seqs: dict[str, dict[str, int]] = dct.get(_SEQS_KEY) or {}
    trees: dict[str, Any] = {TOP: workflow, **{str(k): v for k, v in workflow.subprocesses.items()}}
    for tree_key, tree_seqs in seqs.items():
        for task_id, seq in tree_seqs.items():
            held = trees[tree_key].tasks.get(uuid.UUID(task_id)) if tree_key in trees else None
            if held is not None:
                setattr(held, _SEQ, seq)
    stored_ids: set[uuid.UUID] = set()
    for row in rows:
        tree = trees.get(row.tree)
        task = tree.tasks.get(row.task_id) if tree is not None else None
        if task is None:
            continue
        setattr(task, _SEQ, row.seq)
        if not stored:
            continue
        setattr(task, _STORED, True)
        setattr(task, _KEPT, (_written_from(task), row.body))
        stored_ids.add(row.task_id)
    workflow._casework_next_seq = dct.get(_NEXT_KEY) or 0
    workflow._casework_stored_ids = stored_ids
    if not stored and rows:
        workflow._casework_rewrite = True


def _written_from(task: Any) -> tuple[Any, ...]:
    # What a task's kept text was written from; anything else moving means writing it again.
    # (Children are only appended, with a new id, or removed: count and last tell.)
    children = task._children
    return task._state, task.last_state_change, len(children), children[-1] if children else None
