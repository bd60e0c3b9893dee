"""Expressions from diagrams drawn for other engines, rewritten as the Python casework runs.

Camunda 7 and Flowable write conditions in JUEL (``${approved}``), Zeebe writes them in FEEL
(``=approved``), and DMN modellers write input cells as FEEL unary tests (``"PHAB","SXAB"``,
``[1..5]``, ``not("NEGLECT")``). casework evaluates restricted Python, in which several of these
texts still compile but mean something else: ``"A","B"`` is a tuple, never equal to the input,
and ``not("A")`` is simply ``False``. So a text is either translated within a small subset whose
meaning carries over exactly, or refused with a sentence naming the part casework cannot run.
Nothing is guessed.
"""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass

PYTHON = "Python"
JUEL = "JUEL"
FEEL = "FEEL"

CONDITION_SUGGESTION = "a Python expression over the process's data, for example approved == True"
CELL_SUGGESTION = 'a Python test on the input, for example ? in ("A", "B") or >= 18'
OUTPUT_SUGGESTION = 'a Python value, for example "SCREEN_IN", 3 or True'


@dataclass(frozen=True)
class Translated:
    """The text casework runs, and the language it was written in."""

    python: str
    language: str

    @property
    def changed(self) -> bool:
        """Whether ``python`` differs from the text as written (stripped).

        Python is always handed back as written, and every translation rewrites the text (JUEL
        loses its ``${}``, FEEL its ``=``, a cell gains its ``?``), so the language tells.
        """
        return self.language != PYTHON


class NotRunnable(ValueError):
    """An expression in another engine's language outside what casework translates."""

    def __init__(self, language: str, text: str, reason: str, suggestion: str) -> None:
        self.language = language
        self.text = text
        self.reason = reason
        self.suggestion = suggestion
        super().__init__(
            f"this is {language} that casework does not run ({reason}): write it as {suggestion}"
        )


def condition(text: str) -> Translated:
    """A sequence flow's condition, a timer or any other expression of a diagram."""
    written = text.strip()
    if "${" in written or "#{" in written:
        try:
            return Translated(_Parser(JUEL, _juel_body(written)).whole_expression(), JUEL)
        except _Refused as refused:
            raise NotRunnable(JUEL, written, refused.reason, CONDITION_SUGGESTION) from None
    if written.startswith("="):
        try:
            return Translated(_Parser(FEEL, written[1:]).whole_expression(), FEEL)
        except _Refused as refused:
            raise NotRunnable(FEEL, written, refused.reason, CONDITION_SUGGESTION) from None
    return Translated(written, PYTHON)


def unary_tests(cell: str) -> Translated:
    """A DMN input cell."""
    written = cell.strip()
    if written in ("", "-") or _PLACEHOLDER.search(written):
        return Translated(written, PYTHON)
    if _PYTHON_ONLY_PREFIX.match(written) and _compiles(f"_ {written}"):
        # `in (...)`, `not in (...)`, `is None`: casework's own, and not FEEL at all.
        return Translated(written, PYTHON)
    try:
        parser = _Parser(FEEL, written, cell=True)
        if _means_the_same_in_python(parser.tokens):
            return Translated(written, PYTHON)
        return Translated(parser.whole_cell(), FEEL)
    except _Refused as refused:
        raise NotRunnable(FEEL, written, refused.reason, CELL_SUGGESTION) from None


def output_entry(cell: str) -> Translated:
    """A DMN output cell (FEEL literal: strings, numbers, true/false/null)."""
    written = cell.strip()
    if written in _KEYWORD_LITERALS:
        return Translated(_KEYWORD_LITERALS[written], FEEL)
    if "${" in written or "#{" in written:
        return condition(written)
    if not written:
        return Translated(written, PYTHON)
    try:
        tree = ast.parse(written, mode="eval")
    except (SyntaxError, ValueError):
        reason = f"an output that is neither a FEEL value nor a Python expression: {written}"
        raise NotRunnable(FEEL, written, reason, OUTPUT_SUGGESTION) from None
    for node in ast.walk(tree):
        # FEEL's {a: 1} is a context keyed "a"; Python's is a dict keyed by the variable a.
        if isinstance(node, ast.Dict) and any(isinstance(key, ast.Name) for key in node.keys):
            reason = f"a context whose keys are bare names: {written}"
            raise NotRunnable(FEEL, written, reason, OUTPUT_SUGGESTION)
    return Translated(written, PYTHON)


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# The engine's own rule (engine/spiff/decisions.py): a '?' outside quotes is the input value.
_PLACEHOLDER = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")

