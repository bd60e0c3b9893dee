"""Expressions written for Camunda 7, Zeebe and Flowable become the Python casework runs, or are
refused with a sentence naming the part casework cannot run: never a silent change of meaning."""

from __future__ import annotations

from typing import Any

import pytest

from engine.spiff.decisions import input_cell_expression
from engine.spiff.dialects.expressions import (
    NotRunnable,
    Translated,
    condition,
    output_entry,
    unary_tests,
)


def evaluate_cell(cell: str, value: Any) -> Any:
    """What the engine decides for one input cell, the input being ``value``."""
    return eval(input_cell_expression("value", cell), {}, {"value": value})


# --- Conditions ---------------------------------------------------------------------------

CASEWORK_CONDITIONS = [
    "approved == True",
    "supervisor_approval == True",
    'screening_decision == "SCREEN_IN" and supervisor_approval == False',
    "not approved",
    'reassessed_risk in ("LOW", "MODERATE") and unresolved_threats == False',
    "safety_reassessment_due is not None",
    "True",
    "cpi_screening_due",
    "PT5M",
]


@pytest.mark.parametrize("text", CASEWORK_CONDITIONS)
def test_casework_conditions_pass_unchanged(text: str) -> None:
    translated = condition(text)
    assert translated == Translated(text, "Python")
    assert not translated.changed


def test_python_is_handed_back_stripped() -> None:
    assert condition("  approved == True \n") == Translated("approved == True", "Python")


JUEL_CONDITIONS = [
    ("${approved}", "approved"),
    ("#{approved}", "approved"),
    ("${ approved }", "approved"),
    ("${!approved}", "not approved"),
    ("${not approved}", "not approved"),
    ("${amount > 1000 && status == 'open'}", "amount > 1000 and status == 'open'"),
    ('${amount > 1000 and status == "open"}', 'amount > 1000 and status == "open"'),
    ("${a || b && c}", "a or b and c"),
    ("${(a || b) && c}", "(a or b) and c"),
    ("${a or b}", "a or b"),
    ("${a eq 1 or b ne 2}", "a == 1 or b != 2"),
    ("${a lt 1 && b le 2 && c gt 3 && d ge 4}", "a < 1 and b <= 2 and c > 3 and d >= 4"),
    ("${a != b}", "a != b"),
    ("${a <= b}", "a <= b"),
    ("${a >= b}", "a >= b"),
    ("${a.b.c}", 'a["b"]["c"]'),
    ("${case.risk.level == 'HIGH'}", 'case["risk"]["level"] == \'HIGH\''),
    ("${true}", "True"),
    ("${false == a}", "False == a"),
    ("${x == null}", "x is None"),
    ("${x != null}", "x is not None"),
    ("${null == x}", "x is None"),
    ("${empty x}", 'x in (None, "", [], {})'),
    ("${!empty x}", 'not (x in (None, "", [], {}))'),
    ("${not empty x}", 'not (x in (None, "", [], {}))'),
    ("${empty a.b}", 'a["b"] in (None, "", [], {})'),
    ("${!a == b}", "(not a) == b"),
    ("${!(a == b)}", "not (a == b)"),
    ("${!!a}", "not (not a)"),
    ("${-5 < x}", "-5 < x"),
    ("${x > -1.5}", "x > -1.5"),
    ("${a - -5}", "a - -5"),
    ("${- -a}", "-(-a)"),
    ("${a + b * c}", "a + b * c"),
    ("${(a + b) * c > 20}", "(a + b) * c > 20"),
    ("${a - (b - c)}", "a - (b - c)"),
    ("${a / (b * c)}", "a / (b * c)"),
    ("${a div 2}", "a / 2"),
    ("${count + 1 > 3}", "count + 1 > 3"),
    ("${(a == b) == c}", "(a == b) == c"),
    ("${007 == x}", "7 == x"),
    ("${x > 1.5e3}", "x > 1.5e3"),
    ("${x == 'it\\'s'}", 'x == "it\'s"'),
    ('${x == "say \\"hi\\""}', "x == 'say \"hi\"'"),
]


@pytest.mark.parametrize(("text", "python"), JUEL_CONDITIONS)
def test_juel_conditions_are_translated(text: str, python: str) -> None:
    translated = condition(text)
    assert translated == Translated(python, "JUEL")
    assert translated.changed
    compile(translated.python, "<x>", "eval")


