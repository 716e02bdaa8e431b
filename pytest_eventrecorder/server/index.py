"""Indexing a recording file: its columns, and random access to its events.

A ``.jsonl`` file is indexed by the byte offset of each line (pages are read with ``pread``);
other formats keep their parsed events. :func:`stream_totals` counts a stream's events
without indexing it (for the list).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import logging
import math
import os
import re
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from ..cassette import (
    Cassette,
    CassetteError,
    JSONValue,
    RecordedEvent,
    collecting_unknown_fields,
)
from ..formats import cassette_format, iter_events, read_cassette, read_header
from .errors import BrokenRecording, public_error
from .query import EventIndex, EventReader, FileKey

log = logging.getLogger("pytest_eventrecorder")

MAX_FIELD_PATHS = 500
"""Field paths listed per recording; data keyed by ids would otherwise list every id."""
PATH_SAMPLE = 32
"""Events walked for field paths per (event name, top-level keys)."""
_PATH_DEPTH = 8
_LIST_ITEMS_SCANNED = 20


def stream_totals(path: Path, duration_ms: float) -> tuple[int, float]:
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
        raise public_error(exc, filename) from None
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
        return public_error(exc.located(line=lineno), filename)
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