# Cells the engine evaluates by appending them to the input; no FEEL cell starts this way
# (FEEL's is(a, b) is a function, hence only `is None` and `is not None`).
_PYTHON_ONLY_PREFIX = re.compile(r"(?:in|not\s+in)\b|is\s+(?:not\s+)?None\s*$")

_KEYWORD_LITERALS = {"true": "True", "false": "False", "null": "None"}


def _compiles(text: str) -> bool:
    try:
        compile(text, "<cell>", "eval")
    except (SyntaxError, ValueError):
        return False
    return True


def _juel_body(text: str) -> str:
    """The inside of the one ``${...}`` (or ``#{...}``) that makes up the whole text."""
    if text[:2] in ("${", "#{"):
        closing = _closing_brace(text, 2)
        if closing == -1:
            raise _Refused(f"an expression without its closing brace: {text}")
        if closing == len(text) - 1:
            body = text[2:closing]
            if not body.strip():
                raise _Refused(f"an empty expression: {text}")
            return body
    # JUEL joins the pieces into a string; casework's conditions are single expressions.
    raise _Refused(f"text and expressions joined together: {text}")


def _closing_brace(text: str, start: int) -> int:
    depth, quote, escaped = 0, "", False
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
    return -1


# --- Tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "string", "name", "op" or "end"
    text: str
    start: int


_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<range>\.\.)"  # before numbers, so that 1..5 is not read as 1. and .5
    r"|(?P<number>(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<string>\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')"
    r"|(?P<name>[^\W\d][\w$]*|\$[\w$]*)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||\*\*|[-+*/%<>=!?:.,()\[\]{}])"
)

_UNREADABLE_CHARACTERS = {
    '"': "a text without its closing quote",
    "'": "a text without its closing quote",
    "`": "a name in backticks",
    "@": "a date or time written with @",
    ";": "several statements",
}


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            char = source[position]
            raise _Refused(_UNREADABLE_CHARACTERS.get(char, f"the character {char!r}"))
        kind = match.lastgroup or "op"
        if kind != "space":
            tokens.append(_Token("op" if kind == "range" else kind, match.group(), position))
        position = match.end()
    tokens.append(_Token("end", "", len(source)))
    return tokens


def _means_the_same_in_python(tokens: list[_Token]) -> bool:
    """A cell casework already reads, whose meaning FEEL shares: "A", 5, True, >= 18, == "A"."""
    body = tokens[:-1]
    operator = ""
    if body and body[0].kind == "op" and body[0].text in ("<", "<=", ">", ">=", "==", "!="):
        operator, body = body[0].text, body[1:]
    if len(body) == 2 and body[0].text == "-" and body[1].kind == "number":
        body = body[1:]
    if len(body) != 1:
        return False
    token = body[0]
    if token.kind == "string":
        return True
    if token.kind == "number":
        # Python refuses 007; FEEL reads it as 7, so it is translated instead.
        return not (token.text.isdigit() and token.text != str(int(token.text)))
    return token.text in ("True", "False", "None") and operator in ("", "==", "!=")


# --- Python text with its precedence ------------------------------------------------------

# Python's binding strengths, loosest first: a part looser than its place is parenthesised.
_OR, _AND, _NOT, _COMPARISON, _ADDITIVE, _MULTIPLICATIVE, _UNARY, _ATOM = range(1, 9)


@dataclass(frozen=True)
class _Python:
    text: str
    precedence: int


