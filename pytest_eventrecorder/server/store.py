"""The recordings folder as the dashboard sees it: safe names, cached listings, event indexes.

Every file name from a request goes through :meth:`RecordingStore.resolve`, which only ever
yields a cassette file inside the folder. Each opened file gets an :class:`EventIndex`, built
once and kept while the file's (mtime, size, inode) stay the same: a ``.jsonl`` file is
indexed by the byte offset of each line (pages are read with ``pread``), other formats keep
their parsed events. Filter results are cached per index, so paging never re-scans.
"""

from __future__ import annotations

import bisect
import contextlib
import gzip
import heapq
import io
import json
import logging
import math
import os
import re
import stat
import threading
import uuid
import zlib
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote

from ..cassette import (
    Cassette,
    CassetteError,
    CassetteHeader,
    JSONValue,
    RecordedEvent,
    collecting_unknown_fields,
)
from ..formats import (
    cassette_format,
    iter_events,
    read_cassette,
    read_header,
    write_cassette,
)

log = logging.getLogger("pytest_eventrecorder")

MAX_NAME_LENGTH = 255
MAX_FOLDER_DEPTH = 4
"""Sub-folders listed below the recordings folder (cassettes/<module>/... needs 1 or 2)."""
MAX_FIELD_PATHS = 500
"""Field paths listed per recording; data keyed by ids would otherwise list every id."""
PATH_SAMPLE = 32
"""Events walked for field paths per (event name, top-level keys)."""
MAX_LANE_SAMPLE = 500
QUERY_CACHE_SIZE = 32
_SUFFIX = {"json": ".json", "yaml": ".yaml", "jsonl": ".jsonl"}
_SUFFIXES = (".json", ".jsonl", ".yaml", ".yml")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")
_PATH_DEPTH = 8
_LIST_ITEMS_SCANNED = 20


class StoreError(Exception):
    """A request about a recording that cannot be served; ``status`` is the HTTP status."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadName(StoreError):
    """The file name is not a plain cassette file name inside the recordings folder."""


class NotFound(StoreError):
    status = 404


class BrokenRecording(StoreError):
    """The file exists but is not a readable cassette (its CassetteError message, path-free)."""

    status = 422


class NameClash(StoreError):
    status = 409


def check_name(filename: object) -> str:
    """``filename`` if it is a plain cassette file name, else :class:`BadName` saying why."""
    if not isinstance(filename, str) or not filename:
        raise BadName("the file name must be a non-empty string")
    problem = _name_problem(filename)
    if problem:
        raise BadName(f"invalid file name {filename!r}: {problem}")
    return filename


def _name_problem(name: str) -> str | None:
    """Why ``name`` is not a cassette's path relative to the folder (``sub/x.json`` is one:
    pytest writes cassettes into a folder per test module), or ``None``."""
    if len(name) > MAX_NAME_LENGTH:
        return f"longer than {MAX_NAME_LENGTH} characters"
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        return "contains a control character (NUL, newline, ...)"
    if "\\" in name:
        return "contains a backslash (folders are separated by '/')"
    if unquote(name) != name:
        return "contains a percent-encoded sequence"
    parts = name.split("/")
    if len(parts) > MAX_FOLDER_DEPTH + 1:
        return f"lies more than {MAX_FOLDER_DEPTH} folders deep"
    if any(not part for part in parts):
        return "must be a path relative to the recordings folder (no empty part, no leading '/')"
    if any(part.startswith(".") for part in parts):
        return "names starting with '.' (including '..') are not recordings or their folders"
    if not _has_cassette_suffix(name):
        return "must end in .json, .jsonl, .yaml or .yml (optionally + .gz)"
    return None


def _has_cassette_suffix(name: str) -> bool:
    """:func:`formats.is_cassette_path` without building a ``Path`` (the list calls it a lot)."""
    lowered = name.lower()
    bare = lowered[:-3] if lowered.endswith(".gz") else lowered
    return bare.endswith(_SUFFIXES)


def safe_stem(name: str) -> str:
    """A file-name stem made from free text (a session name): ASCII letters, digits, ``._-``."""
    stem = _DOTS.sub(".", _UNSAFE.sub("_", name)).strip("._-")[:100].rstrip("._-")
    return stem or "recording"


def suffix_of(filename: str) -> str:
    """The canonical suffix for a cassette name's format (``.json``, ``.jsonl.gz``, ...)."""
    fmt, gz = cassette_format(filename)
    return _SUFFIX[fmt] + (".gz" if gz else "")


