"""A small, safe expression language that picks events: ``event_data.price > 100``.

The text is tokenized and parsed into plain Python closures; nothing is ever ``eval``-ed.

Grammar (keywords are case-insensitive)::

    expression := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" expression ")" | test
    test       := value [operator value]
    operator   := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in" | "contains"
    value      := field | number | 'string' | "string" | true | false | null | "[" literals "]"
    field      := root ("." segment)*       root: event_name, source, event_type,
                                                  timestamp_offset_ms, event_data, metadata

A field is a path of :mod:`pytest_eventrecorder.fieldpaths` after its root: a key
(``order-id``), a list index (``items.0``) or a quoted key (``event_data."unit price"``). A
field that is absent reads as ``null``. ``<``, ``>`` and friends compare numbers with numbers
and strings with strings. A number and a string holding a decimal number (as Decimals are
recorded: ``"40.50"``) compare by value, also with ``==`` and ``!=``; ordering a number with a
string that holds no number raises :class:`QueryError` naming both sides (``==`` is simply
false); other mixes are false. ``a in b`` is list membership, substring or mapping key;
``b contains a`` is the same test. A value alone is a truth test (``event_data.filled``).
Evaluation raises nothing else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from .cassette import RecordedEvent
from .fieldpaths import ESCAPES

ROOT_FIELDS: Final = (
    "event_name",
    "source",
    "event_type",
    "timestamp_offset_ms",
    "event_data",
    "metadata",
)
MAX_DEPTH: Final = 64
"""How deeply parentheses and ``not`` may nest (keeps the parser's recursion bounded)."""

Getter = Callable[[Any], Any]
Predicate = Callable[[Any], bool]

_KEYWORDS: Final = frozenset({"and", "or", "not", "in", "contains", "true", "false", "null"})
_CONSTANTS: Final[dict[str, object]] = {"true": True, "false": False, "null": None}
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
_TOKEN_RE: Final = re.compile(
    rf"""
    (?P<ws>\s+)
    |(?P<number>-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<field>[^\W\d][\w-]*(?:\.(?:[\w-]+|{_QUOTED}))*)
    |(?P<string>{_QUOTED})
    |(?P<op>==|!=|<=|>=|<|>)
    |(?P<punct>[()\[\],])
    """,
    re.VERBOSE | re.DOTALL,
)
_SEGMENT_RE: Final = re.compile(rf"\.({_QUOTED}|[\w-]+)", re.DOTALL)
_INDEX_RE: Final = re.compile(r"\d+", re.ASCII)
_ESCAPES: Final = ESCAPES
_DECIMAL_TEXT: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
"""A string that holds a decimal number, as recorded Decimals are written."""
_HINTS: Final = {
    "=": "'=' is not an operator; write '=='",
    "&": "write 'and' instead of '&'",
    "|": "write 'or' instead of '|'",
    "!": "write 'not' (or '!=')",
    '"': "this string is never closed",
    "'": "this string is never closed",
    ".": "a field name must come before and after each '.'",
}


class QueryError(ValueError):
    """The expression is not valid; the message names what is wrong and where."""

    def __init__(self, problem: str, expression: str, position: int) -> None:
        self.problem = problem
        self.expression = expression
        self.position = position
        """0-based index of the offending character in ``expression``."""
        where = (
            "at the end of the expression"
            if position >= len(expression) > 0
            else f"at column {position + 1}"
        )
        super().__init__(f"{problem} ({where})")

    @property
    def column(self) -> int:
        """1-based column, as the message reports it."""
        return self.position + 1


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    position: int
    value: Any = None


@dataclass(frozen=True)
class Query:
    """A compiled expression; call it on a :class:`RecordedEvent` (or a dict of its fields)."""

    expression: str
    predicate: Predicate = field(repr=False, compare=False)

    def __call__(self, event: Any) -> bool:
        try:
            return self.predicate(event)
        except RecursionError:
            # comparing two absurdly deep structures; treat as "no match" rather than crash
            return False


def compile_query(expression: str) -> Query:
    """Parse ``expression``; raises :class:`QueryError` naming the problem and its column."""
    if not isinstance(expression, str):
        raise TypeError(f"a query is a string, got {type(expression).__name__}")
    return Query(expression, _Parser(expression).parse())


# --------------------------------------------------------------------------- tokens


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if match is None:
            char = text[position]
            raise QueryError(_HINTS.get(char, f"unexpected character {char!r}"), text, position)
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(_make_token(kind, match.group(), position, text))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _make_token(kind: str, text: str, position: int, expression: str) -> _Token:
    if kind == "number":
        return _Token(kind, text, position, _number(text, position, expression))
    if kind == "string":
        return _Token(kind, text, position, _unquote(text, position, expression))
    if kind == "field" and text.lower() in _KEYWORDS:
        return _Token("keyword", text.lower(), position)
    if kind == "field":
        return _Token(kind, text, position, _segments(text, position, expression))
    return _Token(kind, text, position)


def _number(text: str, position: int, expression: str) -> int | float:
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise QueryError(f"number {text} is too large", expression, position)
    return value


def _unquote(text: str, position: int, expression: str) -> str:
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        code = body[i + 1]
        if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
            continue
        if code not in _ESCAPES:
            raise QueryError(f"unknown escape '\\{code}' in a string", expression, position + 1 + i)
        out.append(_ESCAPES[code])
        i += 2
    return "".join(out)


def _segments(text: str, position: int, expression: str) -> tuple[str, ...]:
    root = re.match(r"[^\W\d][\w-]*", text)
    assert root is not None  # the token pattern guarantees it
    segments = [root.group()]
    for match in _SEGMENT_RE.finditer(text, root.end()):
        raw = match.group(1)
        start = position + match.start(1)
        segments.append(_unquote(raw, start, expression) if raw[0] in "'\"" else raw)
    return tuple(segments)


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokenize(expression)
        self.index = 0
        self.depth = 0

    def parse(self) -> Predicate:
        if self._peek().kind == "end":
            raise self._error("the expression is empty", self._peek())
        predicate = self._or()
        token = self._peek()
        if token.kind != "end":
            raise self._unexpected(token, "expected 'and', 'or' or the end of the expression")
        return predicate

    def _or(self) -> Predicate:
        left = self._and()
        while self._accept_keyword("or"):
            left = _either(left, self._and())
        return left

    def _and(self) -> Predicate:
        left = self._not()
        while self._accept_keyword("and"):
            left = _both(left, self._not())
        return left

    def _not(self) -> Predicate:
        token = self._peek()
        if token.kind == "keyword" and token.text == "not":
            self._enter(token)
            inner = self._not()
            self.depth -= 1
            return lambda event: not inner(event)
        if token.kind == "punct" and token.text == "(":
            self._enter(token)
            inner = self._or()
            self._expect(")", f"expected ')' to close the '(' at column {token.position + 1}")
            self.depth -= 1
            return inner
        return self._test()

    def _test(self) -> Predicate:
        first = self._peek()
        left = self._value()
        token = self._peek()
        if token.kind == "op":
            self._advance()
            sides = _Sides(self.expression, token.text, first, self._peek())
            return _comparison(token.text, left, self._value(), sides)
        if token.kind != "keyword" or token.text not in ("in", "not", "contains"):
            return lambda event: bool(left(event))
        self._advance()
        if token.text == "contains":
            right = self._value()
            return lambda event: _member(right(event), left(event))
        negate = token.text == "not"
        if negate and not self._accept_keyword("in"):
            raise self._unexpected(self._peek(), "expected 'in' after 'not' here")
        right = self._value()
        if negate:
            return lambda event: not _member(left(event), right(event))
        return lambda event: _member(left(event), right(event))

    def _value(self) -> Getter:
        token = self._advance()
        if token.kind in ("number", "string"):
            return _constant(token.value)
        if token.kind == "keyword" and token.text in _CONSTANTS:
            return _constant(_CONSTANTS[token.text])
        if token.kind == "field":
            return self._field(token)
        if token.kind == "punct" and token.text == "[":
            return _constant(self._list())
        raise self._unexpected(
            token,
            "expected a value: a field such as event_data.price, a number, a 'string', "
            "true, false, null or a [list]",
        )

    def _list(self) -> list[Any]:
        items: list[Any] = []
        if self._accept_punct("]"):
            return items
        while True:
            token = self._advance()
            if token.kind in ("number", "string"):
                items.append(token.value)
            elif token.kind == "keyword" and token.text in _CONSTANTS:
                items.append(_CONSTANTS[token.text])
            else:
                raise self._unexpected(
                    token, "expected a literal (number, string, true, false, null)"
                )
            if self._accept_punct("]"):
                return items
            self._expect(",", "expected ',' or ']' in the list")

    def _field(self, token: _Token) -> Getter:
        segments: tuple[str, ...] = token.value
        if segments[0] not in ROOT_FIELDS:
            hint = _field_hint(segments[0], token.text)
            raise self._error(
                f"unknown field {segments[0]!r}: fields start with {', '.join(ROOT_FIELDS)}{hint}",
                token,
            )
        return _field_getter(segments)

    # ------------------------------------------------------------------ token helpers

    def _peek(self) -> _Token:
        return self.tokens[self.index]

    def _advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def _accept_keyword(self, word: str) -> bool:
        token = self._peek()
        if token.kind == "keyword" and token.text == word:
            self._advance()
            return True
        return False

    def _accept_punct(self, char: str) -> bool:
        token = self._peek()
        if token.kind == "punct" and token.text == char:
            self._advance()
            return True
        return False

    def _expect(self, char: str, problem: str) -> None:
        if not self._accept_punct(char):
            raise self._unexpected(self._peek(), problem)

    def _enter(self, token: _Token) -> None:
        self._advance()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._error(f"nested more than {MAX_DEPTH} levels deep", token)

    def _error(self, problem: str, token: _Token) -> QueryError:
        return QueryError(problem, self.expression, token.position)

    def _unexpected(self, token: _Token, problem: str) -> QueryError:
        if token.kind == "end":
            return self._error(f"{problem}, but the expression ends", token)
        found = f"{problem}, found {token.text!r}"
        if token.kind == "op" and "expected 'and'" in problem:
            found += "; comparisons cannot be chained, join them with 'and'"
        return self._error(found, token)


def _field_hint(root: str, text: str) -> str:
    if root.lower() in ROOT_FIELDS:
        return f"; did you mean {root.lower()!r}? (field names are case-sensitive)"
    if "." not in text:
        return f"; did you mean 'event_data.{text}'?"
    return ""


# --------------------------------------------------------------------------- evaluation


class _Constant:
    """A literal's getter; comparisons against it skip one call per event."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, _event: Any) -> Any:
        return self.value


def _constant(value: Any) -> Getter:
    return _Constant(value)


def _field_getter(segments: tuple[str, ...]) -> Getter:
    root = segments[0]
    steps = tuple((seg, int(seg) if _INDEX_RE.fullmatch(seg) else None) for seg in segments[1:])

    def get(event: Any) -> Any:
        if type(event) is RecordedEvent:
            value = getattr(event, root)
        elif isinstance(event, Mapping):
            value = event.get(root)
        else:
            value = getattr(event, root, None)
        for key, index in steps:
            if type(value) is dict or isinstance(value, Mapping):
                value = value.get(key)
            elif isinstance(value, list) and index is not None and index < len(value):
                value = value[index]
            else:
                return None
        return value

    return get


def _either(left: Predicate, right: Predicate) -> Predicate:
    return lambda event: left(event) or right(event)


def _both(left: Predicate, right: Predicate) -> Predicate:
    return lambda event: left(event) and right(event)


@dataclass(frozen=True)
class _Sides:
    """The two sides of a comparison as written, to name them when evaluation fails."""

    expression: str
    op: str
    left: _Token
    right: _Token

    def error(self, a: Any, b: Any) -> QueryError:
        """``a`` and ``b`` are a number and a string that holds no number."""
        text, token = (a, self.left) if type(a) is str else (b, self.right)
        problem = (
            f"cannot compare {_described(self.left, a)} with {_described(self.right, b)} "
            f"using '{self.op}': {text!r} is not a number"
        )
        return QueryError(problem, self.expression, token.position)


def _described(token: _Token, value: Any) -> str:
    if token.kind in ("number", "string"):
        return token.text
    shown = repr(value)
    return f"{token.text} ({shown if len(shown) <= 40 else shown[:37] + '...'})"


class _NotANumber(Exception):
    """A number was ordered against a string that holds no number."""


def _comparison(op: str, left: Getter, right: Getter, sides: _Sides) -> Predicate:
    test = _TESTS[op]

    def compare(event: Any) -> bool:
        a, b = left(event), right(event)
        try:
            return test(a, b)
        except _NotANumber:
            raise sides.error(a, b) from None

    return compare


def _by_value(a: Any, b: Any) -> tuple[Any, Any] | None:
    """A number and a string holding a decimal number, both as numbers; None when the pair
    is not a number and a string; ``_NotANumber`` when the string holds no number."""
    if type(a) is str and _is_number(b):
        text, number = a, b
    elif type(b) is str and _is_number(a):
        text, number = b, a
    else:
        return None
    if not _DECIMAL_TEXT.fullmatch(text):
        raise _NotANumber
    try:  # Decimal(repr(x)): 0.1 is the 0.1 it prints as, not its binary neighbour
        exact = Decimal(repr(number) if isinstance(number, float) else number)
        pair: tuple[Any, Any] = (Decimal(text), exact)
        if not exact.is_finite():
            pair = (float(text), number)
    except ArithmeticError:  # an exponent beyond Decimal's range: compare as floats do
        pair = (float(text), number)
    return pair if text is a else pair[::-1]


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def test(a: Any, b: Any) -> bool:
        if _comparable(a, b):
            return compare(a, b)
        pair = _by_value(a, b)
        return pair is not None and compare(*pair)

    return test


def _is_number(value: object) -> bool:
    kind = type(value)
    return kind is int or kind is float or (kind is not bool and isinstance(value, int | float))


_PLAIN_TYPES: Final = frozenset({str, int, float, bool, type(None)})


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0``, but ``true`` is not ``1``, also inside lists and objects."""
    kind = type(a)
    if kind is type(b) and kind in _PLAIN_TYPES:
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_equal, a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if kind is str or type(b) is str:
        try:
            pair = _by_value(a, b)
        except _NotANumber:
            return False
        return pair is not None and bool(pair[0] == pair[1])
    return kind is type(b) and bool(a == b)


def _comparable(a: Any, b: Any) -> bool:
    if type(a) is str:
        return type(b) is str
    return _is_number(a) and _is_number(b)


_TESTS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    "<": _ordered(lambda a, b: bool(a < b)),
    "<=": _ordered(lambda a, b: bool(a <= b)),
    ">": _ordered(lambda a, b: bool(a > b)),
    ">=": _ordered(lambda a, b: bool(a >= b)),
}


def _member(item: Any, container: Any) -> bool:
    if isinstance(container, list):
        if type(item) is str:  # str == anything-else is False anyway: skip the strict loop
            return item in container
        return any(_equal(item, element) for element in container)
    if isinstance(container, str | Mapping):
        return isinstance(item, str) and item in container
    return False
