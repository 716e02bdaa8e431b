"""Serving queries over an opened recording's index: filters, pages and timelines.

An :class:`EventIndex` holds a recording's header, its columns (built by :mod:`.index`) and
random access to its events. Filter results and timelines are cached per index, so paging
never re-scans.
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..cassette import Cassette, CassetteError, CassetteHeader, JSONValue, RecordedEvent
from ..fieldpaths import parse_path
from .cache import SizedCache
from .errors import public_error
from .textscan import Scan, raw_needle

if TYPE_CHECKING:
    from .index import Columns

MAX_LANE_SAMPLE = 500
RESULTS_BUDGET = 128 * 1024 * 1024
"""Bytes of filter results and timelines an index keeps when it has no store to share with."""

FileKey = tuple[int, int, int]
"""A file's (mtime_ns, size, inode): an index is valid while these stay the same."""

EventReader = Callable[[Iterable[int]], Iterator[RecordedEvent]]


@dataclass(frozen=True)
class EventQuery:
    """Which events to show; empty fields do not filter. A source of ``""`` means none."""

    event_names: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    text: str = ""
    field: str = ""
    value: str | None = None
    from_ms: float | None = None
    to_ms: float | None = None

    def __post_init__(self) -> None:
        if self.value is not None and not self.field:
            raise ValueError("'value' needs 'field' (the dotted path whose value to match)")
        if self.field:
            parse_path(self.field, what="field")  # the one path grammar (fieldpaths)

    @property
    def needs_data(self) -> bool:
        return bool(self.text or self.field)

    @property
    def is_everything(self) -> bool:
        return self == EventQuery()

    def accepts(self, event: RecordedEvent) -> bool:
        """The free-text and field parts (names, sources and times are matched by column)."""
        if self.text and not _text_matches(event, self.text.casefold()):
            return False
        if self.field:
            found = values_at(event.event_data, parse_path(self.field))
            if self.value is None:
                return next(found, _ABSENT) is not _ABSENT
            wanted = self.value.casefold()
            return any(as_text(v).casefold() == wanted for v in found)
        return True


_ABSENT = object()


def _text_matches(event: RecordedEvent, needle: str) -> bool:
    if needle in event.event_name.casefold() or needle in (event.source or "").casefold():
        return True
    return needle in json.dumps(event.event_data, ensure_ascii=False).casefold()


