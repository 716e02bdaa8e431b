"""Indexing a recording file: its columns, and random access to its events.

A ``.jsonl`` or ``.jsonl.gz`` file is indexed by the offset of each line (pages are read
again from the file, see :mod:`.lines`); other formats keep their parsed events.
:func:`stream_totals` counts a stream's events without indexing it (for the list). Every
number an index keeps must be a finite float: a 400-digit integer or ``1e400`` (infinity)
is a :class:`CassetteError` naming the field, never an ``OverflowError``.
"""

from __future__ import annotations

import json
import logging
import math
import operator
import re
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate, repeat
from pathlib import Path
from typing import Any, NoReturn

from ..cassette import (
    MAX_NESTING,
    Cassette,
    CassetteError,
    CassetteHeader,
    JSONValue,
    RecordedEvent,
    adopt_event,
    adopt_events,
    collecting_unknown_fields,
)
from ..codec import fast_loads, gc_paused
from ..formats import cassette_format, read_cassette, read_header
from .cache import SizedCache, size_of
from .diskindex import IndexFiles, StoredLines
from .errors import BrokenRecording, public_error
from .fastrows import decode_rows
from .lines import (
    MAX_BLANK_LINES,
    LineBatch,
    LineFile,
    blank_line_error,
    line_batches,
    runs,
)
from .query import EventIndex, EventReader, FileKey
from .textscan import line_scan

log = logging.getLogger("pytest_eventrecorder")

MAX_FIELD_PATHS = 500
"""Field paths listed per recording; data keyed by ids would otherwise list every id."""
PATH_SAMPLE = 32
"""Events walked for field paths per (event name, top-level keys)."""
_FLOAT_MAX = sys.float_info.max
SIZE_SAMPLE = 200
"""Events measured to estimate the memory of a recording held in memory."""
_PATH_DEPTH = 8
_LIST_ITEMS_SCANNED = 20


# --------------------------------------------------------------------------- numbers


def finite_ms(value: float, field_name: str, index: int | None = None) -> float:
    """``value`` as a float, or a :class:`CassetteError` naming the field when it has none
    (an integer of hundreds of digits) or is not finite."""
    try:
        number = float(value)
    except OverflowError:
        raise _too_large(field_name, index) from None
    if not math.isfinite(number):
        raise CassetteError(
            f"must be a finite number of milliseconds, got {value!r}", index=index, field=field_name
        )
    return number


def _too_large(field_name: str, index: int | None = None) -> CassetteError:
    return CassetteError(
        "must be a finite number of milliseconds, got an integer too large for a float",
        index=index,
        field=field_name,
    )


def read_checked_header(path: Path) -> CassetteHeader:
    """:func:`read_header`, whose numbers fit a float (the list sorts by them, the index adds
    to them)."""
    try:
        header = read_header(path)
    except OverflowError:  # a reader that has not refused it yet (the core reader will)
        raise _overflow(path) from None
    finite_ms(header.duration_ms, "duration_ms")
    return header


def _overflow(path: Path) -> CassetteError:
    if cassette_format(path)[0] == "jsonl":
        return _too_large("duration_ms")  # the only float of a header line
    return CassetteError(
        "field 'timestamp_offset_ms' or 'duration_ms' holds an integer too large for a float"
    )


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise CassetteError(
            f"the number {text[:40]} is out of range (it would read as infinity); "
            "cassettes hold finite numbers only"
        )
    return value


def _no_constant(name: str) -> NoReturn:
    raise CassetteError(f"{name} is not a JSON number; cassettes hold finite numbers only")


_STRICT_JSON = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)
"""As the cassette reader decodes: NaN and Infinity refused (they are not JSON either), and
so is a number too large for a float (it would read as infinity)."""
_JSON = json.JSONDecoder(parse_constant=_no_constant)
"""For lines read again from a file indexed (so checked) already: a float hook costs a page
about a quarter of its time, and the API's JSON provider refuses infinity anyway."""


