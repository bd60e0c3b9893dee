"""The restricted environment every BPMN and DMN expression runs in.

SpiffWorkflow evaluates conditions, scripts, timer expressions, DMN cells, multi-instance
collections and message payloads with plain ``eval``/``exec``. Uploading a diagram would then be
uploading code that can reach the operating system. Here every expression is compiled by
RestrictedPython, sees only a whitelist of builtins and casework's helper functions, cannot
touch private or frame attributes, and cannot ask for gigantic objects in one C call (which the
CPU watchdog could not interrupt).
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import CodeType
from typing import Any

from RestrictedPython import (
    RestrictingNodeTransformer,
    compile_restricted_eval,
    compile_restricted_exec,
)
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.Limits import limited_range
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment

# The largest sequence or string an expression may build in one operation, and the largest
# integer (in bits) it may compute with ``**`` or ``<<``.
MAX_SEQUENCE = 1_000_000
MAX_INT_BITS = 100_000


class SandboxViolation(Exception):
    """An expression was refused by the sandbox (at compile time or at run time)."""


def _size(value: Any) -> int | None:
    if isinstance(value, str | bytes | list | tuple):
        return len(value)
    return None


def _too_long(size: int) -> SandboxViolation:
    return SandboxViolation(f"result would hold {size} items, more than {MAX_SEQUENCE}")


def _guarded_mul(left: Any, right: Any) -> Any:
    for seq, count in ((left, right), (right, left)):
        size = _size(seq)
        if size is not None and isinstance(count, int) and size * count > MAX_SEQUENCE:
            raise _too_long(size * count)
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise SandboxViolation(f"result would exceed {MAX_INT_BITS} bits")
    return left * right


def _guarded_add(left: Any, right: Any) -> Any:
    left_size, right_size = _size(left), _size(right)
    if left_size is not None and right_size is not None and left_size + right_size > MAX_SEQUENCE:
        raise _too_long(left_size + right_size)
    return left + right


MAX_MODULAR_BITS = 4096


def _guarded_pow(base: Any, exponent: Any, modulus: Any = None) -> Any:
    if modulus is not None:
        # Cost grows with the exponent's and the modulus's sizes, in one C call.
        if any(
            isinstance(v, int) and v.bit_length() > MAX_MODULAR_BITS for v in (exponent, modulus)
        ):
            raise SandboxViolation(f"modular powers are limited to {MAX_MODULAR_BITS}-bit numbers")
    elif isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if abs(base) > 1 and exponent * abs(base).bit_length() > MAX_INT_BITS:
            raise SandboxViolation(f"result would exceed {MAX_INT_BITS} bits")
    return pow(base, exponent) if modulus is None else pow(base, exponent, modulus)


def _guarded_lshift(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and right > MAX_INT_BITS:
        raise SandboxViolation(f"result would exceed {MAX_INT_BITS} bits")
    return left << right


_PRINTF_SPEC = re.compile(r"%[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")
MAX_WIDTH = 9999


def _guarded_mod(left: Any, right: Any) -> Any:
    # printf-style widths and precisions would let one call build a string of any size.
    if isinstance(left, str | bytes):
        text = left if isinstance(left, str) else left.decode("latin-1")
        for width, precision in _PRINTF_SPEC.findall(text):
            for value in (width, precision):
                if value == "*":
                    raise SandboxViolation("'*' widths in %-formatting are not allowed")
                if value and int(value) > MAX_WIDTH:
                    raise SandboxViolation(f"%-format widths above {MAX_WIDTH} are not allowed")
    return left % right


_BINOP_NAMES = {
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
    ast.Add: "_add_",
}

_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": _guarded_add,
    "-=": operator.isub,
    "*=": _guarded_mul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": _guarded_mod,
    "**=": _guarded_pow,
    "<<=": _guarded_lshift,
    ">>=": operator.irshift,
    "|=": operator.ior,
    "&=": operator.iand,
    "^=": operator.ixor,
}

# String methods whose argument is a width: one call could allocate gigabytes.
_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill"})


def _is_text(obj: Any) -> bool:
    return isinstance(obj, str | bytes) or (isinstance(obj, type) and issubclass(obj, str | bytes))


def _limit_widths(method: Any) -> Any:
    def limited(*args: Any) -> Any:
        if any(isinstance(a, int) and a > MAX_SEQUENCE for a in args):
            raise SandboxViolation(f"width larger than {MAX_SEQUENCE}")
        return method(*args)

    return limited


def _limit_expandtabs(obj: Any, method: Any) -> Any:
    def limited(*args: Any, **kwargs: Any) -> Any:
        text = obj if not isinstance(obj, type) else (args[0] if args else "")
        size = args[-1] if args and not isinstance(args[-1], str | bytes) else 8
        tabsize = kwargs.get("tabsize", size)
        tabs = text.count("\t") if isinstance(text, str) else text.count(b"\t")
        if isinstance(tabsize, int) and (tabs + 1) * max(tabsize, 1) + len(text) > MAX_SEQUENCE:
            raise _too_long(tabs * tabsize)
        return method(*args, **kwargs)

    return limited


def _limit_join(separator: Any, method: Any) -> Any:
    def limited(items: Any) -> Any:
        items = list(items)
        size = sum(len(i) for i in items if isinstance(i, str | bytes))
        size += len(separator) * max(len(items) - 1, 0)
        if size > MAX_SEQUENCE:
            raise _too_long(size)
        return method(items)

    return limited


def _limit_replace(text: Any, method: Any) -> Any:
    def limited(old: Any, new: Any, count: int = -1) -> Any:
        occurrences = len(text) + 1 if not old else text.count(old)
        if count >= 0:
            occurrences = min(occurrences, count)
        size = len(text) + occurrences * max(len(new) - len(old), 0)
        if size > MAX_SEQUENCE:
            raise _too_long(size)
        return method(old, new, count)

    return limited


def _limit_to_bytes(method: Any) -> Any:
    def limited(length: int = 1, *args: Any, **kwargs: Any) -> Any:
        if isinstance(length, int) and length > MAX_SEQUENCE:
            raise _too_long(length)
        return method(length, *args, **kwargs)

    return limited


def _guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    attribute = safer_getattr(obj, name, default)
    if _is_text(obj):
        if name in _WIDTH_METHODS:
            return _limit_widths(attribute)
        if name == "expandtabs":
            return _limit_expandtabs(obj, attribute)
        if not isinstance(obj, type):
            if name == "join":
                return _limit_join(obj, attribute)
            if name == "replace":
                return _limit_replace(obj, attribute)
        elif name in ("join", "replace"):
            raise SandboxViolation(f"call {name} on a value, not on the type")
    if isinstance(obj, int) and name == "to_bytes":
        return _limit_to_bytes(attribute)
    return attribute


def _guarded_sum(items: Any, start: Any = 0) -> Any:
    if not isinstance(start, int | float):
        raise SandboxViolation("sum() adds numbers; build lists with comprehensions")
    return sum(items, start)


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    try:
        return _INPLACE[op](target, value)
    except KeyError:
        raise SandboxViolation(f"operator {op} is not allowed") from None


# Builtins RestrictedPython does not offer, named so that validation reports them instead of
# the script failing with a NameError when it first runs.
UNAVAILABLE_NAMES = frozenset(
    {
        "open",
        "getattr",
        "setattr",
        "delattr",
        "eval",
        "exec",
        "compile",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "exit",
        "quit",
        "memoryview",
        "dir",
        "help",
        "bytearray",
        "bytes",
    }
)
# Errors a script may catch. Never BaseException or anything above Exception: the watchdog's
# interruption must reach the engine.
CATCHABLE = frozenset(
    {
        "Exception",
        "ArithmeticError",
        "ZeroDivisionError",
        "ValueError",
        "TypeError",
        "KeyError",
        "IndexError",
        "LookupError",
        "AttributeError",
        "NameError",
        "OverflowError",
    }
)


class CaseworkPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus size guards on the operators that can allocate without
    bound and no format specs that could ask for huge widths."""

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        name = _BINOP_NAMES.get(type(node.op))
        if name is None:
            return node
        func = ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)
        call = ast.Call(func=func, args=[node.left, node.right], keywords=[])
        return ast.copy_location(call, node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        if node.format_spec is not None:
            for part in ast.walk(node.format_spec):
                if isinstance(part, ast.FormattedValue):
                    self.error(node, "computed format specs are not allowed")
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    digits = "".join(c if c.isdigit() else " " for c in part.value).split()
                    if any(len(d) > 4 for d in digits):
                        self.error(node, "format widths above 9999 are not allowed")
        return self.node_contents_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "class definitions are not allowed in process scripts")
        return node

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, "imports are not allowed in process scripts; use the helper functions")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, "imports are not allowed in process scripts; use the helper functions")
        return node

    def visit_Name(self, node: ast.Name) -> Any:
        if isinstance(node.ctx, ast.Load) and node.id in UNAVAILABLE_NAMES:
            self.error(node, f"{node.id}() is not available in process scripts")
        return super().visit_Name(node)

    def visit_Try(self, node: ast.Try) -> Any:
        # The CPU watchdog stops a runaway script by raising inside it; a script must not be
        # able to catch that, so it may only catch ordinary errors, by name.
        if node.finalbody:
            self.error(node, "'finally' is not allowed in process scripts")
        for handler in node.handlers:
            caught = handler.type
            names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
            if caught is None or not all(
                isinstance(n, ast.Name) and n.id in CATCHABLE for n in names
            ):
                self.error(
                    handler,
                    "a script may only catch named errors: " + ", ".join(sorted(CATCHABLE)),
                )
        return super().visit_Try(node)

    def visit_TryStar(self, node: Any) -> Any:
        self.error(node, "'except*' is not allowed in process scripts")
        return node