FEEL_CONDITIONS = [
    ("=approved", "approved"),
    ("= approved", "approved"),
    ('= amount > 1000 and status = "open"', 'amount > 1000 and status == "open"'),
    ("= a or b and c", "a or b and c"),
    ("= (a or b) and c", "(a or b) and c"),
    ("= a != 1", "a != 1"),
    ("= a < 1 and b <= 2 and c > 3 and d >= 4", "a < 1 and b <= 2 and c > 3 and d >= 4"),
    ("= a.b.c = 3", 'a["b"]["c"] == 3'),
    ("= approved = true", "approved == True"),
    ("= x = null", "x is None"),
    ("= x != null and y", "x is not None and y"),
    ("= not(approved)", "not approved"),
    ("= not(a and b)", "not (a and b)"),
    ("= not(a = b)", "not (a == b)"),
    ("= not(a) = b", "(not a) == b"),
    ("= not(a) and b", "not a and b"),
    ("= x between 1 and 10", "1 <= x <= 10"),
    ("= x between 1 and 10 and y", "1 <= x <= 10 and y"),
    ("= x + 1 between low and high", "low <= x + 1 <= high"),
    ('= x in ["a","b"]', 'x in ("a", "b")'),
    ('= x in ["a"]', 'x in ("a",)'),
    ('= x in ("a","b")', 'x in ("a", "b")'),
    ('= x in ("a","b") or y', 'x in ("a", "b") or y'),
    ("= x in [1..5]", "1 <= x <= 5"),
    ("= x in (1..5]", "1 < x <= 5"),
    ("= x in [1..5)", "1 <= x < 5"),
    ("= x in < 5", "x < 5"),
    ("= x in (< 5, > 10)", "(x < 5) or (x > 10)"),
    ("= x in (< 5, > 10) and y", "((x < 5) or (x > 10)) and y"),
    ("= (a + b) * c > 20", "(a + b) * c > 20"),
    ("= a - (b - c) = 2", "a - (b - c) == 2"),
    ("= -x < -1", "-x < -1"),
    ('= "a" + b = "ab"', '"a" + b == "ab"'),
    ("= 007 = x", "7 == x"),
    ("= x > .5", "x > .5"),
]


@pytest.mark.parametrize(("text", "python"), FEEL_CONDITIONS)
def test_feel_conditions_are_translated(text: str, python: str) -> None:
    translated = condition(text)
    assert translated == Translated(python, "FEEL")
    assert translated.changed
    compile(translated.python, "<x>", "eval")