def as_text(value: JSONValue) -> str:
    """A value as a filter compares it: strings bare, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def values_at(data: JSONValue, parts: Sequence[str]) -> Iterator[JSONValue]:
    """Every value a dotted path reaches; segments are ``fnmatch`` patterns, list items are
    addressed by index (``items.0.sku``) or ``*``, as in :mod:`pytest_eventrecorder.fieldpaths`."""
    if not parts:
        yield data
        return
    head, rest = parts[0], parts[1:]
    if isinstance(data, dict):
        children: Iterable[tuple[str, JSONValue]] = ((str(k), v) for k, v in data.items())
    elif isinstance(data, list):
        children = ((str(i), v) for i, v in enumerate(data))
    else:
        return
    for key, value in children:
        if key == head or fnmatchcase(key, head):
            yield from values_at(value, rest)


class EventIndex:
    """One opened recording: its header, columns, and random access to its events."""

    def __init__(
        self,
        filename: str,
        path: Path,
        key: FileKey,
        header: CassetteHeader,
        columns: Columns,
        read: EventReader,
        held: int = 0,
        results: SizedCache[object] | None = None,
        cassette: Cassette | None = None,
        scan: Scan | None = None,
    ) -> None:
        """``held``: the bytes ``read`` keeps (parsed events, line offsets); filter results
        and timelines are kept in ``results``, shared by the store's indexes; ``scan``
        rules out lines that cannot hold a searched text before they are decoded."""
        self.filename = filename
        self.path = path
        self.key = key
        self.columns = columns
        self.count = len(columns.offsets)
        last = 0.0
        if self.count:  # the last is the latest when in order (max would walk them all)
            last = columns.offsets[-1] if columns.ordered else max(columns.offsets)
        self.header = CassetteHeader(
            header.session_name,
            header.start_time,
            max(header.duration_ms, last),
            self.count,
            header.version,
            header.metadata,
        )
        self.nbytes = held + 1000
        """The memory this index holds, about (what the store's budget counts)."""
        self._read = read
        self._cassette = cassette
        self._scan = scan
        self._results = SizedCache[object](RESULTS_BUDGET) if results is None else results

    @property
    def duration_ms(self) -> float:
        return self.header.duration_ms

    def events_at(self, indices: Iterable[int]) -> Iterator[RecordedEvent]:
        """The events at these positions, in the order given."""
        try:
            yield from self._read(indices)
        except CassetteError as exc:
            raise public_error(exc, self.filename) from None

    def cassette(self) -> Cassette:
        """The whole recording in memory (for replay and diff)."""
        if self._cassette is None:
            return Cassette(self.header, tuple(self.events_at(range(self.count))))
        return self._cassette

    def replay_source(self) -> Cassette | Path:
        """What to hand to :class:`EventReplayer`: a ``.jsonl`` file is streamed, not loaded."""
        return self.path if self._cassette is None else self._cassette

    def counts(self, by: str) -> dict[str, int]:
        """Events per name (``by="event_name"``) or per source, most common first."""
        names = self.columns.names if by == "event_name" else self.columns.sources
        counts = Counter(dict(zip(names, self.columns.counts(by), strict=True)))
        return dict(counts.most_common())

    def _lanes(self, by: str) -> tuple[list[str], list[array[int]]]:
        cols = self.columns
        return (cols.names, cols.by_name) if by == "event_name" else (cols.sources, cols.by_source)

    # ------------------------------------------------------------------ filtering

    def matching(self, query: EventQuery) -> Sequence[int]:
        """The positions of the events the query selects, ascending (cached per query)."""
        if query.is_everything:
            return range(self.count)
        key = (self.filename, self.key, query)
        found = self._results.get(key)
        if found is None:
            found = self._match(query)
            self._results.put(key, found, _positions_size(found))
        return cast(Sequence[int], found)

    def _match(self, query: EventQuery) -> Sequence[int]:
        candidates = self._by_columns(query)
        if not query.needs_data:
            return candidates
        needle = raw_needle(query.text) if query.text and self._scan else None
        if needle is not None and self._scan is not None:
            try:
                candidates = self._scan(candidates, needle)
            except CassetteError as exc:
                raise public_error(exc, self.filename) from None
        keep = query.accepts
        picked = array("q")
        for index, event in zip(candidates, self.events_at(candidates), strict=True):
            if keep(event):
                picked.append(index)
        return picked

    def _by_columns(self, query: EventQuery) -> Sequence[int]:
        cols = self.columns
        names = self._postings(query.event_names, cols.name_id, cols.by_name)
        sources = self._postings(query.sources, cols.source_id, cols.by_source)
        candidates: Sequence[int] = range(self.count)
        if names is not None:
            candidates = names
        elif sources is not None:
            candidates = sources
        if names is not None and sources is not None:
            wanted = {cols.source_id(s) for s in query.sources}
            candidates = array("q", (i for i in candidates if cols.source_ids[i] in wanted))
        return self._in_time(candidates, query.from_ms, query.to_ms)

    def _postings(
        self,
        values: tuple[str, ...],
        lookup: Callable[[str], int | None],
        postings: list[array[int]],
    ) -> Sequence[int] | None:
        if not values:
            return None
        ids = sorted({i for i in map(lookup, values) if i is not None})
        if len(ids) == 1:
            return postings[ids[0]]
        return array("q", heapq.merge(*(postings[i] for i in ids)))

    def _in_time(
        self, candidates: Sequence[int], lo: float | None, hi: float | None
    ) -> Sequence[int]:
        if lo is None and hi is None:
            return candidates
        low = -math.inf if lo is None else lo
        high = math.inf if hi is None else hi
        offsets = self.columns.offsets
        if isinstance(candidates, range) and self.columns.ordered:
            return range(bisect.bisect_left(offsets, low), bisect.bisect_right(offsets, high))
        return array("q", (i for i in candidates if low <= offsets[i] <= high))

    # ------------------------------------------------------------------ views

    def page(self, query: EventQuery, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """One page of matching events as dicts with their ``index``, and the match count."""
        found = self.matching(query)
        chosen = found[offset : offset + limit]
        events = self.events_at(chosen)
        return [{"index": i, **e.to_dict()} for i, e in zip(chosen, events, strict=True)], len(
            found
        )

    def timeline(
        self, by: str, buckets: int, from_ms: float | None = None, to_ms: float | None = None
    ) -> dict[str, Any]:
        """Lanes of events over time: counts per bucket and a capped sample of offsets."""
        key = (self.filename, self.key, by, buckets, from_ms, to_ms)
        found = self._results.get(key)
        if found is None:
            found = self._timeline(by, buckets, from_ms, to_ms)
            self._results.put(key, found, _timeline_size(found))
        return cast(dict[str, Any], found)

    def _timeline(
        self, by: str, buckets: int, from_ms: float | None, to_ms: float | None
    ) -> dict[str, Any]:
        lo = 0.0 if from_ms is None else from_ms
        hi = self.duration_ms if to_ms is None else to_ms
        width = (hi - lo) / buckets if hi > lo else 1.0
        offsets = self.columns.offsets
        names, postings = self._lanes(by)
        lanes = []
        for lane_id in sorted(range(len(names)), key=lambda i: -len(postings[i])):
            inside = [offsets[i] for i in postings[lane_id] if lo <= offsets[i] <= hi]
            histogram = [0] * buckets
            for t in inside:
                histogram[min(int((t - lo) / width), buckets - 1)] += 1
            step = max(1, math.ceil(len(inside) / MAX_LANE_SAMPLE))
            lanes.append(
                {
                    "name": names[lane_id],
                    "count": len(inside),
                    "offsets_ms": inside[::step],
                    "histogram": histogram,
                }
            )
        return {
            "duration_ms": self.duration_ms,
            "from_ms": lo,
            "to_ms": hi,
            "buckets": buckets,
            "by": by,
            "lanes": lanes,
        }


def _positions_size(found: Sequence[int]) -> int:
    return 100 + (found.itemsize * len(found) if isinstance(found, array) else 0)


def _timeline_size(timeline: dict[str, Any]) -> int:
    """The memory of a timeline's lists: a float object and a list slot per sampled offset, a
    list slot and (past 256) an int object per bucket; counted, not walked (it can hold
    millions of values)."""
    lanes: list[dict[str, Any]] = timeline["lanes"]
    values = sum(32 * len(lane["offsets_ms"]) + 36 * len(lane["histogram"]) for lane in lanes)
    return 1000 + values + 600 * len(lanes)