_ALLOWED_BUILTINS = {
    name: value
    for name, value in safe_builtins.items()
    if name
    not in {"__build_class__", "BaseException", "GeneratorExit", "KeyboardInterrupt", "SystemExit"}
}
_ALLOWED_BUILTINS.update(
    {
        "range": limited_range,
        "pow": _guarded_pow,
        "sum": _guarded_sum,
        "min": min,
        "max": max,
        "any": any,
        "all": all,
        "sorted": sorted,
        "dict": dict,
        "list": list,
        "tuple": tuple,
        "set": set,
        "frozenset": frozenset,
        "enumerate": enumerate,
        "zip": zip,
    }
)


def _apply(function: Any, *args: Any, **kwargs: Any) -> Any:
    # RestrictedPython routes a call with *args or **kwargs through here; the function and its
    # arguments are already what the script could reach, so the call is made as written.
    return function(*args, **kwargs)


_GUARDS: dict[str, Any] = {
    "_apply_": _apply,
    "_getattr_": _guarded_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_mul_": _guarded_mul,
    "_pow_": _guarded_pow,
    "_lshift_": _guarded_lshift,
    "_mod_": _guarded_mod,
    "_add_": _guarded_add,
}


def check_expression(source: str) -> list[str]:
    """The sandbox's objections to an expression, empty when it compiles."""
    return _compile(source, "eval")[1]


