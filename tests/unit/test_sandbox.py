"""The restricted environment every BPMN/DMN expression runs in: hostile expressions and scripts
are refused (when compiled, or when run) without side effects, and the ordinary scripts process
designers write still run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.clock import ManualClock
from engine.deadlines.calendars import BusinessCalendar
from engine.spiff.sandbox import (
    MAX_SEQUENCE,
    RestrictedEnvironment,
    SandboxViolation,
    check_expression,
    check_script,
)
from engine.spiff.script_functions import script_functions
from engine.spiff.watchdog import BudgetExceeded, cpu_budget

NOW = datetime(2025, 3, 3, 15, 15, tzinfo=UTC)


@pytest.fixture
def env() -> RestrictedEnvironment:
    return RestrictedEnvironment(script_functions(BusinessCalendar("UTC"), ManualClock(NOW)))


@dataclass
class Outcome:
    """What the sandbox did with a source: objected when compiling it, raised when running it,
    or ran it (``value`` is the expression's value, or the script's context)."""

    objections: list[str]
    error: BaseException | None = None
    value: Any = None

    @property
    def ran(self) -> bool:
        return not self.objections and self.error is None

    @property
    def text(self) -> str:
        if self.objections:
            return "; ".join(self.objections)
        return f"{type(self.error).__name__}: {self.error}"


def attempt(env: RestrictedEnvironment, source: str, mode: str = "eval") -> Outcome:
    objections = check_expression(source) if mode == "eval" else check_script(source)
    context: dict[str, Any] = {}
    try:
        if mode == "eval":
            value = env.evaluate(source, context)
        else:
            env.execute(source, context)
            value = context
    except Exception as exc:
        if objections:
            # What validation rejects, the run-time environment refuses too (it does not trust
            # that validation ran).
            assert isinstance(exc, SandboxViolation), exc
        return Outcome(objections, exc)
    assert not objections, f"{source!r} ran although the check objected: {objections}"
    return Outcome([], None, value)


def refused(env: RestrictedEnvironment, source: str, mode: str = "eval") -> str:
    outcome = attempt(env, source, mode)
    assert not outcome.ran, f"{source!r} ran and gave {outcome.value!r}"
    return outcome.text


# -- hostile expressions --------------------------------------------------------------------

ESCAPES = [
    ("__import__('os').system('id')", '"__import__" is an invalid variable name'),
    ("open('/etc/passwd').read()", "open() is not available"),
    ("().__class__.__base__.__subclasses__()", '"__class__" is an invalid attribute name'),
    ("[].__class__.__mro__[-1].__subclasses__()", '"__class__" is an invalid attribute name'),
    ("(x for x in []).gi_frame.f_back", '"gi_frame" is a restricted name'),
    ("(x for x in []).gi_code", '"gi_code" is a restricted name'),
    ("getattr(1, '__globals__')", "getattr() is not available"),
    ("getattr(now, '__globals__')['__builtins__']", "getattr() is not available"),
    ("now.__globals__", '"__globals__" is an invalid attribute name'),
    ("now.__closure__[0].cell_contents", '"__closure__" is an invalid attribute name'),
    ("(lambda: 0).__code__.co_consts", '"__code__" is an invalid attribute name'),
    ("type(1)", "NameError: name 'type' is not defined"),
    ("type('Escape', (), {})", "NameError: name 'type' is not defined"),
    ("'{0.__class__}'.format(1)", "NotImplementedError: Using the format"),
    ("'{0.__globals__}'.format(now)", "NotImplementedError: Using the format"),
    ("str.format('{0.__class__.__base__}', 1)", "NotImplementedError: Using the format"),
    ("'{x.__class__}'.format_map({'x': 1})", "NotImplementedError: Using the format"),
    ("exec('import os')", "Exec calls are not allowed"),
    ("eval('1')", "Eval calls are not allowed"),
    ("compile('1', 'x', 'eval')", "compile() is not available"),
    ("globals()", "globals() is not available"),
    ("vars()", "vars() is not available"),
    ("locals()", "locals() is not available"),
    ("dir()", "dir() is not available"),
    ("__builtins__", '"__builtins__" is an invalid variable name'),
    ("__builtins__['open']('/etc/passwd')", '"__builtins__" is an invalid variable name'),
    ("_getattr_(now, '__globals__')", '"_getattr_" is an invalid variable name'),
    ("__loader__", '"__loader__" is an invalid variable name'),
    ("breakpoint()", '"breakpoint" is a reserved name'),
    ("help()", "help() is not available"),
    ("input()", "NameError: name 'input' is not defined"),
]


@pytest.mark.parametrize(("source", "why"), ESCAPES, ids=[s for s, _ in ESCAPES])
def test_an_expression_reaching_for_the_system_or_private_attributes_is_refused(
    env: RestrictedEnvironment, source: str, why: str
) -> None:
    assert why in refused(env, source)


SIZE_BOMBS = [
    ("'a' * 10**10", "more than 1000000"),
    ("10**10 * 'a'", "more than 1000000"),
    ("b'a' * 10**10", "more than 1000000"),
    ("[0] * 10**10", "more than 1000000"),
    ("(0,) * 10**10", "more than 1000000"),
    ("[0] * 999999 * 999999", "more than 1000000"),
    ("2 ** 10**8", "bits"),
    ("pow(2, 10**8)", "bits"),
    ("(-3) ** 10**8", "bits"),
    ("1 << 10**9", "bits"),
    ("'x'.ljust(10**10)", "width larger than"),
    ("'x'.rjust(10**10)", "width larger than"),
    ("'x'.center(10**10)", "width larger than"),
    ("'1'.zfill(10**10)", "width larger than"),
    ("'a\\tb'.expandtabs(10**10)", "more than 1000000"),
    ("b'x'.ljust(10**10)", "width larger than"),
    ("'%*d' % (10**9, 1)", "'*' widths"),
    ("'%.*f' % (10**9, 1.0)", "'*' widths"),
    ("f'{1:>1000000000}'", "format widths above 9999"),
    ("f'{1:0>99999}'", "format widths above 9999"),
    ("f'{1:{10**9}}'", "computed format specs"),
    ("f'{1:>{width}}'", "computed format specs"),
    ("'{:>1000000000}'.format(1)", "NotImplementedError: Using the format"),
    ("range(10**9)", "range() object would be to large"),
    ("list(range(10**9))", "range() object would be to large"),
]


@pytest.mark.parametrize(("source", "why"), SIZE_BOMBS, ids=[s for s, _ in SIZE_BOMBS])
def test_an_expression_asking_for_a_gigantic_object_in_one_call_is_refused_before_allocating(
    env: RestrictedEnvironment, source: str, why: str
) -> None:
    started = time.thread_time()

    reason = refused(env, source)

    assert why in reason
    assert "MemoryError" not in reason  # refused up front, not after trying to allocate
    assert time.thread_time() - started < 0.5


# -- hostile scripts --------------------------------------------------------------------------

HOSTILE_SCRIPTS = [
    ("import os\nos.system('id')", "imports are not allowed"),
    ("from os import system\nsystem('id')", "imports are not allowed"),
    ("import subprocess", "imports are not allowed"),
    ("class Escape:\n    pass", "class definitions are not allowed"),
    ("class Escape(Exception):\n    x = 1", "class definitions are not allowed"),
    ("exec('import os')", "Exec calls are not allowed"),
    ("eval('1 + 1')", "Eval calls are not allowed"),
    ("async def f():\n    pass", "AsyncFunctionDef statements are not allowed"),
    ("__builtins__ = {}", '"__builtins__" is an invalid variable name'),
    ("_getattr_ = None", '"_getattr_" is an invalid variable name'),
    ("_write_ = None\nx = {}", '"_write_" is an invalid variable name'),
    (
        "try:\n    1 / 0\nexcept Exception as e:\n    frame = e.__traceback__.tb_frame",
        '"__traceback__" is an invalid attribute name',
    ),
    (
        "def f():\n    yield 1\ng = f()\nglobals_ = g.gi_frame.f_globals",
        '"gi_frame" is a restricted name',
    ),
    ("x = [].__class__.__base__.__subclasses__()", '"__class__" is an invalid attribute name'),
    ("with open('/etc/passwd') as f:\n    secret = f.read()", "open() is not available"),
    ("secret = open('/etc/passwd').read()", "open() is not available"),
    ("setattr(now, '__globals__', {})", "setattr() is not available"),
    ("delattr(now, '__doc__')", "delattr() is not available"),
    ("x = 'a'\nx *= 10**10", "more than 1000000"),
    ("x = [0]\nx *= 10**10", "more than 1000000"),
    ("x = 2\nx **= 10**8", "bits"),
    ("x = 1\nx <<= 10**9", "bits"),
    ("x = '%*d'\nx %= (10**9, 1)", "'*' widths"),
    ("x = 'a'\nx *= 999999\nx *= 2", "more than 1000000"),
    ("for i in range(10**9):\n    pass", "range() object would be to large"),
]


@pytest.mark.parametrize(("source", "why"), HOSTILE_SCRIPTS, ids=[s for s, _ in HOSTILE_SCRIPTS])
def test_a_script_reaching_for_the_system_or_gigantic_objects_is_refused(
    env: RestrictedEnvironment, source: str, why: str
) -> None:
    assert why in refused(env, source, mode="script")


@pytest.mark.parametrize(
    "source",
    [
        "import os\nos.system('touch {target}')",
        "from os import system\nsystem('touch {target}')",
        "import pathlib\npathlib.Path('{target}').touch()",
        "open('{target}', 'w').write('owned')",
        "__import__('os').system('touch {target}')",
        "().__class__.__base__.__subclasses__()",
        "f = open('{target}', 'a')\nf.write('owned')\nf.close()",
        "exec(\"open('{target}', 'w')\")",
    ],
)
def test_a_refused_script_leaves_no_trace_on_the_file_system(
    env: RestrictedEnvironment, tmp_path: Path, source: str
) -> None:
    target = tmp_path / "owned.txt"
    script = source.format(target=target)

    refused(env, script, mode="script")

    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_refused_expression_leaves_no_trace_on_the_file_system(
    env: RestrictedEnvironment, tmp_path: Path
) -> None:
    target = tmp_path / "owned.txt"

    refused(env, f"open({str(target)!r}, 'w').write('owned')")
    refused(env, f"__import__('os').system('touch {target}')")

    assert not target.exists()


def test_a_failed_script_does_not_leak_the_sandbox_into_task_data(
    env: RestrictedEnvironment,
) -> None:
    context: dict[str, Any] = {"case": "A-1"}

    env.execute("x = 1\ndef helper():\n    return 2\ny = helper()", context)

    assert context == {"case": "A-1", "x": 1, "y": 2}


def test_the_checks_name_the_line_of_the_offending_statement() -> None:
    objections = check_script("x = 1\ny = 2\nz = __import__('os')")

    assert objections
    assert all(o.startswith("Line 3:") for o in objections), objections


def test_an_expression_that_does_not_parse_is_an_objection_not_an_exception() -> None:
    assert check_expression("1 +") != []
    assert check_script("def (") != []
    assert check_expression("x = 1") != []  # a statement is not an expression
    assert check_script("x = " + "(" * 500 + "1" + ")" * 500) != []
    assert check_script("x = 1" + " + 1" * 100_000) != []


# -- one-call allocations the watchdog could not interrupt ----------------------------------------

SIZE_BYPASSES = [
    # printf-style formatting with a literal (not '*') width or precision
    "'%2000000d' % 1",
    "'%.2000000f' % 1.0",
    # the width methods reached through the type instead of an instance
    "str.ljust('x', 2000000)",
    "str.center('x', 2000000)",
    "str.zfill('1', 2000000)",
    "str.expandtabs('\\t', 2000000)",
    # a width within the limit, multiplied by the number of tabs
    "('\\t' * 2000).expandtabs(2000)",
    # one C call multiplying two sizes within the limit
    "('a' * 2000).join(['b'] * 2000)",
    "('a' * 2000).replace('', 'b' * 2000)",
    "sum([[0] * 1000000] * 3, [])",
    "(1).to_bytes(2000000, 'big')",
    "('a' * 1000000) + ('a' * 1000000)",
]


@pytest.mark.parametrize("source", SIZE_BYPASSES)
def test_no_single_call_builds_a_sequence_beyond_the_limit(
    env: RestrictedEnvironment, source: str
) -> None:
    outcome = attempt(env, source)

    assert not outcome.ran, f"{source!r} built {len(outcome.value)} items (limit {MAX_SEQUENCE})"


def test_a_modular_power_too_costly_to_interrupt_is_refused_or_stopped_within_budget(
    env: RestrictedEnvironment,
) -> None:
    started = time.thread_time()

    try:
        with cpu_budget(0.1):
            env.evaluate("pow(3, pow(2, 200), pow(10, 25000))", {})
    except (SandboxViolation, BudgetExceeded):
        pass

    used = time.thread_time() - started
    assert used < 0.6, f"one expression used {used:.1f} s of CPU against a 0.1 s budget"


# -- ordinary scripts still work --------------------------------------------------------------

ORDINARY_EXPRESSIONS = [
    ("2 * 3", 6),
    ("'ab' * 3", "ababab"),
    ("[0] * 3", [0, 0, 0]),
    ("7 % 3", 1),
    ("2 ** 10", 1024),
    ("pow(2, 10, 1000)", 24),
    ("1 << 4", 16),
    ("'%05d-%s' % (42, 'x')", "00042-x"),
    ("'%(a)s' % {'a': 1}", "1"),
    ("'x'.ljust(5, '.')", "x...."),
    ("'7'.zfill(3)", "007"),
    ("f'{3.14159:.2f}'", "3.14"),
    ("f'{42:>8}'", "      42"),
    ("f'{\"case\"!r}'", "'case'"),
    ("divmod(17, 5)", (3, 2)),
    ("round(2.675, 1)", 2.7),
    ("abs(-3) + len('abc') + int('4') + float('0.5')", 10.5),
    ("sorted([3, 1, 2], reverse=True)", [3, 2, 1]),
    ("sum(x * x for x in range(4))", 14),
    ("min([4, 2, 8]) + max(4, 9)", 11),
    ("any(x > 2 for x in [1, 3]) and all([True, 1])", True),
    ("list(zip('ab', [1, 2]))", [("a", 1), ("b", 2)]),
    ("dict(enumerate('ab'))", {0: "a", 1: "b"}),
    ("{'a': 1} | {'b': 2}", {"a": 1, "b": 2}),
    ("sorted({1, 2} | set([3]))", [1, 2, 3]),
    ("' Ana, Ben '.strip().split(', ')", ["Ana", "Ben"]),
    ("'-'.join(['a', 'b']).upper()", "A-B"),
    ("'serious' if 3 < 6 else 'moderate'", "serious"),
    ("isinstance(3, int) and not isinstance('3', int)", True),
    ("[1, 2, 3][1:]", [2, 3]),
    ("'P1' in ('P1', 'P2')", True),
    ("(lambda n: n + 1)(1)", 2),
    ("duration(hours=72)", "PT72H"),
    ("add_business_days('2025-03-07', 1)", "2025-03-10"),
    ("add_hours('2025-03-03T15:15:00Z', 24)", "2025-03-04T15:15:00+00:00"),
    ("days_between('2025-03-01', '2025-03-03')", 2),
    ("is_working_day('2025-03-08')", False),
    ("today()", "2025-03-03"),
    ("now()", "2025-03-03T15:15:00+00:00"),
]


@pytest.mark.parametrize(
    ("source", "expected"), ORDINARY_EXPRESSIONS, ids=[s for s, _ in ORDINARY_EXPRESSIONS]
)
def test_an_ordinary_expression_is_accepted_and_evaluates_as_in_python(
    env: RestrictedEnvironment, source: str, expected: Any
) -> None:
    assert check_expression(source) == []
    assert env.evaluate(source, {}) == expected


def test_an_ordinary_script_with_loops_comprehensions_and_helpers_runs(
    env: RestrictedEnvironment,
) -> None:
    script = """