def decode_event(
    line: bytes, index: int, decoder: json.JSONDecoder = _STRICT_JSON
) -> RecordedEvent:
    """One ``.jsonl`` line as an event; a :class:`CassetteError` or ``ValueError`` if not."""
    return _event_of(decoder.decode(line.decode()), index)


def _event_of(raw: object, index: int, *, walk: bool = True) -> RecordedEvent:
    """``RecordedEvent.from_dict``; without ``walk``, its data is taken as it is (the caller
    knows what the walk of :func:`check_data` would find)."""
    try:
        return RecordedEvent.from_dict(raw, index=index) if walk else adopt_event(raw, index)
    except OverflowError:  # the one number of an event
        raise _too_large("timestamp_offset_ms", index) from None


# --------------------------------------------------------------------------- counting


def stream_totals(path: Path, duration_ms: float) -> tuple[int, float]:
    """The events a ``.jsonl`` holds (one per non-blank line after the header) and the last
    one's offset, read block by block: no line is held whole, and a gzip bomb is refused."""
    newlines, blank, tail = 0, 0, b""
    for block in LineFile(path).blocks():
        edge = tail[-1:] + block[:1]
        if any(mark in block or mark == edge for mark in _BLANK_MARKS):
            blank += len(_BLANK.findall(tail[-1:] + block))  # rare: worth the slow scan
        if blank > MAX_BLANK_LINES:
            raise blank_line_error(path, None)
        newlines += block.count(b"\n")
        tail = (tail + block)[-_TAIL_BYTES:]
    events = newlines - blank - 1
    whole, _, partial = tail.rpartition(b"\n")
    last = _offset_of(partial)  # an unended last line may be whole
    if last is not None:
        events += 1
    else:
        last = _offset_of(whole.rstrip().rpartition(b"\n")[2])
    return max(0, events), max(duration_ms, last or 0.0)


_TAIL_BYTES = 1 << 20
"""Bytes kept from a stream's end to read its last events' offsets."""
_BLANK = re.compile(rb"(?<=\n)[ \t\r]*\n")
"""A line holding nothing but white space, as the reader skips."""
_BLANK_MARKS = (b"\n\n", b"\n ", b"\n\t", b"\n\r")
"""What starts every blank line: where none is found, the scan for them is skipped."""


def _offset_of(line: bytes) -> float | None:
    try:
        offset = json.loads(line)["timestamp_offset_ms"]
        return finite_ms(offset, "timestamp_offset_ms") if isinstance(offset, int | float) else None
    except (ValueError, TypeError, KeyError, RecursionError):
        return None


def collect_paths(data: JSONValue, prefix: str, out: set[str], depth: int = 0) -> None:
    """Add the dotted paths inside ``data`` to ``out`` (list items as ``*``; a dot inside a
    key as ``?``, the pattern that matches it, since a path splits on dots)."""
    if depth >= _PATH_DEPTH or len(out) >= MAX_FIELD_PATHS:
        return
    if isinstance(data, dict):
        for key, value in data.items():
            part = str(key).replace(".", "?")
            path = f"{prefix}.{part}" if prefix else part
            out.add(path)
            if isinstance(value, dict | list):
                collect_paths(value, path, out, depth + 1)
    elif isinstance(data, list):
        star = f"{prefix}.*" if prefix else "*"
        for item in data[:_LIST_ITEMS_SCANNED]:
            if isinstance(item, dict | list):
                collect_paths(item, star, out, depth + 1)


# --------------------------------------------------------------------------- columns


