"""Recently run workflows, kept deserialized in this process, each under the version of the
instance row it was stored at.

Reading an instance's state back into SpiffWorkflow objects costs as much as writing it, and
grows with the instance's history; most steps on an instance follow one another in the same
server process. So a workflow whose step committed is kept here, tagged with the instance row's
``lock_version`` and definition version as committed. The next step takes it only if the row
it has just locked carries the same two values: any other writer (another process, a
migration, a compaction) moves ``lock_version`` on, and a stale copy is never used.

A workflow is taken out while it runs, so two threads never share one, and it comes back only
when the unit of work that ran it commits (``UnitOfWork.after_commit``): a step that fails or
rolls back leaves nothing behind, and the next one reads the row.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

DEFAULT_SIZE = 512
# Memory goes with tasks more than with workflows (one instance may hold a thousand): the cache
# keeps at most this many tasks in all, about 100 MB.
MAX_TASKS = 50_000


@dataclass(frozen=True)
class StoredAt:
    """The instance row a workflow matches: its lock version and definition version."""

    lock_version: int
    version_id: int


class WorkflowCache:
    def __init__(self, size: int = DEFAULT_SIZE, max_tasks: int = MAX_TASKS) -> None:
        self._size = size
        self._max_tasks = max_tasks
        self._tasks = 0
        self._kept: OrderedDict[uuid.UUID, tuple[StoredAt, Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def take(self, instance_id: uuid.UUID, stored_at: StoredAt) -> Any | None:
        """The kept workflow of an instance whose row is ``stored_at``, removed from the cache
        (it is about to change); None if none is kept or the kept one is of another row."""
        with self._lock:
            kept = self._pop(instance_id)
            if kept is not None and kept[0] == stored_at:
                self.hits += 1
                return kept[1]
            self.misses += 1
            return None

    def keep(self, instance_id: uuid.UUID, stored_at: StoredAt, workflow: Any) -> None:
        tasks = len(workflow.tasks) + sum(len(s.tasks) for s in workflow.subprocesses.values())
        with self._lock:
            self._pop(instance_id)
            self._kept[instance_id] = (stored_at, workflow, tasks)
            self._tasks += tasks
            while len(self._kept) > self._size or (
                self._tasks > self._max_tasks and len(self._kept) > 1
            ):
                _, (_, _, dropped) = self._kept.popitem(last=False)
                self._tasks -= dropped

    def forget(self, instance_id: uuid.UUID) -> None:
        with self._lock:
            self._pop(instance_id)

    def _pop(self, instance_id: uuid.UUID) -> tuple[StoredAt, Any, int] | None:
        kept = self._kept.pop(instance_id, None)
        if kept is not None:
            self._tasks -= kept[2]
        return kept

    def __len__(self) -> int:
        return len(self._kept)