def check_script(source: str) -> list[str]:
    """The sandbox's objections to a script, empty when it compiles."""
    return _compile(source, "exec")[1]


# An ISO 8601 duration, date or cycle written where a timer wants an expression: it reads as
# a Python name (PT24H) or does not parse, and fails on every run.
_ISO_TIMER_VALUE = re.compile(
    r"(R\d*/)?(P(\d+[YMWD])*(T(\d+(\.\d+)?[HMS])+)?|\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-][\d:]+)?)?)"
    r"(/\S+)?"
)


def bare_timer_value(source: str) -> str | None:
    """Why a timer expression that is a bare ISO 8601 value cannot run, or None."""
    text = source.strip()
    if not _ISO_TIMER_VALUE.fullmatch(text) or text in ("P", "PT"):
        return None
    return (
        f"{text} is an ISO 8601 value, but a timer holds an expression that is evaluated: "
        f'write it in quotes ("{text}"), or use duration(hours=…), add_days(…), end_of_day(…)'
    )


def unavailable_calls(source: str, mode: str, helpers: frozenset[str]) -> list[str]:
    """Functions a script or expression calls that no run can reach (print, open, a function
    of another system): not a helper, not an allowed builtin, not defined by the script."""
    try:
        tree = ast.parse(source, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # the compiler says what is wrong with it
    nodes = list(ast.walk(tree))
    defined = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    defined |= {n.name for n in nodes if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    defined |= {n.arg for n in nodes if isinstance(n, ast.arg)}  # a parameter may be a function
    defined |= {n.name for n in nodes if isinstance(n, ast.ExceptHandler) and n.name}
    called = {n.func.id for n in nodes if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    missing = sorted(called - helpers - defined - set(_ALLOWED_BUILTINS))
    return [
        f"{name}() cannot be called from a process: "
        + (
            "a script's output goes nowhere; keep what you want to see in a variable"
            if name == "print"
            else "scripts call casework's helpers (add_days, end_of_day, duration, …) and "
            "Python's safe builtins, never other functions or systems"
        )
        for name in missing
    ]


@lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> tuple[CodeType | None, list[str]]:
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        # '<string>' keeps SpiffWorkflow's line-number lookup for script errors working.
        result = compiler(source, filename="<string>", policy=CaseworkPolicy)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        return None, [f"{type(exc).__name__}: {exc}"]
    errors = list(result.errors)
    if result.code is None and not errors:
        errors = ["expression does not compile"]
    return result.code, errors


def _compiled(source: str, mode: str) -> CodeType:
    code, errors = _compile(source, mode)
    if errors or code is None:
        raise SandboxViolation("; ".join(errors))
    return code


class RestrictedEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment with RestrictedPython in place of eval/exec."""

    def __init__(self, helpers: Mapping[str, Any]) -> None:
        super().__init__({"__builtins__": _ALLOWED_BUILTINS, **_GUARDS, **helpers})
        self.helper_names = frozenset(helpers)

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: Any = None
    ) -> Any:
        code = _compiled(expression, "eval")
        scope = {**context, **(external_context or {}), **self.globals}
        return eval(code, scope)  # noqa: S307 - restricted code object, guarded globals

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        code = _compiled(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        context.update(external_context or {})
        context.update(self.globals)
        try:
            exec(code, context)  # noqa: S102 - restricted code object, guarded globals
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
            for key in [k for k in context if k.startswith("_")]:
                context.pop(key)
        return True


def objection_to(kind: str, source: str, helpers: frozenset[str]) -> str | None:
    """What validation would say of one expression, script or timer expression as a designer
    types it (the properties panel asks), or None."""
    mode = "exec" if kind == "script" else "eval"
    if kind == "timer" and (bare := bare_timer_value(source)):
        return bare
    objections = check_script(source) if mode == "exec" else check_expression(source)
    objections = objections or unavailable_calls(source, mode, helpers)
    return "; ".join(objections) or None