@dataclass
class Columns:
    """Per-event name, source and offset, plus the events of each name and source.

    The events of each name and source (``by_name``, ``by_source``) are listed on first use,
    in one pass over the ids: building them while indexing cost a 1M-event file a tenth of
    its first open, and opening it only needs the counts (``counts``).
    """

    offsets: array[float] = field(default_factory=lambda: array("d"))
    name_ids: array[int] = field(default_factory=lambda: array("i"))
    source_ids: array[int] = field(default_factory=lambda: array("i"))
    names: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)
    ordered: bool = True
    known_counts: dict[str, list[int]] = field(default_factory=dict)
    """Events per id, by ``"event_name"`` or ``"source"``, once counted (or read from disk)."""
    _postings: dict[str, list[array[int]]] = field(default_factory=dict)
    _name_ids: dict[str, int] = field(default_factory=dict)
    _source_ids: dict[str, int] = field(default_factory=dict)
    _walked: dict[tuple[str, tuple[str, ...]], int] = field(default_factory=dict)

    def add(self, event: RecordedEvent) -> None:
        offsets = self.offsets
        index = len(offsets)
        offset = event.timestamp_offset_ms
        if not 0 <= offset <= _FLOAT_MAX:  # NaN, infinity, or an int too large for a float
            offset = finite_ms(offset, "timestamp_offset_ms", index)
        if offsets and offset < offsets[-1]:
            self.ordered = False
        offsets.append(offset)
        name = event.event_name
        name_id = self._name_ids.get(name)
        if name_id is None:
            name_id = _intern(name, self._name_ids, self.names)
        self.name_ids.append(name_id)
        source = event.source or ""
        source_id = self._source_ids.get(source)
        if source_id is None:
            source_id = _intern(source, self._source_ids, self.sources)
        self.source_ids.append(source_id)
        self._forget_lanes()
        data = event.event_data
        kind = (name, tuple(data) if type(data) is dict else ())
        walked = self._walked.get(kind, 0)
        if walked < PATH_SAMPLE:
            # Events of one name and key set share their shape: a sample lists the paths.
            self._walked[kind] = walked + 1
            collect_paths(data, "", self.paths)

    def add_all(self, events: list[RecordedEvent]) -> None:
        """:meth:`add` for many events, a column at a time (several times faster)."""
        offsets = [e.timestamp_offset_ms for e in events]
        base = len(self.offsets)
        if not all(0 <= o <= _FLOAT_MAX for o in offsets):  # NaN, inf, a giant int: name it
            offsets = [finite_ms(o, "timestamp_offset_ms", base + i) for i, o in enumerate(offsets)]
        names = [e.event_name for e in events]
        self.extend(
            offsets, names, [e.source or "" for e in events], [e.event_data for e in events]
        )

    def extend(
        self, offsets: list[float], names: list[str], sources: list[str], datas: list[JSONValue]
    ) -> None:
        """Add events given as columns, their offsets checked finite and not negative."""
        base = len(self.offsets)
        if offsets and self.ordered:
            later = offsets[1:]
            self.ordered = not (base and offsets[0] < self.offsets[-1]) and not any(
                map(operator.gt, offsets, later)
            )
        self.offsets.fromlist(offsets)  # from a list: twice as fast as extend
        self.name_ids.fromlist(_ids(names, self._name_ids, self.names))
        self.source_ids.fromlist(_ids(sources, self._source_ids, self.sources))
        self._forget_lanes()
        self._walk(names, datas)

    def _walk(self, names: list[str], datas: list[JSONValue]) -> None:
        """Collect field paths from the first :data:`PATH_SAMPLE` events of each kind."""
        walked, paths = self._walked, self.paths
        if set(map(type, datas)) == {dict}:
            kinds = list(zip(names, map(tuple, datas), strict=True))
            if all(walked.get(kind, 0) >= PATH_SAMPLE for kind in set(kinds)):
                return  # every kind sampled already: the common case, checked in C
        else:
            kinds = [
                (n, tuple(d) if type(d) is dict else ()) for n, d in zip(names, datas, strict=True)
            ]
        for kind, data in zip(kinds, datas, strict=True):
            seen = walked.get(kind, 0)
            if seen < PATH_SAMPLE:
                # Events of one name and key set share their shape: a sample lists the paths.
                walked[kind] = seen + 1
                collect_paths(data, "", paths)

    def _forget_lanes(self) -> None:
        if self._postings or self.known_counts:
            self._postings, self.known_counts = {}, {}

    @property
    def by_name(self) -> list[array[int]]:
        """The positions of the events of each name id, ascending."""
        return self._lanes("event_name", self.name_ids, len(self.names))

    @property
    def by_source(self) -> list[array[int]]:
        return self._lanes("source", self.source_ids, len(self.sources))

    def _lanes(self, by: str, ids: array[int], size: int) -> list[array[int]]:
        found = self._postings.get(by)
        if found is None:  # two threads may both list them: the same lists, one kept
            positions: list[list[int]] = [[] for _ in range(size)]
            appends = [p.append for p in positions]
            for position, value_id in enumerate(ids):
                appends[value_id](position)
            found = self._postings[by] = [array("q", p) for p in positions]
        return found

    def counts(self, by: str) -> list[int]:
        """Events per name id (``by="event_name"``) or source id, without listing them."""
        found = self.known_counts.get(by)
        if found is None:
            names, ids = (
                (self.names, self.name_ids)
                if by == "event_name"
                else (self.sources, self.source_ids)
            )
            found = self.known_counts[by] = _tally(ids, len(names))
        return found

    @property
    def nbytes(self) -> int:
        """Memory held, about: the arrays (and the lists of positions per name and source,
        once made), and the names, sources and paths."""
        arrays: list[array[Any]] = [self.offsets, self.name_ids, self.source_ids]
        held = sum(a.itemsize * len(a) + 80 for a in arrays) + 16 * len(self.offsets)
        texts = (*self.names, *self.sources, *self.paths)
        return held + sum(len(t) + 120 for t in texts) + 200 * len(self._walked)

    def name_id(self, name: str) -> int | None:
        return self._name_ids.get(name)

    def source_id(self, source: str) -> int | None:
        return self._source_ids.get(source)