CONDITION_REFUSALS = [
    ("${execution.getVariable('x')}", "JUEL", "a method call: execution.getVariable('x')"),
    ("${obj.method()}", "JUEL", "a method call: obj.method()"),
    ("${f(x)}", "JUEL", "a function call: f(x)"),
    ("${execution.processBusinessKey}", "JUEL", "execution object: execution.processBusinessKey"),
    ("${a ? b : c}", "JUEL", "the conditional operator ? :"),
    ("${a}${b}", "JUEL", "text and expressions joined together: ${a}${b}"),
    ("Approved: ${a}", "JUEL", "text and expressions joined together: Approved: ${a}"),
    ("${a", "JUEL", "an expression without its closing brace"),
    ("${}", "JUEL", "an empty expression"),
    ("${a % 2 == 0}", "JUEL", "the remainder operator %"),
    ("${a mod 2 == 0}", "JUEL", "the remainder operator mod"),
    ("${class}", "JUEL", "a name Python reserves: class"),
    ("${lambda == 1}", "JUEL", "a name Python reserves: lambda"),
    ("${True}", "JUEL", "a name Python reserves: True"),
    ("${a$b}", "JUEL", "a name Python cannot use: a$b"),
    ("${a < b < c}", "JUEL", "a chain of comparisons: a < b < c"),
    ("${a == b == c}", "JUEL", "a chain of comparisons"),
    ("${a = b}", "JUEL", "a single = (JUEL compares with ==)"),
    ("${a[0]}", "JUEL", "an index or filter: a[0]"),
    ("${a['b']}", "JUEL", "an index or filter: a['b']"),
    ("${a instanceof b}", "JUEL", "a type test with instanceof"),
    ("${a; b}", "JUEL", "several statements"),
    ("${'a' + b}", "JUEL", "a + between texts"),
    ('${x == "a\\nb"}', "JUEL", "the escape \\n in a text"),
    ("${a b}", "JUEL", "an unexpected 'b' after 'a'"),
    ("${a &&}", "JUEL", "an expression that stops short: a &&"),
    ("${a ~ b}", "JUEL", "the character '~'"),
    ("=", "FEEL", "an empty expression"),
    ("= if a then b else c", "FEEL", "an if expression"),
    ("= for x in y return x", "FEEL", "a for expression"),
    ("= some x in y satisfies x > 1", "FEEL", "a some/every expression"),
    ("= every x in y satisfies x > 1", "FEEL", "a some/every expression"),
    ("= {a: 1}", "FEEL", "a context"),
    ("= [1, 2]", "FEEL", "a list"),
    ('= date("2020-01-01") > d', "FEEL", 'a function call: date("2020-01-01")'),
    ("= now() > d", "FEEL", "a function call: now()"),
    ('= duration("PT5M")', "FEEL", 'a function call: duration("PT5M")'),
    ("= string length(a) > 3", "FEEL", "a name with spaces: string length"),
    ("= Customer Age > 18", "FEEL", "a name with spaces: Customer Age"),
    ("= lambda", "FEEL", "a name Python reserves: lambda"),
    ("= a = b = c", "FEEL", "a chain of comparisons"),
    ("= a == b", "FEEL", "the operator == (FEEL compares with =)"),
    ("= a && b", "FEEL", "the operator && (FEEL writes and)"),
    ("= a || b", "FEEL", "the operator || (FEEL writes or)"),
    ("= !a", "FEEL", "the operator ! (FEEL writes not(...))"),
    ("= not a", "FEEL", "not without parentheses"),
    ("= a[1]", "FEEL", "an index or filter: a[1]"),
    ("= a instance of string", "FEEL", "an instance of test"),
    ("= x ** 2 > 4", "FEEL", "the power operator **"),
    ("= 1e3 > x", "FEEL", "a number with an exponent: 1e3"),
    ("= x in y", "FEEL", "an in test comparing with a variable: y"),
    ("= x in [a, b]", "FEEL", "an in test comparing with a variable: a"),
    ("= x in [null..5]", "FEEL", "a range with a true, false or null end"),
    ("= x < null", "FEEL", "an ordering comparison with null"),
    ('= d > @"2020-01-01"', "FEEL", "a date or time written with @"),
    ("= `a b` > 1", "FEEL", "a name in backticks"),
    ("= ? > 1", "FEEL", "the input placeholder ? outside a cell"),
    ('= x = "open', "FEEL", "a text without its closing quote"),
]


@pytest.mark.parametrize(("text", "language", "part"), CONDITION_REFUSALS)
def test_conditions_outside_the_subset_are_refused(text: str, language: str, part: str) -> None:
    with pytest.raises(NotRunnable) as refused:
        condition(text)
    message = str(refused.value)
    assert message.startswith(f"this is {language} that casework does not run (")
    assert part in message
    assert message.endswith(
        "write it as a Python expression over the process's data, for example approved == True"
    )
    assert refused.value.language == language
    assert refused.value.text == text.strip()


def test_a_refusal_is_one_sentence_a_designer_can_act_on() -> None:
    with pytest.raises(NotRunnable) as refused:
        condition("${execution.getVariable('x')}")
    assert str(refused.value) == (
        "this is JUEL that casework does not run (a method call: execution.getVariable('x')): "
        "write it as a Python expression over the process's data, for example approved == True"
    )
    assert isinstance(refused.value, ValueError)
    assert refused.value.reason == "a method call: execution.getVariable('x')"