def _public_error(exc: CassetteError, filename: str) -> BrokenRecording:
    """The cassette error with the server's absolute path replaced by the bare file name."""
    located = CassetteError(
        exc.problem, path=filename, line=exc.line, index=exc.index, field=exc.field
    )
    return BrokenRecording(str(located))


def _iso(timestamp: float) -> str:
    return (
        datetime.fromtimestamp(timestamp, timezone.utc)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


FileKey = tuple[int, int, int]


def _file_key(st: os.stat_result) -> FileKey:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


# --------------------------------------------------------------------------- the folder


class RecordingStore:
    """Safe, cached access to the cassettes in one folder (thread-safe)."""

    def __init__(self, root: str | os.PathLike[str], *, max_open: int = 8) -> None:
        self.root = Path(root)
        self.max_open = max_open
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._indexes: OrderedDict[str, EventIndex] = OrderedDict()
        self._entries: dict[str, tuple[FileKey, dict[str, Any]]] = {}

    def resolve(self, filename: object) -> Path:
        """The path of an existing recording; never anything outside the folder."""
        name = check_name(filename)
        root = self.root.resolve()
        real = (root / name).resolve()
        if not real.is_relative_to(root) or real == root:
            raise BadName(f"invalid file name {name!r}: it links outside the recordings folder")
        if not real.is_file():
            raise NotFound(f"no recording named {name!r}")
        return real

    # ------------------------------------------------------------------ listing

    def list_recordings(self) -> list[dict[str, Any]]:
        """One entry per cassette in the folder; a broken file carries ``"error"``."""
        if not self.root.is_dir():
            return []
        entries: dict[str, tuple[FileKey, dict[str, Any]]] = {}
        for name, item, st in self._files(self.root, "", 0):
            key = _file_key(st)
            cached = self._entries.get(name)
            if cached is not None and cached[0] == key:
                entries[name] = cached
            elif self._listable(name, item, st):
                entries[name] = (key, self._entry(name, Path(item.path), st))
        self._entries = entries
        return [entry for _, entry in entries.values()]

    def _files(
        self, folder: Path | str, prefix: str, depth: int
    ) -> Iterator[tuple[str, os.DirEntry[str], os.stat_result]]:
        """(relative name, entry, stat) of every file below ``folder``; sub-folders that are
        hidden or symlinks (which could loop or lead out) are not entered."""
        try:
            with os.scandir(folder) as scan:
                items = list(scan)
        except OSError:
            return
        for item in items:
            name = prefix + item.name
            try:
                if item.is_dir(follow_symlinks=False):
                    if depth < MAX_FOLDER_DEPTH and not item.name.startswith("."):
                        yield from self._files(item.path, name + "/", depth + 1)
                    continue
                st = item.stat()
            except OSError:
                continue
            yield name, item, st

    def _listable(self, name: str, item: os.DirEntry[str], st: os.stat_result) -> bool:
        if _name_problem(name) is not None or not stat.S_ISREG(st.st_mode):
            return False
        if not item.is_symlink():
            return True
        try:
            self.resolve(name)
        except StoreError:
            return False
        return True

    def _entry(self, name: str, path: Path, st: os.stat_result) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "filename": name,
            "session_name": None,
            "start_time": None,
            "total_events": None,
            "duration_ms": None,
            "size_bytes": st.st_size,
            "modified": _iso(st.st_mtime),
        }
        try:
            with collecting_unknown_fields():  # one odd file must not fail the whole list
                header = self._cached_header(name, _file_key(st)) or read_header(path)
        except CassetteError as exc:
            entry["error"] = str(_public_error(exc, name))
            return entry
        except OSError as exc:
            entry["error"] = f"{name}: cannot read the file ({exc.strerror})"
            return entry
        total, duration = header.total_events, header.duration_ms
        if total == 0 and cassette_format(name)[0] == "jsonl":
            # A stream cut short never got its final header: count what it holds.
            total, duration = _stream_totals(path, duration)
        entry.update(
            session_name=header.session_name,
            start_time=header.start_time,
            total_events=total,
            duration_ms=duration,
        )
        return entry

    def _cached_header(self, name: str, key: FileKey) -> CassetteHeader | None:
        index = self._indexes.get(name)
        return index.header if index is not None and index.key == key else None

    # ------------------------------------------------------------------ opening

    def open(self, filename: object) -> EventIndex:
        """The index of a recording, built on first use and rebuilt when the file changes."""
        name = check_name(filename)
        path = self.resolve(name)
        key = _file_key(path.stat())
        with self._lock:
            index = self._cached(name, key)
        if index is not None:
            return index
        with self._build_lock:
            with self._lock:
                index = self._cached(name, key)
            if index is None:
                index = build_index(name, path, key)
                with self._lock:
                    self._indexes[name] = index
                    while len(self._indexes) > self.max_open:
                        self._indexes.popitem(last=False)
        return index

    def _cached(self, name: str, key: FileKey) -> EventIndex | None:
        index = self._indexes.get(name)
        if index is None or index.key != key:
            return None
        self._indexes.move_to_end(name)
        return index

    # ------------------------------------------------------------------ writing

    def save_new(self, wanted: str, cassette: Cassette, suffix: str = ".json") -> str:
        """Write a new recording named after ``wanted`` (sanitised); an existing file is never
        replaced: ``name_1``, ``name_2``, ... are tried. Returns the file name used."""
        stem = safe_stem(wanted)
        self.root.mkdir(parents=True, exist_ok=True)
        draft = self.root / f".{stem}.{uuid.uuid4().hex}.draft{suffix}"
        write_cassette(draft, cassette)
        try:
            for n in range(1000):
                name = f"{stem}{suffix}" if n == 0 else f"{stem}_{n}{suffix}"
                try:
                    os.link(draft, self.root / name)  # fails rather than overwrite
                except FileExistsError:
                    continue
                log.info("Saved %d events to %s", len(cassette.events), self.root / name)
                return name
        finally:
            draft.unlink(missing_ok=True)
        raise NameClash(f"too many recordings are already named {stem}{suffix}")


