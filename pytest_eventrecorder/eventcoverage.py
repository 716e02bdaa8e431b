"""Event coverage: which of the event names, sources and payload shapes seen in recordings of
real traffic the test cassettes exercise, and what they miss, by volume.

Three kinds of item are counted: an event name, a source (per event name), and a payload
shape: an event name with the set of field paths its ``event_data`` held (list items merged
under ``*``). An item is covered when any exercised cassette holds it. Coverage is the share
of distinct items covered (a rare error event counts as much as a frequent tick); the share
of recorded events whose three items are all covered is reported beside it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .cassette import JSONValue, RecordedEvent

KINDS = ("event name", "source", "shape")
MAX_SHAPE_PATHS = 64
"""A shape lists at most this many paths (the rest is marked ``...``)..."""
MAX_SHAPE_DEPTH = 8
"""... and goes at most this deep."""
MAX_ITEMS = 100_000
"""Distinct items tracked per kind; past that, new ones are counted together as 'other'."""
OTHER = "(other)"

Item = tuple[str, str]
"""(kind, description): ``("source", "OrderPlaced from Orders")``."""


def shape_of(data: JSONValue) -> tuple[str, ...]:
    """The sorted field paths of ``data`` (list items merged as ``*``: ``items.*.sku``),
    bounded in size and depth."""
    paths: set[str] = set()
    pending: list[tuple[str, Any, int]] = [("", data, 0)]
    while pending and len(paths) <= MAX_SHAPE_PATHS:
        prefix, value, depth = pending.pop()
        if depth >= MAX_SHAPE_DEPTH:
            continue
        children = _children(value)
        for key, child in children:
            path = f"{prefix}.{key}" if prefix else key
            if key != "*":  # a list's items are named by their own fields
                paths.add(path)
            pending.append((path, child, depth + 1))
    shown = sorted(paths)
    return (*shown[:MAX_SHAPE_PATHS], "...") if len(shown) > MAX_SHAPE_PATHS else tuple(shown)


def _children(value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        return ((str(k), v) for k, v in value.items())
    if isinstance(value, list):
        return (("*", v) for v in value)
    return ()


def items_of(event: RecordedEvent) -> tuple[Item, Item, Item]:
    """The event's three items: its name, its source, its shape."""
    name = event.event_name
    source = f"{name} from {event.source}" if event.source is not None else f"{name} (no source)"
    shape = f"{name} {{{', '.join(shape_of(event.event_data))}}}"
    return ("event name", name), ("source", source), ("shape", shape)


@dataclass
class Census:
    """How often each item occurs, bounded per kind."""

    counts: dict[str, Counter[str]] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    events: int = 0

    def add(self, event: RecordedEvent) -> tuple[Item, ...]:
        self.events += 1
        return tuple(self._note(item) for item in items_of(event))

    def _note(self, item: Item) -> Item:
        kind, text = item
        counter = self.counts[kind]
        if text not in counter and len(counter) >= MAX_ITEMS:
            text = OTHER
        counter[text] += 1
        return kind, text

    def __contains__(self, item: Item) -> bool:
        return item[1] in self.counts[item[0]]


def census(events: Iterable[RecordedEvent]) -> Census:
    found = Census()
    for event in events:
        found.add(event)
    return found


@dataclass(frozen=True)
class KindCoverage:
    kind: str
    covered: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0


@dataclass(frozen=True)
class Coverage:
    """What the cassettes exercise of the traffic recorded."""

    kinds: tuple[KindCoverage, ...]
    events: int
    events_covered: int
    uncovered: tuple[tuple[int, str, str], ...]
    """(events, kind, description), biggest first."""

    @property
    def covered(self) -> int:
        return sum(k.covered for k in self.kinds)

    @property
    def total(self) -> int:
        return sum(k.total for k in self.kinds)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    @property
    def events_percent(self) -> float:
        return 100.0 * self.events_covered / self.events if self.events else 100.0


def measure(traffic: Iterable[RecordedEvent], exercised: Census) -> Coverage:
    """Stream the recorded traffic once against what the cassettes held."""
    seen, whole = Census(), 0
    for event in traffic:
        whole += all(item in exercised for item in seen.add(event))
    return _summary(seen, exercised, whole)


def _summary(traffic: Census, exercised: Census, whole: int) -> Coverage:
    kinds: list[KindCoverage] = []
    uncovered: list[tuple[int, str, str]] = []
    for kind in KINDS:
        counts = traffic.counts[kind]
        missing = [(n, text) for text, n in counts.items() if (kind, text) not in exercised]
        kinds.append(KindCoverage(kind, len(counts) - len(missing), len(counts)))
        uncovered.extend((n, kind, text) for n, text in missing)
    uncovered.sort(key=lambda entry: (-entry[0], entry[1], entry[2]))
    return Coverage(tuple(kinds), traffic.events, whole, tuple(uncovered))


def report_lines(coverage: Coverage, *, top: int = 10) -> Iterator[str]:
    """The human report: one line per kind, the overall figure, the top uncovered items."""
    for k in coverage.kinds:
        yield f"  {k.kind + 's':<12} {k.covered:>6} of {k.total:<6} ({k.percent:5.1f}%)"
    yield (
        f"  {'overall':<12} {coverage.covered:>6} of {coverage.total:<6} "
        f"({coverage.percent:5.1f}%); events fully covered: {coverage.events_percent:.1f}%"
    )
    if coverage.uncovered and top:
        yield f"  not exercised, by volume (top {min(top, len(coverage.uncovered))}):"
        for n, kind, text in coverage.uncovered[:top]:
            yield f"    {n:>9,}  {kind:<10} {text}"