CONDITION_MEANINGS = [
    ("${approved}", {"approved": True}, True),
    ("${approved}", {"approved": False}, False),
    ("${!approved}", {"approved": False}, True),
    ("${amount > 1000 && status == 'open'}", {"amount": 1500, "status": "open"}, True),
    ("${amount > 1000 && status == 'open'}", {"amount": 500, "status": "open"}, False),
    ("${amount > 1000 && status == 'open'}", {"amount": 1500, "status": "closed"}, False),
    ('= amount > 1000 and status = "open"', {"amount": 1500, "status": "open"}, True),
    ('= amount > 1000 and status = "open"', {"amount": 1500, "status": "closed"}, False),
    # JUEL's empty: null, "" and empty collections; 0 and false are values.
    ("${empty x}", {"x": None}, True),
    ("${empty x}", {"x": ""}, True),
    ("${empty x}", {"x": []}, True),
    ("${empty x}", {"x": {}}, True),
    ("${empty x}", {"x": 0}, False),
    ("${empty x}", {"x": False}, False),
    ("${!empty x}", {"x": "text"}, True),
    # ! binds before ==: (!a) == b.
    ("${!a == b}", {"a": True, "b": False}, True),
    ("${!(a == b)}", {"a": True, "b": False}, True),
    ("${!(a == b)}", {"a": True, "b": True}, False),
    ("${a.b.c == 3}", {"a": {"b": {"c": 3}}}, True),
    ("${a - -5 == 8}", {"a": 3}, True),
    ("${(a + b) * c > 20}", {"a": 1, "b": 2, "c": 7}, True),
    ("${a + b * c > 20}", {"a": 1, "b": 2, "c": 7}, False),
    ("${x == null}", {"x": None}, True),
    ("= x between 1 and 5", {"x": 5}, True),
    ("= x between 1 and 5", {"x": 6}, False),
    ('= x in ["a","b"]', {"x": "b"}, True),
    ('= x in ["a","b"]', {"x": "c"}, False),
    # A one-item list stays a tuple: "" is inside the text "a", never inside the list ["a"].
    ('= x in ["a"]', {"x": ""}, False),
    ("= x in (1..5]", {"x": 1}, False),
    ("= x in (1..5]", {"x": 5}, True),
    ("= x in (< 5, > 10) and y", {"x": 11, "y": True}, True),
    ("= x in (< 5, > 10) and y", {"x": 7, "y": True}, False),
    ("= not(a and b)", {"a": True, "b": False}, True),
    ("= a - (b - c) = 2", {"a": 5, "b": 4, "c": 1}, True),
    ("= x != null", {"x": 0}, True),
]


@pytest.mark.parametrize(("text", "data", "expected"), CONDITION_MEANINGS)
def test_translated_conditions_mean_what_they_meant(
    text: str, data: dict[str, Any], expected: bool
) -> None:
    assert eval(condition(text).python, {}, dict(data)) is expected


# --- Input cells --------------------------------------------------------------------------

CASEWORK_CELLS = [
    "-",
    "? >= 18",
    "? < 18",
    '? in ("HIGH", "VERY_HIGH")',
    "True",
    "False",
    "None",
    '"SCREEN_OUT"',
    '""',
    "'A'",
    '"why?"',
    ">= 3",
    "< 5",
    "<5",
    ">= -3",
    '== "A"',
    '!= "A"',
    "== True",
    "24",
    "0",
    "-5",
    "1.5",
    'in ("A", "B")',
    'not in ("A",)',
    "is None",
    "is not None",
]


@pytest.mark.parametrize("cell", CASEWORK_CELLS)
def test_casework_cells_pass_unchanged(cell: str) -> None:
    translated = unary_tests(cell)
    assert translated == Translated(cell, "Python")
    assert not translated.changed


@pytest.mark.parametrize("cell", ["", "   "])
def test_an_empty_cell_stays_empty(cell: str) -> None:
    assert unary_tests(cell) == Translated("", "Python")


FEEL_CELLS = [
    ("true", "? == True"),
    ("false", "? == False"),
    ("null", "? is None"),
    ('"PHAB","SXAB"', '? in ("PHAB", "SXAB")'),
    ('"PHAB", "SXAB", "NEGL"', '? in ("PHAB", "SXAB", "NEGL")'),
    ("1, 2, 3", "? in (1, 2, 3)"),
    ("-1, 0", "? in (-1, 0)"),
    ("true, false", "? in (True, False)"),
    ('not("NEGLECT")', 'not (? == "NEGLECT")'),
    ('not("A","B")', 'not (? in ("A", "B"))'),
    ("not(< 5)", "not (? < 5)"),
    ("not([1..5])", "not (1 <= ? <= 5)"),
    ("not(null)", "not (? is None)"),
    ("not(< 5, > 10)", "not ((? < 5) or (? > 10))"),
    ("[1..5]", "1 <= ? <= 5"),
    ("(1..5]", "1 < ? <= 5"),
    ("]1..5]", "1 < ? <= 5"),
    ("[1..5)", "1 <= ? < 5"),
    ("[1..5[", "1 <= ? < 5"),
    ("(1..5)", "1 < ? < 5"),
    ("]1..5[", "1 < ? < 5"),
    ("[-5..-1]", "-5 <= ? <= -1"),
    ("[1.5..2.5]", "1.5 <= ? <= 2.5"),
    ('["a".."m"]', '"a" <= ? <= "m"'),
    ('= "A"', '? == "A"'),
    ("= 5", "? == 5"),
    ("= true", "? == True"),
    ("= null", "? is None"),
    ("!= null", "? is not None"),
    ("< 5, > 10", "(? < 5) or (? > 10)"),
    ('"A", [1..5]', '(? == "A") or (1 <= ? <= 5)'),
    ('"A", null', '(? == "A") or (? is None)'),
    ('("A","B")', '? in ("A", "B")'),
    ("007", "? == 7"),
]