def _stream_totals(path: Path, duration_ms: float) -> tuple[int, float]:
    """The events a ``.jsonl`` holds (one per line after the header) and the last one's
    offset, read block by block: no line is held whole, so a gzip bomb cannot fill memory."""
    newlines, tail = 0, b""
    with open(path, "rb") as raw, contextlib.ExitStack() as stack:
        stream: io.BufferedIOBase = raw
        if cassette_format(path)[1]:
            stream = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
        with contextlib.suppress(OSError, EOFError, zlib.error):  # cut off: count what came
            while block := stream.read(1 << 20):
                # A blank line holds no event: count only newlines ending a non-empty line.
                newlines += block.count(b"\n") - len(_BLANK.findall(tail[-1:] + block))
                tail = (tail + block)[-_TAIL_BYTES:]
    whole, _, partial = tail.rpartition(b"\n")
    events, last = newlines - 1, _offset_of(partial)  # an unended last line may be whole
    if last is not None:
        events += 1
    else:
        last = _offset_of(whole.rstrip().rpartition(b"\n")[2])
    return max(0, events), max(duration_ms, last or 0.0)


_TAIL_BYTES = 1 << 20
"""Bytes kept from a stream's end to read its last events' offsets."""
_BLANK = re.compile(rb"(?<=\n)[ \t\r]*\n")
"""A line holding nothing but white space, as the reader skips."""


def _offset_of(line: bytes) -> float | None:
    try:
        offset = json.loads(line)["timestamp_offset_ms"]
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    return float(offset) if isinstance(offset, int | float) and math.isfinite(offset) else None


