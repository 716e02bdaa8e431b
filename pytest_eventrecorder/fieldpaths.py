"""Dotted field paths with ``*`` wildcards, used to ignore and to redact parts of event data.

A path is anchored at the top of ``event_data``: ``"timestamp"`` names a top-level key,
``"order.id"`` a nested one, ``"meta.*"`` every key under ``meta``. List items are addressed
by index (``"items.0.price"`` or ``"items.*.price"``). Each segment is an ``fnmatch`` pattern.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from typing import Any

Path = tuple[str, ...]
_DROP = object()


def parse_paths(paths: object, *, what: str = "field paths") -> tuple[Path, ...]:
    """Validate and split a list of dotted paths; a bad entry is a ``ValueError`` naming it."""
    if isinstance(paths, str | bytes) or not isinstance(paths, Sequence):
        raise TypeError(
            f"{what} must be a list of dotted paths like ['timestamp', 'order.id'], got {paths!r}"
        )
    parsed = []
    for path in paths:
        if not isinstance(path, str) or not path.strip():
            raise ValueError(f"{what}: every entry must be a non-empty string, got {path!r}")
        segments = tuple(path.split("."))
        if any(not seg for seg in segments):
            raise ValueError(
                f"{what}: {path!r} has an empty segment (two dots, or a leading or trailing dot)"
            )
        parsed.append(segments)
    return tuple(parsed)


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