@pytest.mark.parametrize(("cell", "python"), FEEL_CELLS)
def test_feel_cells_are_translated(cell: str, python: str) -> None:
    translated = unary_tests(cell)
    assert translated == Translated(python, "FEEL")
    assert translated.changed
    compile(input_cell_expression("value", translated.python), "<x>", "eval")


CELL_REFUSALS = [
    ("otherVar", "a cell comparing with a variable: otherVar"),
    ("< limit", "a cell comparing with a variable: limit"),
    ("a.b", "a cell comparing with a variable: a"),
    ("Customer Age", "a name with spaces: Customer Age"),
    ('date("2020-01-01")', 'a function call: date("2020-01-01")'),
    ('> date("2020-01-01")', 'a function call: date("2020-01-01")'),
    ('contains("abuse")', 'a function call: contains("abuse")'),
    ('matches(x, "^A")', 'a function call: matches(x, "^A")'),
    ("is(1, 2)", "a function call: is(1, 2)"),
    ("[1, 2]", "a list in a cell: [1, 2]"),
    ("< true", "an ordering comparison with a truth value: < true"),
    ("< null", "an ordering comparison with null"),
    ("[true..5]", "a range with a true, false or null end"),
    ('"O\'Brien", "X"', "a text with a quote mark inside"),
    ('not("A"), "B"', "an unexpected ','"),
    ("== x", "the operator == (FEEL compares with =)"),
    ('== "A", "B"', "the operator == (FEEL compares with =)"),
    ("x > 5", "a cell comparing with a variable: x"),
    ("[1..]", "an unexpected ']'"),
    ("not(", "an expression that stops short"),
    (">", "an expression that stops short"),
    ("1e3, 2", "a number with an exponent: 1e3"),
    ('@"2020-01-01"', "a date or time written with @"),
    ("if a then 1 else 2", "an if expression"),
]


@pytest.mark.parametrize(("cell", "part"), CELL_REFUSALS)
def test_cells_outside_the_subset_are_refused(cell: str, part: str) -> None:
    with pytest.raises(NotRunnable) as refused:
        unary_tests(cell)
    message = str(refused.value)
    assert message.startswith("this is FEEL that casework does not run (")
    assert part in message
    assert message.endswith(
        'write it as a Python test on the input, for example ? in ("A", "B") or >= 18'
    )


@pytest.mark.parametrize(
    ("cell", "value"), [('"PHAB","SXAB"', "SXAB"), ('not("NEGLECT")', "ABUSE")]
)
def test_feel_cells_that_compile_as_python_would_otherwise_mean_something_else(
    cell: str, value: str
) -> None:
    # Read as casework's own Python, the tuple never equals the input and not("...") is False.
    assert evaluate_cell(cell, value) is False
    assert evaluate_cell(unary_tests(cell).python, value) is True