# --------------------------------------------------------------------------- queries


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
        if self.field and any(not part for part in self.field.split(".")):
            raise ValueError(f"field {self.field!r} has an empty segment (use dots between keys)")

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
            found = values_at(event.event_data, self.field.split("."))
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


# --------------------------------------------------------------------------- indexes


@dataclass
class Columns:
    """Per-event name, source and offset, plus the events of each name and source."""

    offsets: array[float] = field(default_factory=lambda: array("d"))
    name_ids: array[int] = field(default_factory=lambda: array("i"))
    source_ids: array[int] = field(default_factory=lambda: array("i"))
    names: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    by_name: list[array[int]] = field(default_factory=list)
    by_source: list[array[int]] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)
    ordered: bool = True
    _name_ids: dict[str, int] = field(default_factory=dict)
    _source_ids: dict[str, int] = field(default_factory=dict)
    _walked: dict[tuple[str, tuple[str, ...]], int] = field(default_factory=dict)

    def add(self, event: RecordedEvent) -> None:
        offsets = self.offsets
        offset = event.timestamp_offset_ms
        if offsets and offset < offsets[-1]:
            self.ordered = False
        index = len(offsets)
        offsets.append(offset)
        name = event.event_name
        name_id = self._name_ids.get(name)
        if name_id is None:
            name_id = _intern(name, self._name_ids, self.names, self.by_name)
        self.name_ids.append(name_id)
        self.by_name[name_id].append(index)
        source = event.source or ""
        source_id = self._source_ids.get(source)
        if source_id is None:
            source_id = _intern(source, self._source_ids, self.sources, self.by_source)
        self.source_ids.append(source_id)
        self.by_source[source_id].append(index)
        data = event.event_data
        kind = (name, tuple(data) if type(data) is dict else ())
        walked = self._walked.get(kind, 0)
        if walked < PATH_SAMPLE:
            # Events of one name and key set share their shape: a sample lists the paths.
            self._walked[kind] = walked + 1
            collect_paths(data, "", self.paths)

    def name_id(self, name: str) -> int | None:
        return self._name_ids.get(name)

    def source_id(self, source: str) -> int | None:
        return self._source_ids.get(source)


def _intern(value: str, ids: dict[str, int], values: list[str], postings: list[array[int]]) -> int:
    found = ids.get(value)
    if found is None:
        found = ids[value] = len(values)
        values.append(value)
        postings.append(array("q"))
    return found


EventReader = Callable[[Iterable[int]], Iterator[RecordedEvent]]


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
        cassette: Cassette | None = None,
    ) -> None:
        self.filename = filename
        self.path = path
        self.key = key
        self.columns = columns
        self.count = len(columns.offsets)
        last = max(columns.offsets) if self.count else 0.0
        self.header = CassetteHeader(
            header.session_name,
            header.start_time,
            max(header.duration_ms, last),
            self.count,
            header.version,
            header.metadata,
        )
        self._read = read
        self._cassette = cassette
        self._lock = threading.Lock()
        self._queries: OrderedDict[EventQuery, Sequence[int]] = OrderedDict()
        self._timelines: dict[tuple[Any, ...], dict[str, Any]] = {}

    @property
    def duration_ms(self) -> float:
        return self.header.duration_ms

    def events_at(self, indices: Iterable[int]) -> Iterator[RecordedEvent]:
        """The events at these positions, in the order given."""
        try:
            yield from self._read(indices)
        except CassetteError as exc:
            raise _public_error(exc, self.filename) from None

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
        names, postings = self._lanes(by)
        counts = Counter({names[i]: len(p) for i, p in enumerate(postings)})
        return dict(counts.most_common())

    def _lanes(self, by: str) -> tuple[list[str], list[array[int]]]:
        cols = self.columns
        return (cols.names, cols.by_name) if by == "event_name" else (cols.sources, cols.by_source)

    # ------------------------------------------------------------------ filtering

    def matching(self, query: EventQuery) -> Sequence[int]:
        """The positions of the events the query selects, ascending (cached per query)."""
        if query.is_everything:
            return range(self.count)
        with self._lock:
            found = self._queries.get(query)
            if found is not None:
                self._queries.move_to_end(query)
                return found
        found = self._match(query)
        with self._lock:
            self._queries[query] = found
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return found

    def _match(self, query: EventQuery) -> Sequence[int]:
        candidates = self._by_columns(query)
        if not query.needs_data:
            return candidates
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
        key = (by, buckets, from_ms, to_ms)
        cached = self._timelines.get(key)
        if cached is None:
            cached = self._timelines[key] = self._timeline(by, buckets, from_ms, to_ms)
        return cached

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