def _tally(ids: array[int], size: int) -> list[int]:
    """How often each id in ``range(size)`` occurs: up to 256 ids, by counting bytes of the
    ids' low byte (C speed, ~1 ms a million; a Counter takes ~50 ms)."""
    if size > 256:
        tally = Counter(ids)
        return [tally[i] for i in range(size)]
    low = 0 if sys.byteorder == "little" else ids.itemsize - 1
    column = ids.tobytes()[low :: ids.itemsize]
    return [column.count(i) for i in range(size)]


def _ids(values: list[str], ids: dict[str, int], known: list[str]) -> list[int]:
    """The ids of ``values`` (new ones interned)."""
    found: list[int] = list(map(ids.get, values, repeat(-1)))
    if -1 in found:
        found = [
            i if i >= 0 else _intern(v, ids, known) for i, v in zip(found, values, strict=True)
        ]
    return found


def _intern(value: str, ids: dict[str, int], values: list[str]) -> int:
    found = ids.get(value)
    if found is None:
        found = ids[value] = len(values)
        values.append(value)
    return found


# --------------------------------------------------------------------------- building


def build_index(
    filename: str,
    path: Path,
    key: FileKey,
    results: SizedCache[object] | None = None,
    files: IndexFiles | None = None,
) -> EventIndex:
    """Read a recording once: a ``.jsonl`` (gzipped or not) by line offsets, anything else
    whole. Filter results and timelines go to ``results`` (a cache of its own if none); a
    plain ``.jsonl`` big enough is read from, or else written to, the index ``files``."""
    with collecting_unknown_fields():  # shown as read; a warning filter must not refuse it
        try:
            if cassette_format(path)[0] == "jsonl":
                header = read_checked_header(path)
                return _line_index(filename, path, key, header, results, files)
            log.info("Indexing %s", path)
            return _whole_index(filename, path, key, _read_whole(path), results)
        except CassetteError as exc:
            raise public_error(exc, filename) from None
        except OSError as exc:
            raise BrokenRecording(f"{filename}: cannot read the file ({exc.strerror})") from None


def _read_whole(path: Path) -> Cassette:
    try:
        cassette = read_cassette(path)
    except OverflowError:
        raise _overflow(path) from None
    finite_ms(cassette.header.duration_ms, "duration_ms")
    return cassette


def _whole_index(
    filename: str, path: Path, key: FileKey, cassette: Cassette, results: SizedCache[object] | None
) -> EventIndex:
    columns = Columns()
    for event in cassette.events:
        columns.add(event)
    events = cassette.events

    def read(indices: Iterable[int]) -> Iterator[RecordedEvent]:
        return (events[i] for i in indices)

    held = columns.nbytes + _events_size(events)
    return EventIndex(filename, path, key, cassette.header, columns, read, held, results, cassette)


