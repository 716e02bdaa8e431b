"""Field paths: one way to name a field of an event's data, everywhere in the tool.

A path is written as a difference report prints it::

    path     := ["event_data."] segment ("." segment)*
    segment  := key | index | pattern | quoted
    key      := order_id, unit-price            (any text without a dot or a leading quote)
    index    := 0, 12                           (a list item by position)
    pattern  := meta.*, items.*.price, a?b      (``fnmatch`` wildcards: * ? [abc])
    quoted   := "unit.price" or 'unit.price'    (exactly this key: dots, spaces and wildcard
                                                 characters are plain text; escapes \\" \\'
                                                 \\\\ \\n \\t \\r \\b \\f \\/ \\uXXXX)

``event_data.order.id`` and the short form ``order.id`` are the same path: the short form is
what ``ignore_fields`` and ``redact`` always accepted, so it stays valid. A key that is itself
named ``event_data`` is written ``event_data.event_data`` (or quoted, ``"event_data"``). A
``?`` also matches a dot inside a key, which is how the dashboard lists such keys.

Where each place looks:

- ``ignore_fields``, ``redact``, ``--ignore-field``, the API's ``ignore_field``, the
  dashboard's field filter and its compare page: fields of ``event_data`` (either form).
- ``match_on``: a top-level field (``event_name``, ``source``, ``event_type``,
  ``event_data``, ``metadata``) compared whole, or a path inside ``event_data`` or
  ``metadata`` (``event_data.order.id``, ``metadata.k``): only the fields it names.
- ``--where``: a root, then a path (``event_data.items.0.qty``, ``event_data."unit price"``,
  ``metadata.k``); the root is required, since a bare name could be a top-level field, and
  wildcards have no meaning there (a comparison reads one value).

A path that names no field of any event is reported (a pytest warning, a CLI ``note:``,
the API's ``warnings``): it ignores, hides or compares nothing, and is usually a typo.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any, Final

Path = tuple[str, ...]
"""The segments of a path, each an ``fnmatch`` pattern (quoted keys are escaped)."""
ROOT: Final = "event_data"
ESCAPES: Final = {
    "\\": "\\",
    '"': '"',
    "'": "'",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "/": "/",
}
"""Backslash escapes inside a quoted key (JSON's, plus ``\\'``)."""
_PLAIN_KEY: Final = re.compile(r"[\w-]+")
_WILDCARD: Final = re.compile(r"([*?[])")
_DROP = object()


def parse_paths(paths: object, *, what: str = "field paths") -> tuple[Path, ...]:
    """Validate and split a list of paths; a bad entry is a ``ValueError`` naming it."""
    return tuple(parse_path(path, what=what) for path in _entries(paths, what))


def check_paths(paths: object, *, what: str = "field paths") -> tuple[str, ...]:
    """The paths as written, once each is known to be valid (for options that keep text)."""
    entries = _entries(paths, what)
    for path in entries:
        parse_path(path, what=what)
    return tuple(entries)


def _entries(paths: object, what: str) -> list[str]:
    if isinstance(paths, str | bytes) or not isinstance(paths, Sequence):
        raise TypeError(
            f"{what} must be a list of dotted paths like ['event_data.timestamp', 'order.id'], "
            f"got {paths!r}"
        )
    for path in paths:
        if not isinstance(path, str) or not path.strip():
            raise ValueError(f"{what}: every entry must be a non-empty string, got {path!r}")
    return list(paths)


@functools.lru_cache(maxsize=1024)
def parse_path(text: str, *, what: str = "field path") -> Path:
    """One path's segments; the ``event_data.`` prefix, written bare, is dropped (cached:
    filters parse their path once per event)."""
    segments, quoted = _split(text, what)
    if len(segments) > 1 and segments[0] == ROOT and not quoted[0]:
        segments = segments[1:]
    return tuple(segments)


def split_path(text: str, *, what: str = "field path") -> Path:
    """A path's segments, none dropped (for the part after an explicit root)."""
    return tuple(_split(text, what)[0])


def _split(text: str, what: str) -> tuple[list[str], list[bool]]:
    segments: list[str] = []
    quoted: list[bool] = []
    position = 0
    while True:
        if text[position : position + 1] in ('"', "'"):
            key, position = _quoted_key(text, position, what)
            segments.append(_WILDCARD.sub(r"[\1]", key))
            quoted.append(True)
        else:
            end = text.find(".", position)
            end = len(text) if end < 0 else end
            if end == position:
                raise ValueError(
                    f"{what}: {text!r} has an empty segment "
                    "(two dots, or a leading or trailing dot)"
                )
            segments.append(text[position:end])
            quoted.append(False)
            position = end
        if position == len(text):
            return segments, quoted
        if text[position] != ".":
            raise ValueError(f"{what}: {text!r} needs a '.' after a quoted key")
        position += 1
        if position == len(text):
            raise ValueError(f"{what}: {text!r} has an empty segment (a trailing dot)")