@dataclass(frozen=True)
class _Test:
    """One positive unary test; ``equals`` is the value when it is a plain equality."""

    python: _Python
    equals: str | None = None


def _operand(part: _Python, loosest: int) -> str:
    return part.text if part.precedence >= loosest else f"({part.text})"


def _tuple(items: list[str]) -> str:
    return f"({', '.join(items)},)" if len(items) == 1 else f"({', '.join(items)})"


def _python_string(value: str, quote: str) -> str:
    if quote not in value and "\\" not in value and value.isprintable():
        return f"{quote}{value}{quote}"
    return repr(value)


def _is_text(*parts: _Python) -> bool:
    return any(part.precedence == _ATOM and part.text[:1] in ("'", '"') for part in parts)


def _compare(left: _Python, operator: str, right: _Python) -> _Python:
    if "None" in (left.text, right.text):
        if operator not in ("==", "!="):
            raise _Refused(f"an ordering comparison with null: {operator} null")
        other = right if left.text == "None" else left
        word = "is" if operator == "==" else "is not"
        return _Python(f"{_operand(other, _ADDITIVE)} {word} None", _COMPARISON)
    text = f"{_operand(left, _ADDITIVE)} {operator} {_operand(right, _ADDITIVE)}"
    return _Python(text, _COMPARISON)


def _any_of(subject: str, tests: list[_Test]) -> _Python:
    if len(tests) == 1:
        return tests[0].python
    values = [test.equals for test in tests if test.equals is not None]
    if len(values) == len(tests):
        return _Python(f"{subject} in {_tuple(values)}", _COMPARISON)
    return _Python(" or ".join(f"({test.python.text})" for test in tests), _OR)


# --- The two languages --------------------------------------------------------------------

_JUEL_COMPARISONS = {
    "==": "==", "eq": "==", "!=": "!=", "ne": "!=",
    "<": "<", "lt": "<", "<=": "<=", "le": "<=", ">": ">", "gt": ">", ">=": ">=", "ge": ">=",
}  # fmt: skip
_FEEL_COMPARISONS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

_JUEL_WORDS = frozenset(
    "and or not eq ne lt gt le ge empty div mod instanceof true false null".split()
)
_FEEL_WORDS = frozenset(
    "and or not between in instance of if then else for return some every satisfies function "
    "true false null".split()
)

# Parts outside the subset that designers write often enough to deserve their own words.
_JUEL_MISPLACED = {
    "=": "a single = (JUEL compares with ==)",
    "?": "the conditional operator ? :",
    ":": "the conditional operator ? :",
    "instanceof": "a type test with instanceof",
    "%": "the remainder operator %",
    "mod": "the remainder operator mod",
    "**": "the operator **",
    "[": "a list",
    "{": "a map",
}
_FEEL_MISPLACED = {
    "==": "the operator == (FEEL compares with =)",
    "&&": "the operator && (FEEL writes and)",
    "||": "the operator || (FEEL writes or)",
    "!": "the operator ! (FEEL writes not(...))",
    "?": "the input placeholder ? outside a cell",
    "if": "an if expression",
    "then": "an if expression",
    "else": "an if expression",
    "for": "a for expression",
    "some": "a some/every expression",
    "every": "a some/every expression",
    "function": "a function definition",
    "instance": "an instance of test",
    "%": "the remainder operator %",
    "**": "the power operator **",
    "[": "a list",
    "{": "a context",
}

# Camunda's own objects: casework has no such variable, so a designer must rewrite these.
_ENGINE_OBJECTS = frozenset({"execution", "variableScope"})


