"""How the diff engine applies matchers: which fields they take, and the lines they write.

A field with a matcher leaves the key that pairs recorded and new events (as an ignored
field does), so a price that moved within its tolerance never makes an event look missing;
once paired, the matcher judges the field and a rejection is a field line naming it:
``event_data.price: 101.3 != 101.0 (approx rel=0.001)``. A project's
``pytest_eventrecorder_match`` hook is asked about every other field that differs.
The ini file's matchers are parsed here, from text, never evaluated (see
:func:`parse_ini_matchers`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from .fieldpaths import Path, join_path, parse_path
from .matchers import Matcher, any_of_type, approx, as_matcher, ignore, regex, unordered

MatchHook = Callable[[Any, Any, str], "bool | None"]
"""``(recorded, actual, path) -> True (accept) / False (reject) / None (no opinion)``."""
HOOK_NAME = "pytest_eventrecorder_match"
INI_MATCHERS = "ini option event_recorder_matchers"
_MISSING = "<missing>"
_MAX_REPR = 120
_ABSENT = object()


@dataclass(frozen=True)
class MatchRules:
    """The matchers of one comparison (path as written, parsed path, matcher), and the hook."""

    matchers: tuple[tuple[str, Path, Matcher], ...] = ()
    hook: MatchHook | None = None

    @classmethod
    def build(
        cls, matchers: Mapping[str, object] | None = None, hook: MatchHook | None = None
    ) -> MatchRules:
        """Rules from a ``{path: matcher}`` mapping (any value :func:`as_matcher` takes)."""
        entries = tuple(
            (text, parse_path(text, what="matchers"), as_matcher(value))
            for text, value in (matchers or {}).items()
        )
        return cls(entries, hook)

    @property
    def paths(self) -> tuple[Path, ...]:
        """The fields the matchers take out of the pairing key."""
        return tuple(path for _, path, _ in self.matchers)

    def check(self, recorded: Any, actual: Any) -> list[str]:
        """The field lines of every matched field of two events' data that is rejected."""
        out: list[str] = []
        done: set[str] = set()
        for _, path, matcher in self.matchers:
            rec, act = _found(recorded, path), _found(actual, path)
            for shown in [*rec, *(k for k in act if k not in rec)]:
                if shown not in done:
                    done.add(shown)
                    out += _judged(shown, rec.get(shown, _ABSENT), act.get(shown, _ABSENT), matcher)
        return out

    def judge(self, recorded: Any, actual: Any, path: str) -> list[str] | None:
        """The hook's verdict on one differing field: no line, a line, or None (default)."""
        if self.hook is None:
            return None
        answer = self.hook(recorded, actual, path)
        if answer is None:
            return None
        if answer is True:
            return []
        if answer is False:
            return [f"{path}: {_show(recorded)} != {_show(actual)} (rejected by {HOOK_NAME})"]
        raise TypeError(
            f"{HOOK_NAME} must answer True, False or None for {path}, got {type(answer).__name__}"
        )


def _found(data: Any, path: Path, shown: str = "event_data") -> dict[str, Any]:
    """Every field of ``data`` the path names, by its concrete path as reports print it."""
    out: dict[str, Any] = {}
    _collect(data, path, shown, out)
    return out


def _collect(data: Any, path: Path, shown: str, out: dict[str, Any]) -> None:
    if not path:
        out[shown] = data
        return
    if isinstance(data, Mapping):
        children: Iterable[tuple[Any, Any]] = data.items()
    elif isinstance(data, list):
        children = enumerate(data)
    else:
        return
    for key, value in children:
        if fnmatchcase(str(key), path[0]):
            _collect(value, path[1:], join_path(shown, key), out)


def _judged(shown: str, recorded: Any, actual: Any, matcher: Matcher) -> list[str]:
    rec = _MISSING if recorded is _ABSENT else _show(recorded)
    act = _MISSING if actual is _ABSENT else _show(actual)
    if recorded is _ABSENT or actual is _ABSENT:
        # ignore() accepts a field that came or went; every other matcher needs a value
        return [] if str(matcher) == "ignore" else [f"{shown}: {rec} != {act} ({matcher})"]
    try:
        if matcher.matches(recorded, actual):
            return []
    except Exception as exc:  # a matcher's bug is a failure naming it, not a crash
        return [f"{shown}: {rec} != {act} ({matcher} raised {type(exc).__name__}: {exc})"]
    return [f"{shown}: {rec} != {act} ({matcher})"]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


# --------------------------------------------------------------------------- the ini file

_LINE = re.compile(r"^(?P<path>.+?)\s+(?P<name>[A-Za-z_]\w*)\((?P<args>.*)\)\s*$", re.DOTALL)
_BUILT_INS: dict[str, Callable[..., Matcher]] = {
    "approx": approx,
    "any_of_type": any_of_type,
    "regex": regex,
    "unordered": unordered,
    "ignore": ignore,
}
_TYPE_NAMES: dict[str, type] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "list": list,
    "dict": dict,
    "None": type(None),
}


def parse_ini_matchers(lines: Iterable[str], what: str = INI_MATCHERS) -> dict[str, Matcher]:
    """``<field path> <matcher>(<arguments>)`` per line, for the built-in matchers only:
    ``event_data.price approx(rel=1e-3)``, ``order_id regex('o-\\d+')``,
    ``qty any_of_type(int, float)``. Arguments are numbers, text and type names, read as
    data (text as written, like a raw string); anything else is a ``ValueError`` naming
    the line."""
    out: dict[str, Matcher] = {}
    for line in (raw.strip() for raw in lines):
        if line and not line.startswith("#"):
            try:
                path, matcher = _parse_line(line)
            except (ValueError, TypeError, SyntaxError) as exc:
                raise ValueError(f"{what}: {line!r}: {exc}") from None
            out[path] = matcher
    return out


def _parse_line(line: str) -> tuple[str, Matcher]:
    found = _LINE.match(line)
    if found is None:
        raise ValueError("write '<field path> <matcher>(...)', e.g. 'price approx(rel=1e-3)'")
    path, name = found["path"].strip(), found["name"]
    parse_path(path, what="matcher path")
    if name not in _BUILT_INS:
        raise ValueError(f"unknown matcher {name!r}; choose from {', '.join(_BUILT_INS)}")
    # text is taken as written, like a raw string: regex('o-\d+') means o-\d+
    raw = found["args"].replace("\\", "\\\\")
    call = ast.parse(f"f({raw})", mode="eval").body
    assert isinstance(call, ast.Call)
    args = [_literal(node) for node in call.args]
    kwargs = {kw.arg: _literal(kw.value) for kw in call.keywords if kw.arg is not None}
    if len(kwargs) != len(call.keywords):
        raise ValueError("**arguments are not accepted")
    return path, _BUILT_INS[name](*args, **kwargs)


def _literal(node: ast.expr) -> Any:
    """A number, text or type name as data (a leading minus allowed)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _literal(node.operand)
        if isinstance(value, int | float):
            return -value
    if isinstance(node, ast.Name) and node.id in _TYPE_NAMES:
        return _TYPE_NAMES[node.id]
    raise ValueError(
        f"arguments may be only numbers, text and the type names {', '.join(_TYPE_NAMES)}; "
        f"got {ast.unparse(node)!r}"
    )
