"""What casework makes of BPMN and DMN it did not write: each file of the shared corpora (and of
any folder given) validated on its own, and either accepted (it compiles, its scenarios pass
and validation's walk runs it) or refused, counted by the first reason given.

    .venv/bin/python bench/corpora.py [FOLDER...]     # default: ../shared/corpora

The README's figures come from this script; tests/integration/test_corpora.py keeps them from
getting worse."""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.definitions.bundle import Bundle, kind_of  # noqa: E402
from engine.definitions.versions import check  # noqa: E402

# The first matching phrase of the first problem names the category.
CATEGORIES = (
    ("in no lane", "a user task no one can take (no lane, no candidate group)"),
    ("no role casework knows", "a lane or candidate group that is no casework role"),
    ("decision table alone", "a decision table without a process"),
    ("decision service", "DMN beyond decision tables"),
    ("business knowledge model", "DMN beyond decision tables"),
    ("decision tables only", "DMN beyond decision tables"),
    ("requires another decision", "DMN beyond decision tables"),
    ("dry run", "fails when run (reads data only its own tests supply)"),
    ("service tasks", "service tasks"),
    ("runs no listeners", "listeners (Java or scripts beside the flow)"),
    ("formKey", "a form casework cannot show (formKey)"),
    ("data stores", "data stores"),
    ("no executable process", "no executable process"),
    ("this is FEEL", "FEEL or JUEL beyond what casework translates"),
    ("this is JUEL", "FEEL or JUEL beyond what casework translates"),
    ("script", "scripts casework does not run"),
    ("which is not in the bundle", "a call to a process in another file"),
    ("which no .dmn file", "a call to a decision in another file"),
    ("message", "messages"),
    ("needs a condition", "a flow out of a gateway without a condition"),
    ("multiinstance", "multi-instance without its input"),
    ("not well-formed", "not well-formed XML"),
)


def category(message: str) -> str:
    return next((said for phrase, said in CATEGORIES if phrase in message), "other")


def main(folders: list[Path]) -> None:
    files = sorted(
        p
        for f in folders
        for p in f.rglob("*")
        if p.is_file() and kind_of(p.name) in {"bpmn", "dmn"}
    )
    refused: Counter[str] = Counter()
    accepted = 0
    started = time.perf_counter()
    for path in files:
        checked = check(Bundle({path.name: path.read_bytes()}))
        if checked.problems:
            refused[category(checked.problems[0].message)] += 1
        else:
            accepted += 1
    print(f"{len(files)} files in {', '.join(str(f) for f in folders)}")
    print(f"{accepted:4d} accepted: they compile and validation's walk runs them")
    print(f"{sum(refused.values()):4d} refused, each with its file, element and reason:")
    for said, count in refused.most_common():
        print(f"{count:8d}  {said}")
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    given = [Path(a) for a in sys.argv[1:]] or [ROOT.parent / "shared" / "corpora"]
    main(given)
