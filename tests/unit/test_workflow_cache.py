"""The cache of deserialized workflows: a copy is taken only under the row version it was kept
at, taking removes it, and memory is bounded by tasks as well as by workflows."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from engine.spiff.workflow_cache import StoredAt, WorkflowCache


def _workflow(tasks: int) -> SimpleNamespace:
    return SimpleNamespace(tasks=dict.fromkeys(range(tasks)), subprocesses={})


def test_a_copy_is_taken_once_and_only_under_its_row_version() -> None:
    cache = WorkflowCache()
    instance, workflow = uuid.uuid4(), _workflow(3)
    cache.keep(instance, StoredAt(lock_version=4, version_id=1), workflow)
    assert cache.take(instance, StoredAt(5, 1)) is None  # the row moved on: stale, dropped
    assert cache.take(instance, StoredAt(4, 1)) is None  # and it is gone
    cache.keep(instance, StoredAt(5, 1), workflow)
    assert cache.take(instance, StoredAt(5, 2)) is None  # migrated to another version
    cache.keep(instance, StoredAt(6, 2), workflow)
    assert cache.take(instance, StoredAt(6, 2)) is workflow
    assert cache.take(instance, StoredAt(6, 2)) is None  # taken: another step must read the row
    assert (cache.hits, cache.misses) == (1, 4)


def test_memory_is_bounded_by_workflows_and_by_tasks() -> None:
    by_count = WorkflowCache(size=2)
    ids = [uuid.uuid4() for _ in range(3)]
    for instance in ids:
        by_count.keep(instance, StoredAt(1, 1), _workflow(1))
    assert len(by_count) == 2 and by_count.take(ids[0], StoredAt(1, 1)) is None

    by_tasks = WorkflowCache(max_tasks=100)
    by_tasks.keep(ids[0], StoredAt(1, 1), _workflow(60))
    by_tasks.keep(ids[1], StoredAt(1, 1), _workflow(30))
    by_tasks.take(ids[0], StoredAt(1, 1))  # used: it goes out while it runs
    by_tasks.keep(ids[0], StoredAt(2, 1), _workflow(60))  # and comes back, the newest
    by_tasks.keep(ids[2], StoredAt(1, 1), _workflow(30))  # 120 tasks: the oldest goes
    assert by_tasks.take(ids[1], StoredAt(1, 1)) is None
    assert by_tasks.take(ids[0], StoredAt(2, 1)) is not None