CELL_MEANINGS = [
    ('"PHAB","SXAB"', "SXAB", True),
    ('"PHAB","SXAB"', "PHAB", True),
    ('"PHAB","SXAB"', "NEGL", False),
    ("[1..5]", 1, True),
    ("[1..5]", 5, True),
    ("[1..5]", 6, False),
    ("[1..5]", 0, False),
    ("(1..5]", 1, False),
    ("(1..5]", 2, True),
    ("(1..5]", 5, True),
    ("[1..5)", 5, False),
    ("[1..5)", 1, True),
    ("]1..5[", 1, False),
    ("]1..5[", 3, True),
    ("]1..5[", 5, False),
    ('not("NEGLECT")', "NEGLECT", False),
    ('not("NEGLECT")', "ABUSE", True),
    ('not("A","B")', "A", False),
    ('not("A","B")', "C", True),
    ("not(< 5)", 4, False),
    ("not(< 5)", 5, True),
    ("not([1..5])", 3, False),
    ("not([1..5])", 7, True),
    ("< 5, > 10", 3, True),
    ("< 5, > 10", 7, False),
    ("< 5, > 10", 11, True),
    ('"A", [1..5]', "A", True),
    ('"A", [1..5]', 3, True),
    ('"A", [1..5]', 7, False),
    ("true", True, True),
    ("true", False, False),
    ("false", False, True),
    ("null", None, True),
    ("null", "x", False),
    ('= "A"', "A", True),
    ('= "A"', "B", False),
    ("!= null", 0, True),
    ("!= null", None, False),
    ("1, 2, 3", 2, True),
    ("1, 2, 3", 4, False),
    ('"A", null', None, True),
    ("007", 7, True),
    # casework's own cells, evaluated the engine's way
    ("? >= 18", 18, True),
    ("? >= 18", 17, False),
    (">= 3", 3, True),
    (">= 3", 2, False),
    ("< 5", 4, True),
    ("True", True, True),
    ("True", False, False),
    ('"SCREEN_OUT"', "SCREEN_OUT", True),
    ('"SCREEN_OUT"', "SCREEN_IN", False),
    ('== "A"', "A", True),
    ("24", 24, True),
]


@pytest.mark.parametrize(("cell", "value", "expected"), CELL_MEANINGS)
def test_translated_cells_mean_what_they_meant(cell: str, value: Any, expected: bool) -> None:
    assert evaluate_cell(unary_tests(cell).python, value) is expected


# --- Output cells -------------------------------------------------------------------------

OUTPUT_ENTRIES = [
    ("true", Translated("True", "FEEL")),
    ("false", Translated("False", "FEEL")),
    ("null", Translated("None", "FEEL")),
    ('"SCREEN_IN"', Translated('"SCREEN_IN"', "Python")),
    ('""', Translated('""', "Python")),
    ("3", Translated("3", "Python")),
    ("-1.5", Translated("-1.5", "Python")),
    ("True", Translated("True", "Python")),
    ("False", Translated("False", "Python")),
    ("None", Translated("None", "Python")),
    ("", Translated("", "Python")),
    ('"P" + str(level)', Translated('"P" + str(level)', "Python")),
    ('{"a": 1}', Translated('{"a": 1}', "Python")),
    ("scored_risk", Translated("scored_risk", "Python")),
    ("${level}", Translated("level", "JUEL")),
]


@pytest.mark.parametrize(("cell", "expected"), OUTPUT_ENTRIES)
def test_output_entries(cell: str, expected: Translated) -> None:
    translated = output_entry(cell)
    assert translated == expected
    assert translated.changed is (expected.language != "Python")
    if translated.python:
        compile(translated.python, "<x>", "eval")


OUTPUT_REFUSALS = [
    ("if a then 1 else 2", "neither a FEEL value nor a Python expression: if a then 1 else 2"),
    ("-", "neither a FEEL value nor a Python expression: -"),
    ('a = "x"', 'neither a FEEL value nor a Python expression: a = "x"'),
    ("{a: 1}", "a context whose keys are bare names: {a: 1}"),
]


@pytest.mark.parametrize(("cell", "part"), OUTPUT_REFUSALS)
def test_outputs_outside_the_subset_are_refused(cell: str, part: str) -> None:
    with pytest.raises(NotRunnable) as refused:
        output_entry(cell)
    message = str(refused.value)
    assert message.startswith("this is FEEL that casework does not run (")
    assert part in message
    assert message.endswith('write it as a Python value, for example "SCREEN_IN", 3 or True')


# --- What `changed` says ------------------------------------------------------------------


@pytest.mark.parametrize(
    "translated_from",
    [
        *[(condition, text) for text in CASEWORK_CONDITIONS],
        *[(condition, text) for text, _ in JUEL_CONDITIONS + FEEL_CONDITIONS],
        *[(unary_tests, cell) for cell in CASEWORK_CELLS],
        *[(unary_tests, cell) for cell, _ in FEEL_CELLS],
        *[(output_entry, cell) for cell, _ in OUTPUT_ENTRIES],
    ],
    ids=lambda pair: f"{pair[0].__name__}({pair[1]!r})",
)
def test_changed_says_whether_the_text_differs_from_what_was_written(
    translated_from: tuple[Any, str],
) -> None:
    translate, text = translated_from
    translated = translate(text)
    assert translated.changed is (translated.python != text.strip())