def _quoted_key(text: str, start: int, what: str) -> tuple[str, int]:
    """The key quoted at ``start`` and the position after its closing quote."""
    quote, out, i = text[start], [], start + 1
    while i < len(text) and text[i] != quote:
        if text[i] != "\\":
            out.append(text[i])
            i += 1
            continue
        char, i = _escape(text, i, what)
        out.append(char)
    if i >= len(text):
        raise ValueError(f"{what}: {text!r}: the quoted key at column {start + 1} is never closed")
    return "".join(out), i + 1


def _escape(text: str, i: int, what: str) -> tuple[str, int]:
    code = text[i + 1 : i + 2]
    digits = text[i + 2 : i + 6]
    if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", digits):
        return chr(int(digits, 16)), i + 6
    if code not in ESCAPES:
        raise ValueError(f"{what}: {text!r}: unknown escape '\\{code}' in a quoted key")
    return ESCAPES[code], i + 2


def show_key(key: object) -> str:
    """A key as a path segment: bare when it is a plain name or index, else quoted."""
    text = str(key)
    return text if _PLAIN_KEY.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def join_path(prefix: str, key: object) -> str:
    """``prefix.key``, the key quoted when it must be (so the result parses back)."""
    return f"{prefix}.{show_key(key)}"


# --------------------------------------------------------------------------- applying


def drop_fields(data: Any, paths: Sequence[Path]) -> Any:
    """A copy of ``data`` without the fields the paths name (``data`` itself if none)."""
    if not paths:
        return data
    return _walk(data, paths, lambda _value: _DROP)


def replace_fields(data: Any, paths: Sequence[Path], replacement: Any) -> Any:
    """A copy of ``data`` whose fields named by the paths hold ``replacement`` instead."""
    if not paths:
        return data
    return _walk(data, paths, lambda _value: replacement)


def _walk(data: Any, paths: Sequence[Path], action: Callable[[Any], Any]) -> Any:
    if isinstance(data, dict):
        out: dict[Any, Any] = {}
        for key, value in data.items():
            new = _visit(str(key), value, paths, action)
            if new is not _DROP:
                out[key] = new
        return out
    if isinstance(data, list):
        items = (_visit(str(i), value, paths, action) for i, value in enumerate(data))
        return [item for item in items if item is not _DROP]
    return data


def _visit(key: str, value: Any, paths: Sequence[Path], action: Callable[[Any], Any]) -> Any:
    matching = [p for p in paths if fnmatchcase(key, p[0])]
    if not matching:
        return value
    if any(len(p) == 1 for p in matching):
        return action(value)
    return _walk(value, [p[1:] for p in matching], action)


def keep_fields(data: Any, paths: Sequence[Path]) -> Any:
    """Only the fields the paths name, where they are (list items keep their positions, as
    ``{index: item}``); ``None`` when no path names anything in ``data``."""
    if isinstance(data, Mapping):  # metadata may be read-only
        children: Iterable[tuple[Any, Any]] = data.items()
    elif isinstance(data, list):
        children = enumerate(data)
    else:
        return None
    out: dict[Any, Any] = {}
    for key, value in children:
        matching = [p for p in paths if fnmatchcase(str(key), p[0])]
        if any(len(p) == 1 for p in matching):
            out[key] = value
        elif matching:
            kept = keep_fields(value, [p[1:] for p in matching])
            if kept is not None:
                out[key] = kept
    return out or None


def reaches(data: Any, path: Path) -> bool:
    """Whether the path names at least one field of ``data``."""
    if not path:
        return True
    if isinstance(data, Mapping):
        children: Iterable[tuple[str, Any]] = ((str(k), v) for k, v in data.items())
    elif isinstance(data, list):
        children = ((str(i), v) for i, v in enumerate(data))
    else:
        return False
    return any(fnmatchcase(key, path[0]) and reaches(value, path[1:]) for key, value in children)


class PathUsage:
    """Which of some paths reached a field in the data seen so far (to warn about the rest:
    a path that names nothing is usually a typo, and ignores or hides nothing)."""

    def __init__(self, paths: Sequence[str]) -> None:
        self._waiting = {text: parse_path(text) for text in paths}

    def see(self, data: Any) -> None:
        """Note the paths that reach a field of ``data``."""
        if self._waiting:
            for text in [t for t, path in self._waiting.items() if reaches(data, path)]:
                del self._waiting[text]

    def unmatched(self) -> list[str]:
        """The paths, as written, that reached no field in anything seen."""
        return list(self._waiting)
