"""Sequence rules: which events must keep their recorded order relative to which.

``ordered`` (the marker's option, and the diff engine's):

- ``"per_source"``: order is kept within each source; sources may interleave (the default);
- ``"global"``: one order for every event (the marker writes it ``True``);
- ``False``: any order;
- ``{"OrderPlaced": "per_key:event_data.order_id", "Tick": "any"}``: rules per event name,
  ``per_key:<path>`` keeping order only among events with the same value there (as a Kafka
  partition keeps it), ``any`` none, ``per_source`` or ``global``; names not listed keep
  per-source order.

Events under ordered rules are compared in groups, each in order; an event that is only out
of order within its group is ``moved``.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from typing import Any

from .cassette import RecordedEvent
from .fieldpaths import Path, keep_fields, split_path

Ordered = bool | str | Mapping[str, str]
"""An ``ordered`` value as written (see the module docstring)."""
PER_SOURCE, GLOBAL, ANY, PER_KEY = "per_source", "global", "any", "per_key:"
_ROOTS = ("event_data", "metadata")
_ACCEPTED = (
    "ordered must be 'per_source' (the default), 'global' (True on the marker), False (any "
    "order) or a dict {event name: 'per_key:event_data.<path>' | 'per_source' | 'global' | "
    "'any'}"
)


def check_ordered(value: object) -> Ordered:
    """``value`` if it is a valid rule, else a ``ValueError`` / ``TypeError`` saying what is."""
    if isinstance(value, bool) or value in (PER_SOURCE, GLOBAL):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f"{_ACCEPTED}; got {value!r}")
    for name, rule in value.items():
        if not isinstance(name, str):
            raise TypeError(f"ordered: the keys are event names, got {name!r}")
        _rule(name, rule)
    return value


def _rule(name: str, rule: object) -> tuple[str, tuple[str, Path] | None]:
    """One name's rule as (kind, (root, path) for per_key)."""
    if rule in (PER_SOURCE, GLOBAL, ANY):
        return str(rule), None
    if isinstance(rule, str) and rule.startswith(PER_KEY):
        text = rule[len(PER_KEY) :].strip()
        root, dot, rest = text.partition(".")
        if not text or not dot or root not in _ROOTS:
            raise ValueError(
                f"ordered[{name!r}] = {rule!r}: per_key needs a field path starting with "
                f"event_data. or metadata. (it is empty or has no root)"
            )
        return PER_KEY, (root, split_path(rest, what=f"ordered[{name!r}]"))
    raise ValueError(f"ordered[{name!r}] = {rule!r}: {_ACCEPTED}")


class Grouping:
    """Which group an event is compared in, and whether that group keeps order."""

    def __init__(self, ordered: Ordered, by_source: bool) -> None:
        check_ordered(ordered)
        self.by_source = by_source
        self.default = PER_SOURCE if ordered is True else str(ordered)
        self.rules = (
            {name: _rule(name, rule) for name, rule in ordered.items()}
            if isinstance(ordered, Mapping)
            else {}
        )
        if isinstance(ordered, Mapping):
            self.default = PER_SOURCE

    def group(self, event: RecordedEvent) -> tuple[Hashable, bool]:
        """(group key, keeps order) for one event."""
        kind, where = self.rules.get(event.event_name, (self.default, None))
        if kind == GLOBAL:
            return (GLOBAL,), True
        if kind == ANY:
            return (ANY, event.event_name), False
        if kind == PER_KEY:
            assert where is not None
            return (PER_KEY, event.event_name, _key_value(event, *where)), True
        return (PER_SOURCE, event.source if self.by_source else None), True


def _key_value(event: RecordedEvent, root: str, path: Path) -> str:
    value: Any = keep_fields(getattr(event, root), [path])
    return json.dumps(value, sort_keys=True, default=repr)
