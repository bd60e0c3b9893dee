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


def _guarded_mul(left: Any, right: Any) -> Any:
    for seq, count in ((left, right), (right, left)):
        size = _size(seq)
        if size is not None and isinstance(count, int) and size * count > MAX_SEQUENCE:
            raise SandboxViolation(f"result would hold more than {MAX_SEQUENCE} items")
    return left * right


def _guarded_pow(base: Any, exponent: Any, modulus: Any = None) -> Any:
    if modulus is None and isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if abs(base) > 1 and exponent * abs(base).bit_length() > MAX_INT_BITS:
            raise SandboxViolation(f"result would exceed {MAX_INT_BITS} bits")
    return pow(base, exponent) if modulus is None else pow(base, exponent, modulus)


def _guarded_lshift(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and right > MAX_INT_BITS:
        raise SandboxViolation(f"result would exceed {MAX_INT_BITS} bits")
    return left << right


def _guarded_mod(left: Any, right: Any) -> Any:
    # printf-style '*' widths come from the arguments and could ask for any size.
    if isinstance(left, str | bytes) and ("*" in left if isinstance(left, str) else b"*" in left):
        raise SandboxViolation("'*' widths in %-formatting are not allowed")
    return left % right


_GUARDED_BINOPS: dict[type[ast.operator], Callable[..., Any]] = {
    ast.Mult: _guarded_mul,
    ast.Pow: _guarded_pow,
    ast.LShift: _guarded_lshift,
    ast.Mod: _guarded_mod,
}
_BINOP_NAMES = {ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Mod: "_mod_"}

_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
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
_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})


def _guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    attribute = safer_getattr(obj, name, default)
    if isinstance(obj, str | bytes) and name in _WIDTH_METHODS:

        def limited(*args: Any) -> Any:
            if any(isinstance(a, int) and a > MAX_SEQUENCE for a in args):
                raise SandboxViolation(f"width larger than {MAX_SEQUENCE}")
            return attribute(*args)

        return limited
    return attribute


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    try:
        return _INPLACE[op](target, value)
    except KeyError:
        raise SandboxViolation(f"operator {op} is not allowed") from None


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


_ALLOWED_BUILTINS = {
    name: value for name, value in safe_builtins.items() if name not in {"__build_class__"}
}
_ALLOWED_BUILTINS.update(
    {
        "range": limited_range,
        "pow": _guarded_pow,
        "sum": sum,
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

_GUARDS: dict[str, Any] = {
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
}


def check_expression(source: str) -> list[str]:
    """The sandbox's objections to an expression, empty when it compiles."""
    return _compile(source, "eval")[1]


def check_script(source: str) -> list[str]:
    """The sandbox's objections to a script, empty when it compiles."""
    return _compile(source, "exec")[1]


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