class _Parser:
    """Recursive descent over one JUEL or FEEL text, building the Python that means the same.

    Grammar, loosest first: or, and, comparison (not chained), additive, multiplicative, unary
    (JUEL ``!``/``not``/``empty`` and minus), then names, literals and parentheses.
    """

    def __init__(self, language: str, source: str, cell: bool = False) -> None:
        self.language = language
        self.source = source
        self.cell = cell  # a DMN input cell, rather than a condition
        self.tokens = _tokenize(source)
        self.position = 0
        feel = language == FEEL
        self.words = _FEEL_WORDS if feel else _JUEL_WORDS
        self.comparisons = _FEEL_COMPARISONS if feel else _JUEL_COMPARISONS
        self.misplaced = _FEEL_MISPLACED if feel else _JUEL_MISPLACED

    # Entry points

    def whole_expression(self) -> str:
        python = self.disjunction()
        self.expect_end()
        return python.text

    def whole_cell(self) -> str:
        if self.at("not") and self.peek(1).text == "(":
            self.position += 2
            inner = self.positive_tests("?")
            self.expect(")")
            self.expect_end()
            return f"not ({inner.text})"
        python = self.positive_tests("?")
        self.expect_end()
        return python.text

    # Tokens

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.peek()
        self.position = min(self.position + 1, len(self.tokens) - 1)
        return token

    def at(self, *texts: str) -> bool:
        token = self.peek()
        return token.kind in ("op", "name") and token.text in texts

    def accept(self, *texts: str) -> _Token | None:
        return self.advance() if self.at(*texts) else None

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise self.unexpected(self.peek())

    def expect_end(self) -> None:
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())

    def unexpected(self, token: _Token) -> _Refused:
        if not self.source.strip():
            return _Refused("an empty expression")
        if token.kind == "end":
            return _Refused(f"an expression that stops short: {self.source.strip()}")
        if token.kind in ("op", "name") and token.text in self.misplaced:
            return _Refused(self.misplaced[token.text])
        before = self.source[: token.start].strip()
        if not before:
            return _Refused(f"an unexpected {token.text!r} at the start")
        return _Refused(f"an unexpected {token.text!r} after {before!r}")

    def spelled_to_closing(self, first: _Token) -> str:
        """The source from ``first`` to the bracket closing the one the parser stands at."""
        depth = 0
        for index in range(self.position, len(self.tokens)):
            token = self.tokens[index]
            if token.text in ("(", "[", "{") and token.kind == "op":
                depth += 1
            elif token.text in (")", "]", "}") and token.kind == "op":
                depth -= 1
                if depth == 0:
                    return self.source[first.start : token.start + 1]
        return self.source[first.start :].strip()

    # Expressions

    def disjunction(self) -> _Python:
        left = self.conjunction()
        while self.accept("or", "||" if self.language == JUEL else "or"):
            right = self.conjunction()
            left = _Python(f"{_operand(left, _OR)} or {_operand(right, _AND)}", _OR)
        return left

    def conjunction(self) -> _Python:
        left = self.comparison()
        while self.accept("and", "&&" if self.language == JUEL else "and"):
            right = self.comparison()
            left = _Python(f"{_operand(left, _AND)} and {_operand(right, _NOT)}", _AND)
        return left

    def comparison(self) -> _Python:
        left = self.additive()
        feel = self.language == FEEL
        if feel and self.accept("between"):
            low = self.additive()
            self.expect("and")
            high = self.additive()
            subject, low_text, high_text = (_operand(part, _ADDITIVE) for part in (left, low, high))
            compared = _Python(f"{low_text} <= {subject} <= {high_text}", _COMPARISON)
        elif feel and self.accept("in"):
            compared = self.positive_test(_operand(left, _ADDITIVE)).python
        elif operator := self.accept(*self.comparisons):
            compared = _compare(left, self.comparisons[operator.text], self.additive())
        else:
            return left
        # JUEL would compare the first result with the third value; Python chains them.
        if self.at(*self.comparisons) or (feel and self.at("between", "in")):
            raise _Refused(f"a chain of comparisons: {self.source.strip()}")
        return compared

    def additive(self) -> _Python:
        left = self.multiplicative()
        while operator := self.accept("+", "-"):
            right = self.multiplicative()
            if self.language == JUEL and operator.text == "+" and _is_text(left, right):
                # JUEL's + turns texts into numbers ("1" + "2" is 3); Python joins them.
                raise _Refused(f"a + between texts: {self.source.strip()}")
            text = f"{_operand(left, _ADDITIVE)} {operator.text} {_operand(right, _MULTIPLICATIVE)}"
            left = _Python(text, _ADDITIVE)
        return left

    def multiplicative(self) -> _Python:
        left = self.unary()
        divisions = ("*", "/", "div") if self.language == JUEL else ("*", "/")
        while operator := self.accept(*divisions):
            right = self.unary()
            symbol = "/" if operator.text == "div" else operator.text
            text = f"{_operand(left, _MULTIPLICATIVE)} {symbol} {_operand(right, _UNARY)}"
            left = _Python(text, _MULTIPLICATIVE)
        return left

    def unary(self) -> _Python:
        if self.accept("-"):
            negated = _operand(self.unary(), _UNARY)
            return _Python(f"-({negated})" if negated.startswith("-") else f"-{negated}", _UNARY)
        if self.language == JUEL and self.accept("!", "not"):
            # JUEL's ! binds tighter than any operator: !a == b is (not a) == b.
            return _Python(f"not {_operand(self.unary(), _UNARY)}", _NOT)
        if self.language == JUEL and self.accept("empty"):
            # Not `not x`, which would count 0 and False as empty: JUEL's empty does not.
            tested = _operand(self.unary(), _ADDITIVE)
            return _Python(f'{tested} in (None, "", [], {{}})', _COMPARISON)
        return self.primary()

    def primary(self) -> _Python:
        token = self.advance()
        if token.kind == "number":
            return _Python(self.number(token), _ATOM)
        if token.kind == "string":
            return _Python(self.string(token), _ATOM)
        if token.kind == "op" and token.text == "(":
            inner = self.disjunction()
            self.expect(")")
            return inner  # its parentheses come back wherever Python needs them
        if token.kind == "name":
            if token.text in _KEYWORD_LITERALS:
                return _Python(_KEYWORD_LITERALS[token.text], _ATOM)
            if self.language == FEEL and token.text == "not":
                if not self.accept("("):
                    raise _Refused("not without parentheses (FEEL writes not(...))")
                inner = self.disjunction()
                self.expect(")")
                return _Python(f"not {_operand(inner, _UNARY)}", _NOT)
            if token.text not in self.words:
                return self.path(token)
        raise self.unexpected(token)

    def path(self, first: _Token) -> _Python:
        if self.language == FEEL:
            names = [first.text]
            while self.peek().kind == "name" and self.peek().text not in self.words:
                names.append(self.advance().text)
            if len(names) > 1:
                raise _Refused(f"a name with spaces: {' '.join(names)}")
        text, properties = self.variable(first.text), 0
        while True:
            if self.at("("):
                kind = "a method call" if properties else "a function call"
                raise _Refused(f"{kind}: {self.spelled_to_closing(first)}")
            if self.at("["):
                raise _Refused(f"an index or filter: {self.spelled_to_closing(first)}")
            if not self.accept("."):
                break
            part = self.advance()
            if part.kind != "name":
                raise self.unexpected(part)
            # Process data are plain dicts: a.b reads the key "b".
            key = _python_string(part.text, '"')
            text, properties = f"{text}[{key}]", properties + 1
        if first.text in _ENGINE_OBJECTS:
            spelled = self.source[first.start : self.peek().start].strip()
            raise _Refused(f"the engine's own {first.text} object: {spelled}")
        return _Python(text, _ATOM)

    def variable(self, name: str) -> str:
        if not name.isidentifier():
            raise _Refused(f"a name Python cannot use: {name}")
        if keyword.iskeyword(name):
            raise _Refused(f"a name Python reserves: {name}")
        return name

    def number(self, token: _Token) -> str:
        if self.language == FEEL and "e" in token.text.lower():
            raise _Refused(f"a number with an exponent: {token.text}")
        # Both languages read 007 as 7; Python refuses the leading zeros.
        return str(int(token.text)) if token.text.isdigit() else token.text

    def string(self, token: _Token) -> str:
        def unescape(escape: re.Match[str]) -> str:
            if escape.group(1) in "\\'\"":
                return escape.group(1)
            raise _Refused(f"the escape {escape.group()} in a text")

        value = re.sub(r"\\(.)", unescape, token.text[1:-1], flags=re.DOTALL)
        if self.cell and ("'" in value or '"' in value):
            # The engine finds the ? by pairing quote marks; a quote inside a text misleads it.
            raise _Refused(f"a text with a quote mark inside: {token.text}")
        return _python_string(value, token.text[0])

    # Unary tests: a cell's tests on ?, or the right of FEEL's `x in ...`

    def positive_tests(self, subject: str) -> _Python:
        tests = [self.positive_test(subject)]
        while self.accept(","):
            tests.append(self.positive_test(subject))
        return _any_of(subject, tests)

    def positive_test(self, subject: str) -> _Test:
        if operator := self.accept(*_FEEL_COMPARISONS):
            value = self.endpoint()
            python_operator = _FEEL_COMPARISONS[operator.text]
            if python_operator not in ("==", "!=") and value in ("True", "False"):
                spelled = self.source[operator.start : self.peek().start].strip()
                raise _Refused(f"an ordering comparison with a truth value: {spelled}")
            return _Test(_compare(_Python(subject, _ATOM), python_operator, _Python(value, _ATOM)))
        if self.at("[", "]", "("):
            return self.interval_or_list(subject)
        value = self.endpoint()
        compared = _compare(_Python(subject, _ATOM), "==", _Python(value, _ATOM))
        return _Test(compared, equals=None if value == "None" else value)

    def interval_or_list(self, subject: str) -> _Test:
        opener = self.advance()
        if opener.text == "(" and self.at(*_FEEL_COMPARISONS):
            inner = self.positive_tests(subject)
            self.expect(")")
            return _Test(inner)
        first = self.endpoint()
        if self.accept(".."):
            last = self.endpoint()
            closer = self.advance()
            if closer.text not in ("]", ")", "[") or closer.kind != "op":
                raise self.unexpected(closer)
            if {first, last} & {"True", "False", "None"}:
                raise _Refused(f"a range with a true, false or null end: {self.source.strip()}")
            low = "<=" if opener.text == "[" else "<"
            high = "<=" if closer.text == "]" else "<"
            return _Test(_Python(f"{first} {low} {subject} {high} {last}", _COMPARISON))
        if opener.text == "[" and not self.cell:
            items = [first]
            while self.accept(","):
                items.append(self.endpoint())
            self.expect("]")
            return _Test(_Python(f"{subject} in {_tuple(items)}", _COMPARISON))
        if opener.text != "(":
            # A list in a cell: FEEL engines disagree on whether it is membership or equality.
            raise _Refused(f"a list in a cell: {self.source.strip()}")
        equals = _compare(_Python(subject, _ATOM), "==", _Python(first, _ATOM))
        tests = [_Test(equals, equals=None if first == "None" else first)]
        while self.accept(","):
            tests.append(self.positive_test(subject))
        self.expect(")")
        return _Test(_any_of(subject, tests))

    def endpoint(self) -> str:
        """A literal a test compares with: a text, a number (maybe negative), true/false/null."""
        negative = self.accept("-")
        token = self.advance()
        if token.kind == "number":
            return f"-{self.number(token)}" if negative else self.number(token)
        if negative:
            raise self.unexpected(token)
        if token.kind == "string":
            return self.string(token)
        if token.kind == "name" and token.text in _KEYWORD_LITERALS:
            return _KEYWORD_LITERALS[token.text]
        if token.kind == "name" and token.text not in self.words:
            if self.at("("):
                raise _Refused(f"a function call: {self.spelled_to_closing(token)}")
            if self.peek().kind == "name" and self.peek().text not in self.words:
                raise _Refused(f"a name with spaces: {token.text} {self.peek().text}")
            # FEEL compares with the variable's value, or uses it as the test when it is
            # true/false: the reading depends on the data, so it is not guessed.
            where = "a cell" if self.cell else "an in test"
            raise _Refused(f"{where} comparing with a variable: {token.text}")
        raise self.unexpected(token)
