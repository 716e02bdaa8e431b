"""Matchers: how one field of a replayed output is compared with the recorded one.

``@pytest.mark.event_cassette(matchers={"event_data.price": approx(rel=1e-3)})`` compares the
price within 0.1% instead of exactly. Any of these may stand for a matcher:

- a :class:`Matcher` (the built-ins below, or your own subclass);
- a callable ``(recorded, actual) -> bool``;
- any other object, compared as ``matcher == actual``: dirty-equals objects (``IsStr``,
  ``IsApprox(...)``, ``IsPositiveInt``...) work this way.

Values are what a cassette stores: JSON data, with Decimals as text (``"101.30"``).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "Matcher",
    "any_of_type",
    "approx",
    "as_matcher",
    "ignore",
    "regex",
    "unordered",
]


class Matcher:
    """Base class: ``matches(recorded, actual)`` says whether ``actual`` is acceptable;
    ``str(matcher)`` names it in reports (``approx rel=0.001``)."""

    def matches(self, recorded: Any, actual: Any) -> bool:
        raise NotImplementedError

    def __repr__(self) -> str:
        return str(self)


class _Approx(Matcher):
    def __init__(self, rel: float | None, abs: float | None) -> None:
        for name, value in (("rel", rel), ("abs", abs)):
            if value is not None and not (isinstance(value, int | float) and value >= 0):
                raise ValueError(f"approx({name}=...) must be a number >= 0, got {value!r}")
        self.rel, self.abs = rel, abs

    def matches(self, recorded: Any, actual: Any) -> bool:
        a, b = _number(recorded), _number(actual)
        if a is None or b is None:
            return _same(recorded, actual)
        if a == b:
            return True
        rel = 1e-6 if self.rel is None and self.abs is None else (self.rel or 0.0)
        return math.isclose(a, b, rel_tol=rel, abs_tol=self.abs or 0.0)

    def __str__(self) -> str:
        parts = [f"{k}={v:g}" for k, v in (("rel", self.rel), ("abs", self.abs)) if v is not None]
        return " ".join(["approx", *parts]) if parts else "approx rel=1e-06"


def approx(rel: float | None = None, abs: float | None = None) -> Matcher:
    """Numbers within ``rel`` (relative) or ``abs`` (absolute) tolerance, as
    :func:`math.isclose` has it (default ``rel=1e-6``). Text holding a number (a Decimal,
    as cassettes store them) is compared by its value."""
    return _Approx(rel, abs)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return float(number) if number.is_finite() else None
    return None


def _same(recorded: Any, actual: Any) -> bool:
    """Equal as JSON values: a boolean never equals a number (as the diff engine has it)."""
    if isinstance(recorded, bool) != isinstance(actual, bool):
        return False
    return bool(recorded == actual)


_JSON_TYPES: dict[type, str] = {
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
    type(None): "null",
}


class _AnyOfType(Matcher):
    def __init__(self, types: tuple[type, ...]) -> None:
        for kind in types:
            if not isinstance(kind, type):
                raise TypeError(f"any_of_type() takes types, got {kind!r}")
        self.types = types

    def matches(self, recorded: Any, actual: Any) -> bool:
        if self.types:
            return isinstance(actual, self.types) and not (
                isinstance(actual, bool) and bool not in self.types
            )
        return _JSON_TYPES.get(type(recorded)) == _JSON_TYPES.get(type(actual))

    def __str__(self) -> str:
        if not self.types:
            return "any_of_type (the recorded type)"
        return f"any_of_type {', '.join(t.__name__ for t in self.types)}"


def any_of_type(*types: type) -> Matcher:
    """Any value of the given types; without types, any value of the recorded value's JSON
    type (an int and a float are both numbers; a boolean is not a number)."""
    return _AnyOfType(types)


class _Regex(Matcher):
    def __init__(self, pattern: str) -> None:
        try:
            self.pattern = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"regex({pattern!r}): {exc}") from None

    def matches(self, recorded: Any, actual: Any) -> bool:
        return isinstance(actual, str) and self.pattern.fullmatch(actual) is not None

    def __str__(self) -> str:
        return f"regex {self.pattern.pattern!r}"


def regex(pattern: str) -> Matcher:
    """Text that matches ``pattern`` whole (:func:`re.fullmatch`)."""
    return _Regex(pattern)


class _Unordered(Matcher):
    def matches(self, recorded: Any, actual: Any) -> bool:
        if not (isinstance(recorded, list) and isinstance(actual, list)):
            return _same(recorded, actual)
        return Counter(map(_canonical, recorded)) == Counter(map(_canonical, actual))

    def __str__(self) -> str:
        return "unordered"


def unordered() -> Matcher:
    """A list compared as a multiset: the same items, each as often, in any order."""
    return _Unordered()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


class _Ignore(Matcher):
    def matches(self, recorded: Any, actual: Any) -> bool:
        return True

    def __str__(self) -> str:
        return "ignore"


def ignore() -> Matcher:
    """Any value, or none: the field is not compared."""
    return _Ignore()


class _Callable(Matcher):
    def __init__(self, function: Callable[[Any, Any], Any]) -> None:
        self.function = function

    def matches(self, recorded: Any, actual: Any) -> bool:
        answer = self.function(recorded, actual)
        if not isinstance(answer, bool):
            raise TypeError(
                f"matcher {self} must answer True or False, got {type(answer).__name__}"
            )
        return answer

    def __str__(self) -> str:
        return getattr(self.function, "__qualname__", None) or repr(self.function)


class _Equals(Matcher):
    """An object that decides by ``==`` (dirty-equals and the like)."""

    def __init__(self, expected: object) -> None:
        self.expected = expected

    def matches(self, recorded: Any, actual: Any) -> bool:
        return bool(self.expected == actual)

    def __str__(self) -> str:
        return repr(self.expected)


def as_matcher(value: object) -> Matcher:
    """The matcher that ``value`` stands for (see the module docstring)."""
    if isinstance(value, Matcher):
        return value
    if value is None or isinstance(value, str | int | float | list | dict | tuple):
        raise TypeError(
            f"{value!r} is not a matcher: use approx(), any_of_type(), regex(), unordered(), "
            "ignore(), a function (recorded, actual) -> bool, or a dirty-equals object"
        )
    if isinstance(value, type) or not callable(value):
        return _Equals(value)
    return _Callable(value)


def as_matchers(value: object, what: str = "matchers") -> dict[str, Matcher]:
    """A ``{path: matcher}`` mapping checked and converted (a clear error otherwise)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dict of path -> matcher, got {type(value).__name__}")
    out = {}
    for path, matcher in value.items():
        if not isinstance(path, str) or not path.strip():
            raise TypeError(f"{what}: every path must be non-empty text, got {path!r}")
        out[path] = as_matcher(matcher)
    return out