total = 0
for person in people:
    total += person["age"]
names = sorted(p["name"] for p in people)
young = [p["name"] for p in people if p["age"] < 6]
counts = {}
for p in people:
    counts[p["role"]] = counts.get(p["role"], 0) + 1
roles = {role: n for role, n in counts.items()}
summary = f"{len(people)} people, youngest {min(p['age'] for p in people)}"
first, *rest = names
a, b = divmod(total, 10)
steps = 0
while True:
    steps += 1
    if steps >= 3:
        break
def label(p):
    return p["name"].upper()
labels = [label(p) for p in people]
try:
    int("not a number")
except ValueError:
    parsed = False
seen = set()
seen |= {"Ana"}
items = []
items += [1]
items.append(2)
items.extend([3])
flags = {"screened": True}
flags.update({"urgent": False})
due = add_business_days("2025-03-07", 1)
window = duration(hours=72)
deadline = add_hours(received_at, 24)
"""
    context: dict[str, Any] = {
        "received_at": "2025-03-03T15:15:00Z",
        "people": [
            {"name": "Ben", "age": 5, "role": "child"},
            {"name": "Ana", "age": 3, "role": "child"},
            {"name": "Maria", "age": 34, "role": "caregiver"},
        ],
    }
    assert check_script(script) == []

    env.execute(script, context)

    assert context["total"] == 42
    assert context["names"] == ["Ana", "Ben", "Maria"]
    assert context["young"] == ["Ben", "Ana"]
    assert context["counts"] == context["roles"] == {"child": 2, "caregiver": 1}
    assert context["summary"] == "3 people, youngest 3"
    assert (context["first"], context["rest"]) == ("Ana", ["Ben", "Maria"])
    assert (context["a"], context["b"]) == (4, 2)
    assert context["steps"] == 3
    assert context["labels"] == ["BEN", "ANA", "MARIA"]
    assert context["parsed"] is False
    assert context["seen"] == {"Ana"}
    assert context["items"] == [1, 2, 3]
    assert context["flags"] == {"screened": True, "urgent": False}
    assert context["due"] == "2025-03-10"
    assert context["window"] == "PT72H"
    assert context["deadline"] == "2025-03-04T15:15:00+00:00"
    assert "label" not in context  # functions never end up in task data
    assert not any(key.startswith("_") for key in context)


def test_a_script_may_build_a_sequence_up_to_the_limit(env: RestrictedEnvironment) -> None:
    context: dict[str, Any] = {}

    env.execute(f"x = 'a' * {MAX_SEQUENCE}\ny = [0] * {MAX_SEQUENCE}\nn = len(x) + len(y)", context)

    assert context["n"] == 2 * MAX_SEQUENCE


def test_task_data_may_not_shadow_a_helper_function(env: RestrictedEnvironment) -> None:
    with pytest.raises(ValueError, match="overwrites a predefined function"):
        env.execute("x = now()", {"now": "2000-01-01"})