# --------------------------------------------------------------------------- building


def build_index(filename: str, path: Path, key: FileKey) -> EventIndex:
    """Read a recording once: a plain ``.jsonl`` by line offsets, anything else whole."""
    log.info("Indexing %s", path)
    with collecting_unknown_fields():  # shown as read; a warning filter must not refuse it
        return _build_index(filename, path, key)


def _build_index(filename: str, path: Path, key: FileKey) -> EventIndex:
    try:
        fmt, gz = cassette_format(path)
        if fmt == "jsonl" and not gz:
            return _line_index(filename, path, key)
        cassette = read_cassette(path) if fmt != "jsonl" else _read_all_lines(path)
    except CassetteError as exc:
        raise _public_error(exc, filename) from None
    except OSError as exc:
        raise BrokenRecording(f"{filename}: cannot read the file ({exc.strerror})") from None
    columns = Columns()
    for event in cassette.events:
        columns.add(event)
    events = cassette.events

    def read(indices: Iterable[int]) -> Iterator[RecordedEvent]:
        return (events[i] for i in indices)

    return EventIndex(filename, path, key, cassette.header, columns, read, cassette)


def _read_all_lines(path: Path) -> Cassette:
    events = tuple(iter_events(path))
    return Cassette(read_header(path), events)


def _line_index(filename: str, path: Path, key: FileKey) -> EventIndex:
    header = read_header(path)
    starts: array[int] = array("q")
    lengths: array[int] = array("q")
    columns = Columns()
    loads, from_dict = _STRICT_JSON.decode, RecordedEvent.from_dict
    with open(path, "rb") as stream:
        position = len(stream.readline())
        for lineno, line in enumerate(stream, start=2):
            start, position = position, position + len(line)
            if not line.strip():
                continue
            try:
                raw = loads(line.decode())
            except (ValueError, RecursionError) as exc:
                if position == key[1] and not line.endswith(b"\n"):
                    log.warning("%s: line %d is incomplete; it was skipped", filename, lineno)
                    break
                raise _line_error(exc, filename, lineno) from None
            try:
                event = from_dict(raw, index=len(starts))
            except CassetteError as exc:
                raise _line_error(exc, filename, lineno) from None
            starts.append(start)
            lengths.append(len(line))
            columns.add(event)
    return EventIndex(filename, path, key, header, columns, _pread_reader(path, starts, lengths))


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number; cassettes hold finite numbers only")


_STRICT_JSON = json.JSONDecoder(parse_constant=_no_constant)
"""As the cassette reader decodes: NaN and Infinity refused (they are not JSON either)."""


def _line_error(exc: Exception, filename: str, lineno: int) -> BrokenRecording:
    if isinstance(exc, CassetteError):
        return _public_error(exc.located(line=lineno), filename)
    problem = "not valid UTF-8" if isinstance(exc, UnicodeDecodeError) else f"not valid JSON: {exc}"
    if isinstance(exc, RecursionError):
        problem = "nested too deeply to read"
    return BrokenRecording(str(CassetteError(problem, path=filename, line=lineno)))


def _pread_reader(path: Path, starts: array[int], lengths: array[int]) -> EventReader:
    def read(indices: Iterable[int]) -> Iterator[RecordedEvent]:
        fd = os.open(path, os.O_RDONLY)
        try:
            for i in indices:
                raw = json.loads(os.pread(fd, lengths[i], starts[i]))
                with collecting_unknown_fields():
                    event = RecordedEvent.from_dict(raw, index=i)
                yield event
        except ValueError as exc:
            if isinstance(exc, CassetteError):
                raise
            raise CassetteError(f"changed while being read ({exc})") from None
        finally:
            os.close(fd)

    return read