def _events_size(events: tuple[RecordedEvent, ...]) -> int:
    """The memory of parsed events, from an even sample (measuring all would cost a walk)."""
    if not events:
        return 0
    step = max(1, len(events) // SIZE_SAMPLE)
    sample = events[::step]
    measured = sum(size_of(e.__dict__) + 64 for e in sample)
    return measured * len(events) // len(sample) + 8 * len(events)


def _line_index(
    filename: str,
    path: Path,
    key: FileKey,
    header: CassetteHeader,
    results: SizedCache[object] | None,
    files: IndexFiles | None,
) -> EventIndex:
    lines = LineFile(path)
    if files is None or lines.gzipped or not files.wanted(key[1]):
        files = None  # a gzip stream's index needs its inflater states, which stay in memory
    stored = None if files is None else files.load(filename, path)
    if stored is None:
        log.info("Indexing %s", path)
        indexed = _read_lines(filename, lines)
        columns, starts, lengths = indexed.columns, indexed.starts, indexed.lengths
        if files is not None and not indexed.stopped:
            files.save(filename, path, key, _stored(columns, starts, lengths))
    else:
        columns, starts, lengths = _restored(stored), stored.starts, stored.lengths
    held = columns.nbytes + 16 * len(starts) + lines.nbytes
    reader = _line_reader(lines, starts, lengths)
    scan = line_scan(lines, starts, lengths)
    return EventIndex(filename, path, key, header, columns, reader, held, results, scan=scan)


def _read_lines(filename: str, lines: LineFile) -> _IndexedLines:
    indexed = _IndexedLines(filename)
    with gc_paused():  # what a batch parses is dropped at once: collections only cost (8%)
        for batch in line_batches(lines.blocks(checkpoints=True), BATCH_LINES):
            indexed.add(batch)
            if indexed.stopped:
                break
    return indexed


def _stored(columns: Columns, starts: array[int], lengths: array[int]) -> StoredLines:
    return StoredLines(
        columns.offsets,
        columns.name_ids,
        columns.source_ids,
        starts,
        lengths,
        columns.names,
        columns.sources,
        sorted(columns.paths),
        columns.ordered,
        columns.counts("event_name"),
        columns.counts("source"),
    )


def _restored(stored: StoredLines) -> Columns:
    return Columns(
        offsets=stored.offsets,
        name_ids=stored.name_ids,
        source_ids=stored.source_ids,
        names=stored.names,
        sources=stored.sources,
        paths=set(stored.paths),
        ordered=stored.ordered,
        known_counts={"event_name": stored.name_counts, "source": stored.source_counts},
        _name_ids={name: i for i, name in enumerate(stored.names)},
        _source_ids={source: i for i, source in enumerate(stored.sources)},
    )


BATCH_LINES = 1000
"""Lines parsed by one call: a JSON array of them parses several times faster than each."""


class _IndexedLines:
    """The columns and line offsets of a stream's events, added a batch of lines at a time:
    parsed as one JSON array when they can be, else line by line (blank lines, the header,
    a bad or cut-off line)."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.starts: array[int] = array("q")
        self.lengths: array[int] = array("q")
        self.columns = Columns()
        self.blank = 0
        self.stopped = False

    def add(self, batch: LineBatch) -> None:
        number, position, lines, ended = batch
        if number > 1 and ended:
            if self._add_rows(decode_rows(lines)):
                self._add_lines(position, lines)
                return
            events = self._parsed(lines)
            if events is not None:
                self.columns.add_all(events)
                self._add_lines(position, lines)
                return
        self._each(batch)

    def _add_rows(self, rows: list[Any] | None) -> bool:
        """Rows the fast decoder read: added, unless one needs the standard reader's check."""
        if not rows:
            return False
        offsets = [r.timestamp_offset_ms for r in rows]
        if min(offsets) < 0:  # msgspec refuses infinity and reads every number as a float
            return False
        names = [r.event_name for r in rows]
        sources = [r.source or "" for r in rows]
        self.columns.extend(offsets, names, sources, [r.event_data for r in rows])
        return True

    def _add_lines(self, position: int, lines: list[bytes]) -> None:
        lengths = list(map(len, lines))
        # Each line starts past the previous one and its newline (all in C: a lambda
        # here cost a tenth of a first open).
        self.starts.fromlist(list(accumulate(map((1).__add__, lengths[:-1]), initial=position)))
        self.lengths.fromlist(lengths)

    def _parsed(self, lines: list[bytes]) -> list[RecordedEvent] | None:
        try:
            rows = _STRICT_JSON.decode((b"[%b]" % b",".join(lines)).decode())
            # A blank line breaks the array; a line holding two values lengthens it.
            if len(rows) == len(lines):
                events = adopt_events(rows, len(self.starts))
                if all(0 <= e.timestamp_offset_ms <= _FLOAT_MAX for e in events):
                    return events
        except (ValueError, RecursionError, OverflowError):
            pass
        return None

    def _each(self, batch: LineBatch) -> None:
        number, position, lines, ended = batch
        for lineno, line in enumerate(lines, start=number):
            start, position = position, position + len(line) + 1
            if lineno == 1:
                continue  # the header, read by read_header
            if not line.strip():
                self.blank += 1
                if self.blank > MAX_BLANK_LINES:
                    raise blank_line_error(self.filename, lineno)
                continue
            try:
                event = decode_event(line, len(self.starts))
                self.columns.add(event)
            except (ValueError, RecursionError) as exc:
                if not ended and not isinstance(exc, CassetteError):
                    log.warning("%s: line %d is incomplete; it was skipped", self.filename, lineno)
                    self.stopped = True
                    return
                raise _line_error(exc, self.filename, lineno) from None
            self.starts.append(start)
            self.lengths.append(len(line))


def _line_error(exc: Exception, filename: str, lineno: int) -> BrokenRecording:
    if isinstance(exc, CassetteError):
        return public_error(exc.located(line=lineno), filename)
    problem = "not valid UTF-8" if isinstance(exc, UnicodeDecodeError) else f"not valid JSON: {exc}"
    if isinstance(exc, RecursionError):
        problem = "nested too deeply to read"
    return BrokenRecording(str(CassetteError(problem, path=filename, line=lineno)))


def _line_reader(lines: LineFile, starts: array[int], lengths: array[int]) -> EventReader:
    def read(indices: Iterable[int]) -> Iterator[RecordedEvent]:
        reader = lines.reader()
        try:
            for run in runs(indices, starts, lengths):
                first = starts[run[0]]
                last = run[-1]
                span = reader.read(first, starts[last] + lengths[last] - first)
                texts = [span[starts[i] - first : starts[i] - first + lengths[i]] for i in run]
                with collecting_unknown_fields():
                    events = _decoded(texts, run)
                yield from events
        except ValueError as exc:
            if isinstance(exc, CassetteError):
                raise
            raise CassetteError(f"changed while being read ({exc})") from None
        finally:
            reader.close()

    return read


def _decoded(lines: list[bytes], run: list[int]) -> list[RecordedEvent]:
    """The events on these lines (of an indexed file), decoded by msgspec in one call when
    installed: the standard library's decoder, a line at a time, was a third of the CPU of a
    page. Lines it refuses are decoded the standard way, which reads or words them."""
    parsed = fast_loads(b"[%b]" % b",".join(lines))
    rows = parsed[0] if parsed is not None else None
    # A blank line breaks the array; a line holding two values lengthens it.
    if type(rows) is not list or len(rows) != len(lines):
        return [decode_event(line, i, _JSON) for line, i in zip(lines, run, strict=True)]
    # check_data walks each event's data for a non-finite float, which msgspec never reads,
    # and for nesting past MAX_NESTING, which a line with fewer brackets cannot hold.
    return [
        _event_of(raw, i, walk=line.count(b"[") + line.count(b"{") > MAX_NESTING)
        for raw, line, i in zip(rows, lines, run, strict=True)
    ]
