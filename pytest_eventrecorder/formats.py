"""Reading and writing cassette files.

The suffix picks the format: ``.json`` (the seed's format, indented), ``.yaml``/``.yml``,
``.jsonl`` (a header line, then one event per line, read lazily), each optionally ``.gz``.
Every problem with a file's content surfaces as :class:`CassetteError`; writes are atomic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import gzip
import io
import json
import logging
import math
import os
import re
import sys
import tempfile
import warnings
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from datetime import date, datetime
from itertools import chain, islice
from operator import attrgetter
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple, Protocol, TypeVar

import yaml

try:
    import msgspec
except ImportError:  # the [fast] extra is optional
    msgspec = None  # type: ignore[assignment]
if sys.platform != "win32":
    import fcntl

from . import codec, yamlformat
from .cassette import (
    MAX_NESTING,
    Cassette,
    CassetteError,
    CassetteHeader,
    JSONValue,
    RecordedEvent,
    adopt_events,
    adopt_plain_events,
    adopt_rows,
    check_data,
    data_problem,
    share_names,
)
from .serialize import UNSERIALIZABLE_TAG

log = logging.getLogger("pytest_eventrecorder")

Format = Literal["json", "yaml", "jsonl"]
SUFFIXES: dict[str, Format] = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".jsonl": "jsonl"}
YAML_EXPANSION = 4
"""A YAML cassette may hold at most this many values per byte once its aliases are expanded."""
BLOCK_BYTES = 1 << 17
"""A ``.jsonl`` file is read this many bytes at a time (whole lines), never all at once:
small enough that a block is still in the processor's cache while its lines are parsed
(1 MB blocks made an instant replay 4-6% slower)."""


class _Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


class StreamInUseError(OSError):
    """Another recorder is streaming to this file (it holds the file's lock): the file is
    neither replaced nor changed."""


class TruncatedCassetteWarning(UserWarning):
    """The last line of a ``.jsonl`` cassette was cut short (a crash while writing); skipped."""


_Batch = tuple[list[RecordedEvent], bool]
"""Events read together, and whether the bytes they came from may hold a tagged value."""


class EventBlock(NamedTuple):
    """Consecutive events of a file, as :func:`iter_event_blocks` reads them."""

    first_index: int
    events: list[RecordedEvent]
    tagged: bool
    """False when no event here holds a tagged value, so the data needs no ``restore``."""


def cassette_format(path: str | os.PathLike[str]) -> tuple[Format, bool]:
    """The format named by a path's suffix, and whether it is gzip-compressed."""
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    if gz:
        suffixes.pop()
    fmt = SUFFIXES.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        known = ", ".join(sorted(SUFFIXES))
        raise CassetteError(
            f"unknown cassette format; the name must end in one of {known} (+ .gz)", path=p
        )
    return fmt, gz


def is_cassette_path(path: str | os.PathLike[str]) -> bool:
    """Whether a file name has a cassette suffix."""
    try:
        cassette_format(path)
    except CassetteError:
        return False
    return True


# --------------------------------------------------------------------------- reading


def read_cassette(path: str | os.PathLike[str], *, data: bytes | None = None) -> Cassette:
    """Load a whole cassette into memory; ``data``: a whole-document file's bytes as
    :func:`read_document_bytes` gave them (read again without the disk)."""
    p = Path(path)
    fmt, _ = cassette_format(p)
    if fmt == "jsonl":
        header = read_header(p)
        events = tuple(iter_events(p))
        return Cassette(_recount(header, events), events)
    with codec.gc_paused(kept=True):  # parsed documents hold no cycles: nothing to collect
        if fmt == "json":
            header, events = _read_json(p, data)
        else:
            header, events = _split_document(_load_document(p, fmt, data), p)
    return Cassette(_recount(header, events), events)


def may_hold_tags(data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether JSON text may hold a tagged value (a key starting ``__``): a cheap test of
    its bytes, never wrong when it says no. A key's underscores may be written as the
    escape ``\\u005f`` (either case of hex digit), which the quick look for ``"__`` alone
    would miss. ``rfind``, measured 2x faster than ``in`` on event lines; the escapes are
    looked for only when a backslash is there at all, which cassettes rarely hold (0.26 ->
    0.06 us per event of a 1M-event ``.jsonl``). ``start``, ``end``: the part of ``data``
    to look at."""
    if data.rfind(b'"__', start, end) >= 0:
        return True
    if data.find(b"\\", start, end) < 0:
        return False
    return data.find(b"\\u005f", start, end) >= 0 or data.find(b"\\u005F", start, end) >= 0


def read_document_bytes(path: str | os.PathLike[str]) -> bytes:
    """A whole-document cassette's bytes, inflated when ``.gz`` (a gzip bomb is refused)."""
    return _read_bytes(Path(path))


def read_header(path: str | os.PathLike[str]) -> CassetteHeader:
    """The header alone; cheap for ``.jsonl`` (its first line, counters as written there),
    a full parse otherwise."""
    p = Path(path)
    fmt, _ = cassette_format(p)
    if fmt != "jsonl":
        return read_cassette(p).header
    with _JsonlReader(p) as reader:
        return reader.header


def iter_events(path: str | os.PathLike[str]) -> Iterator[RecordedEvent]:
    """The events of a cassette one at a time; ``.jsonl`` files are never loaded whole.
    Every event's data is checked (:func:`~.cassette.check_data`)."""
    for block in _event_blocks(Path(path), checked=True):
        yield from block.events


def iter_event_blocks(path: str | os.PathLike[str]) -> Iterator[EventBlock]:
    """The events of a cassette in blocks (one block for whole-document formats).

    A truncated last line of a ``.jsonl`` file (a writer killed mid-event) is skipped with a
    :class:`TruncatedCassetteWarning`; any other bad line is a :class:`CassetteError`.
    The replay path: walking every event's data would cost a third of its speed, so a
    ``.jsonl``'s data is checked where a replay walks it anyway, in blocks holding tagged
    values (restored recursively), and where a number may be past the float range (read as
    infinity: lines the standard library read from bytes :func:`codec.may_overflow` flags);
    other formats and :func:`iter_events` check it all.
    """
    return _event_blocks(Path(path), checked=False)


def _event_blocks(path: Path, checked: bool) -> Iterator[EventBlock]:
    fmt, _ = cassette_format(path)
    if fmt != "jsonl":
        yield EventBlock(0, list(read_cassette(path).events), True)
        return
    with _JsonlReader(path, checked) as reader:
        yield from reader.blocks()


class _JsonlReader:
    """A ``.jsonl`` cassette read block by block, each block a run of whole lines."""

    def __init__(self, path: Path, checked: bool = True) -> None:
        self.path = path
        self._checked = checked
        """Whether every event's data is checked, or only tagged blocks' (see blocks())."""
        _, gz = cassette_format(path)
        self._raw = open(path, "rb")  # noqa: SIM115 - closed in __exit__
        self._stream: io.BufferedIOBase = (
            gzip.GzipFile(fileobj=self._raw, mode="rb") if gz else self._raw
        )
        # Capped like a whole .gz: a small file must not keep a reader busy for minutes.
        self._inflate_cap = _inflate_limit(os.fstat(self._raw.fileno()).st_size) if gz else None
        self._inflated = 0
        self._blank_lines = 0
        self._chunks = self._read_chunks()
        self._line = 0
        self._pending: list[tuple[bytes, bool]] = []
        try:
            self.header = self._read_header()
        except BaseException:  # no `with` block will close what __init__ opened
            self.__exit__()
            raise

    def __enter__(self) -> _JsonlReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._chunks.close()
        self._stream.close()
        self._raw.close()

    def _read_header(self) -> CassetteHeader:
        chunk, final = next(self._chunks, (b"", True))
        cut = chunk.find(b"\n") + 1 or len(chunk)
        if chunk[cut:]:
            self._pending.append((chunk[cut:], final))
        first = chunk[:cut].removeprefix(b"\xef\xbb\xbf")
        if not first.strip():
            raise CassetteError(
                "a .jsonl cassette starts with a header line", path=self.path, line=1
            )
        header = _parse_header_line(first, self.path)
        self._line = 1
        return header

    def _read_chunks(self) -> Generator[tuple[bytes, bool], None, None]:
        """Runs of whole lines; the final run (``True``) may end without a newline."""
        parts: list[bytes | memoryview] = []
        while data := self._read_block():
            self._count_inflated(len(data))
            cut = data.rfind(b"\n") + 1
            if not cut:  # a line longer than a block: keep collecting it
                parts.append(data)
                continue
            # A view, so the run's bytes are copied once, by the join (a slice copied them
            # first, a twentieth of a [fast] instant replay).
            parts.append(memoryview(data)[:cut] if parts or cut < len(data) else data)
            yield b"".join(parts), False
            parts = [data[cut:]] if cut < len(data) else []
        if parts:
            yield b"".join(parts), True

    def _count_inflated(self, size: int) -> None:
        """Cap the whole stream, and so any one line (held whole while it is parsed)."""
        self._inflated += size
        cap = self._inflate_cap
        if cap is not None and self._inflated > cap:
            raise CassetteError(
                f"inflates to more than {cap:,} bytes ({MAX_INFLATE_RATIO}x the file's size, "
                f"at least {MIN_INFLATE_LIMIT:,}): refused as a likely gzip bomb",
                path=self.path,
                line=self._line + 1,
            )

    def _read_block(self) -> bytes:
        try:
            # read1: one underlying read, so bytes decompressed before a cut-off gzip end
            # are returned first, and the EOFError only comes on the next call.
            return self._stream.read1(BLOCK_BYTES)
        except EOFError:
            log.warning("%s: the gzip stream ends early (the writer stopped)", self.path)
            return b""
        except (OSError, zlib.error) as exc:
            raise CassetteError(f"not a readable gzip file ({exc})", path=self.path) from None

    def blocks(self) -> Iterator[EventBlock]:
        index = 0
        for chunk, final in _chain(self._pending, self._chunks):
            for events, tagged in self._batches(chunk, final, index):
                yield EventBlock(index, events, tagged)
                index += len(events)

    def _batches(self, chunk: bytes, final: bool, index: int) -> Iterator[_Batch]:
        if not codec.FAST_DECODE:
            return self._tagged_batches(chunk, final, index, may_hold_tags(chunk))
        return self._piece_batches(chunk, final, index)

    def _tagged_batches(
        self, chunk: bytes, final: bool, index: int, tagged: bool
    ) -> Iterator[_Batch]:
        check = self._checked or tagged
        for events in self._text_batches(chunk, final, index, check):
            yield events, tagged

    def _piece_batches(self, chunk: bytes, final: bool, index: int) -> Iterator[_Batch]:
        """With msgspec: the events of ``LINES_PIECE_BYTES`` of whole lines at a time, as
        typed rows (:meth:`_typed`); a piece those do not fit is read as text, exactly.
        Each piece is looked at for tags just before its decode, while its bytes are in
        the processor's cache, and a tagged value costs only its piece a restore."""
        view, start = memoryview(chunk), 0
        while start < len(chunk):
            end = _piece_end(chunk, start)
            tagged = may_hold_tags(chunk, start, end)
            lines = chunk.count(b"\n", start, end)
            events = self._typed(view[start:end], lines, self._checked or tagged, index)
            if events is not None:
                yield events, tagged
                index += len(events)
            else:
                last = final and end == len(chunk)
                for batch in self._tagged_batches(chunk[start:end], last, index, tagged):
                    yield batch
                    index += len(batch[0])
            start = end

    def _typed(
        self, piece: memoryview, lines: int, check: bool, index: int
    ) -> list[RecordedEvent] | None:
        """The events of a piece's lines when :func:`codec.event_rows` reads them all, else
        ``None`` (with nothing counted): a dict and a Python check less per event."""
        if piece[-1] != _NEWLINE:  # the last line of a file may lack its newline
            return None
        rows = codec.event_rows(piece)
        if rows is None:
            return None
        first_line = self._line + 1
        self._line += lines
        events = adopt_rows(rows)
        if check:
            _check_rows(events, None, index, self.path, first_line)
        return events

    def _text_batches(
        self, chunk: bytes, final: bool, index: int, check: bool
    ) -> Iterator[list[RecordedEvent]]:
        first_line = self._line + 1
        # Lines the standard library reads may hold 1e400 (infinity), which only the check
        # refuses; the fast decoder refuses all such numbers, so it reads none of them.
        risky = codec.FAST_DECODE or codec.may_overflow(chunk)
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = first_line + chunk.count(b"\n", 0, exc.start)
            if not (final and b"\n" not in chunk[exc.start :]):
                place = exc.start - chunk.rfind(b"\n", 0, exc.start) - 1  # from its line's start
                raise CassetteError(
                    f"not valid UTF-8 (byte {place} of the line)", path=self.path, line=line
                ) from None
            # The writer stopped inside a multi-byte character: the whole lines before it stand.
            text = chunk[: chunk.rfind(b"\n") + 1].decode("utf-8")
            yield from self._parse_text(text, first_line, index, False, (check, risky))
            _warn_truncated(self.path, line)
            return
        yield from self._parse_text(text, first_line, index, final, (check, risky))

    def _parse_text(
        self, text: str, line: int, index: int, final: bool, checks: tuple[bool, bool]
    ) -> Iterator[list[RecordedEvent]]:
        """The events of whole lines of text, a small batch at a time, so a streamed event is
        garbage long before the file is read (and the garbage collector has little to scan).
        ``checks``: whether every event's data is checked, and whether those the standard
        library reads are (they may hold an infinity)."""
        check, risky = checks
        path = self.path
        lines = text.split("\n")
        self._line += len(lines) - 1  # the newlines: counted here, not by a scan of its own
        if not lines[-1]:
            lines.pop()  # the newline that ends the last line
        partial = final and not text.endswith("\n")
        for start in range(0, len(lines), BATCH_LINES):
            batch = lines[start : start + BATCH_LINES]
            rows, by_stdlib = _parse_batch(batch)
            offsets = None
            if rows is None:  # something unusual in there: line by line, exactly
                last = partial and start + len(batch) == len(lines)
                allowed = MAX_BLANK_LINES - self._blank_lines
                offsets, rows, blank = _parse_each(batch, path, line + start, (last, allowed))
                self._blank_lines += blank
            events = _adopt_rows(rows, offsets, index, path, line + start)
            if check or (risky and by_stdlib):
                _check_rows(events, offsets, index, path, line + start)
            index += len(events)
            yield events


LINES_PIECE_BYTES = 16 * 1024
"""With msgspec, a ``.jsonl`` block's lines are decoded this many bytes at a time (whole
lines, about a hundred events): one call per piece, and its events soon garbage."""
_NEWLINE = ord("\n")


def _piece_end(chunk: bytes, start: int) -> int:
    """Where the piece of whole lines starting at ``start`` ends: ``LINES_PIECE_BYTES`` on
    at most, unless its one line is longer (the chunk's end when no newline follows)."""
    cut = chunk.rfind(b"\n", start, start + LINES_PIECE_BYTES) + 1
    if cut > start:
        return cut
    return chunk.find(b"\n", start + LINES_PIECE_BYTES) + 1 or len(chunk)


MAX_BLANK_LINES = 1_000_000
"""Blank lines a ``.jsonl`` may hold (skipped). Writers never write them; a million is a
bomb (a megabyte of gzip holds a billion), not a recording."""


def _adopt_rows(
    rows: list[Any], offsets: list[int] | None, index: int, path: Path, line: int
) -> list[RecordedEvent]:
    """Events from parsed lines (``offsets``: each row's line within the batch, when
    blank lines were skipped); a bad one is an error naming its line and index."""
    try:
        return adopt_events(rows, index)
    except CassetteError as exc:
        number = (index if exc.index is None else exc.index) - index
        offset = number if offsets is None else offsets[number]
        raise exc.located(path=path, line=line + offset) from None


def _check_rows(
    events: list[RecordedEvent], offsets: list[int] | None, index: int, path: Path, line: int
) -> None:
    """:func:`~.cassette.check_data` for each event, an error naming its line and index.
    Flat data and metadata pass the C loops first (outputs carry ``{"caused_by": 3}``:
    each walked cost 0.7 us); lines the standard library parsed may hold infinities."""
    if not _piece_problems(events, finite=False):
        return
    for number, event in enumerate(events):
        fields = event.__dict__  # adopted rows: the fast way to their values
        meta = fields.get("metadata")
        if data_problem(fields["event_data"]) is None and (meta is None or not meta):
            continue
        try:
            check_data(event, index + number)
        except CassetteError as exc:
            offset = number if offsets is None else offsets[number]
            raise exc.located(path=path, line=line + offset) from None


def _chain(
    first: list[tuple[bytes, bool]], rest: Iterator[tuple[bytes, bool]]
) -> Iterator[tuple[bytes, bool]]:
    yield from first
    yield from rest


_DECODER = codec.DECODER

BATCH_LINES = 64
"""Lines parsed with one decoder call: JSON object keys are then shared, not rebuilt."""


def _parse_batch(lines: list[str]) -> tuple[list[Any] | None, bool]:
    """The lines' values, when each line holds one JSON object, else ``None``; and whether
    the standard library read them (or must, line by line), not the fast decoder.

    Any line that is blank, cut short or broken changes how many objects the joined text
    holds (or makes it invalid), so the count check sends such batches line by line. Only
    two lines that merge into one object *and* a third that splits into two, in the same
    batch, could pass unnoticed; no crash, cut or disk error writes that.
    """
    text = "[" + ",".join(lines) + "]"
    fast = codec.fast_loads(text)
    try:
        rows = _DECODER.decode(text) if fast is None else fast[0]
    except (StopIteration, ValueError, RecursionError):
        return None, True
    return (rows if len(rows) == len(lines) else None), fast is None


def _parse_each(
    lines: list[str], path: Path, line: int, partial_allowed: tuple[bool, int]
) -> tuple[list[int], list[Any], int]:
    """Line by line, for a batch that did not parse whole: blank lines are skipped (as many
    as ``allowed``), a cut-off last line is reported and dropped, and anything else broken
    is an error naming its line. Returns each value's line offset within the batch, the
    values, and how many blank lines were skipped."""
    last_is_partial, allowed = partial_allowed
    offsets: list[int] = []
    rows: list[Any] = []
    blank = 0
    for offset, body in enumerate(lines):
        if not body.strip():
            blank += 1
            if blank > allowed:
                raise CassetteError(
                    f"holds more than {MAX_BLANK_LINES:,} blank lines: refused as a likely "
                    "gzip bomb (cassette writers never write blank lines)",
                    path=path,
                    line=line + offset,
                )
            continue
        try:
            rows.append(_DECODER.decode(body))
        except (ValueError, RecursionError) as exc:
            if last_is_partial and offset == len(lines) - 1:
                _warn_truncated(path, line + offset)
                break
            raise _line_error(exc, path, line + offset) from None
        offsets.append(offset)
    return offsets, rows, blank


def _line_error(exc: BaseException, path: Path, line: int) -> CassetteError:
    if isinstance(exc, CassetteError):
        return exc.located(path=path, line=line)
    if isinstance(exc, RecursionError):
        return CassetteError("nested too deeply to read", path=path, line=line)
    if isinstance(exc, json.JSONDecodeError):
        return CassetteError(
            f"not valid JSON: {exc.msg} (column {exc.colno})", path=path, line=line
        )
    return CassetteError(f"not valid JSON: {exc}", path=path, line=line)


def _warn_truncated(path: Path, lineno: int) -> None:
    message = f"{path}: line {lineno} is incomplete (the writer stopped mid-event); it was skipped"
    log.warning(message)
    warnings.warn(message, TruncatedCassetteWarning, stacklevel=2)


def _parse_header_line(line: bytes, path: Path) -> CassetteHeader:
    try:
        raw = _DECODER.decode(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CassetteError(f"not valid UTF-8 (byte {exc.start})", path=path, line=1) from None
    except (ValueError, RecursionError) as exc:
        raise _line_error(exc, path, 1) from None
    if isinstance(raw, dict) and "events" in raw:
        raise CassetteError(
            "line 1 holds a whole JSON cassette; name the file .json", path=path, line=1
        )
    try:
        return _checked_header(raw)
    except CassetteError as exc:
        raise exc.located(path=path, line=1) from None


def _checked_header(raw: JSONValue) -> CassetteHeader:
    header = CassetteHeader.from_dict(raw)
    problem = data_problem(header.metadata)
    if problem is not None:
        raise CassetteError(problem, field="metadata")
    return header


def _load_document(path: Path, fmt: Format, data: bytes | None) -> JSONValue:
    if data is None:
        data = _read_bytes(path)
    if fmt == "json":  # bytes straight to the fast decoder: no copy as text
        parsed = codec.fast_loads(data.removeprefix(b"\xef\xbb\xbf"))
        if parsed is not None:
            return parsed[0]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CassetteError(f"not valid UTF-8 (byte {exc.start})", path=path, line=line) from None
    if fmt == "yaml":
        return _load_yaml(text, path)
    try:
        return codec.loads(text)
    except json.JSONDecodeError as exc:
        raise CassetteError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno) from None
    except CassetteError as exc:
        raise exc.located(path=path) from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise CassetteError(f"not valid JSON: {exc}", path=path) from None
    except RecursionError:
        raise CassetteError("nested too deeply to read", path=path) from None


def _read_bytes(path: Path) -> bytes:
    _, gz = cassette_format(path)
    data = path.read_bytes()
    if not gz:
        return data
    limit = _inflate_limit(len(data))
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as packed:
            inflated = packed.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise CassetteError(f"not a readable gzip file ({exc})", path=path) from None
    if len(inflated) > limit:
        raise CassetteError(
            f"inflates to more than {limit:,} bytes ({MAX_INFLATE_RATIO}x its size): refused as a "
            "likely gzip bomb; a big recording belongs in a streamed .jsonl.gz",
            path=path,
        )
    return inflated


def _inflate_limit(gzip_size: int) -> int:
    return max(MIN_INFLATE_LIMIT, MAX_INFLATE_RATIO * gzip_size)


MAX_INFLATE_RATIO = 200
"""A whole-document ``.gz`` cassette, or one line of a ``.jsonl.gz``, may inflate to this many
times the file's size (JSON compresses 10-50x; a gzip bomb about 1000x) ..."""
MIN_INFLATE_LIMIT = 256 * 1024 * 1024
"""... or to this many bytes, whichever is more."""


def _load_yaml(text: str, path: Path) -> JSONValue:
    try:
        raw = _yaml_parse(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise CassetteError(f"not valid YAML: {exc.problem}", path=path, line=line) from None
    except yaml.reader.ReaderError as exc:  # its str() spans two lines; errors are one line
        line = text.count("\n", 0, exc.position) + 1
        problem = f"character U+{exc.character:04X} is not allowed ({exc.reason})"
        raise CassetteError(f"not valid YAML: {problem}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise CassetteError(f"not valid YAML: {exc}", path=path) from None
    except RecursionError:
        raise CassetteError("nested too deeply to read", path=path) from None
    except ValueError as exc:  # an int too long to convert (sys.get_int_max_str_digits)
        raise CassetteError(f"not valid YAML: {exc}", path=path) from None
    try:
        return _plain(raw, set(), [YAML_EXPANSION * len(text) + 1000], 0)
    except CassetteError as exc:
        raise exc.located(path=path) from None
    except RecursionError:
        raise CassetteError("nested too deeply to read", path=path) from None


def _yaml_parse(text: str) -> Any:
    """``yaml.safe_load(text)``, by libyaml's C loader (10x faster) when PyYAML has it and
    the text holds nothing where the two parsers were seen to disagree (fuzzed): comments,
    tags, directives, tabs, flow collections other than ``[]``/``{}``, line and byte-order
    marks, characters beyond the BMP. Any error is worded by the Python parser."""
    if _C_SAFE_LOADER is not None and not _c_unsure(text):
        with contextlib.suppress(yaml.YAMLError):
            return yaml.load(text, Loader=_C_SAFE_LOADER)  # noqa: S506 - a C SafeLoader
    return yaml.safe_load(text)


def _c_unsure(text: str) -> bool:
    # two searches: one alternation of both scans 1.8x slower
    return bool(_YAML_C_UNSURE_CHAR.search(text) or _YAML_C_UNSURE_FLOW.search(text))


_C_SAFE_LOADER = yamlformat.SAFE_LOADER
_YAML_C_UNSURE_CHAR = re.compile(
    "[^\n\r\x20\x22\x24\x26-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]"
)
_YAML_C_UNSURE_FLOW = re.compile("[\\[{](?![\\]}])")


def _plain(value: Any, active: set[int], budget: list[int], depth: int) -> JSONValue:
    """YAML values brought down to what JSON can hold (YAML reads bare dates as dates).

    ``budget`` holds how many more values may be visited: aliases may repeat a block, but
    not expand a small file into billions of values ("billion laughs"). Below
    ``_YAML_DEPTH`` values are left as they are: too deep for any event, which
    :func:`~.cassette.check_data` then refuses by name (recursing on would overflow)."""
    if isinstance(value, dict | list):
        if depth > _YAML_DEPTH:
            return value
        if id(value) in active:
            raise CassetteError("a YAML alias refers back to its own anchor")
        budget[0] -= len(value)
        if budget[0] < 0:
            raise CassetteError(
                f"YAML aliases expand to more than {YAML_EXPANSION} values per byte of the file"
            )
        active.add(id(value))
        try:
            return _plain_container(value, active, budget, depth + 1)
        finally:
            active.discard(id(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise CassetteError(f"{value!r} is not allowed; cassettes hold finite numbers only")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise CassetteError(f"YAML type {type(value).__name__} has no JSON equivalent")


def _plain_container(
    value: dict[Any, Any] | list[Any], active: set[int], budget: list[int], depth: int
) -> JSONValue:
    # most values are text, ints, bools or nulls, which _plain returns as they are: no call
    if isinstance(value, list):
        return [v if type(v) in _AS_IS else _plain(v, active, budget, depth) for v in value]
    out = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise CassetteError(f"mapping keys must be strings, got {key!r}")
        out[key] = item if type(item) in _AS_IS else _plain(item, active, budget, depth)
    return out


_AS_IS = frozenset({str, int, bool, type(None)})


_YAML_DEPTH = MAX_NESTING + 3
"""The document, its ``events`` list and an event sit above an event's data."""


_EVENT_DATA = attrgetter("event_data")
_METADATA = attrgetter("metadata")
_OFFSET = attrgetter("timestamp_offset_ms")


def _split_document(raw: JSONValue, path: Path) -> tuple[CassetteHeader, tuple[RecordedEvent, ...]]:
    try:
        header = _checked_header(raw)
        events_raw = raw.get("events")
        if not isinstance(events_raw, list):
            raise CassetteError(
                f"required list is missing or not a list (got {type(events_raw).__name__})",
                field="events",
            )
        events = _adopted(events_raw)
        if _data_problems(events):  # looked for again event by event, to name them
            for index, event in enumerate(events):
                check_data(event, index)
    except CassetteError as exc:
        raise exc.located(path=path) from None
    return header, events


def _data_problems(events: Sequence[RecordedEvent]) -> bool:
    """Whether any event's data or metadata is refused (see :func:`check_data`): looked for
    by map(), which calls nothing for absent metadata."""
    metadata = filter(None, map(_METADATA, events))
    return any(map(data_problem, map(_EVENT_DATA, events))) or any(map(data_problem, metadata))


Split = tuple[CassetteHeader, tuple[RecordedEvent, ...]]


def _read_json(path: Path, data: bytes | None) -> Split:
    """A ``.json`` document's header and events, read in pieces when it can be."""
    if data is None:
        data = _read_bytes(path)
    split = _json_in_pieces(data)
    if split is not None:
        return split
    raw = _load_document(path, "json", data)
    del data  # the caller's copy, if any, is all that stays while the events are made
    return _split_document(raw, path)


def _json_in_pieces(data: bytes) -> Split | None:
    """A ``.json`` read a slice of events at a time, each slice parsed, adopted (its names
    and sources shared) and its parsed rows dropped before the next. The whole document
    parsed at once held every event's own name and source (136 bytes an event) until the
    end of the parse, its peak: level with ``json.load``'s with msgspec, above it by the
    text decoded from the bytes without; read in slices, it stays below (see
    ``benchmarks/bench_codec.py``).

    The header is the text before the top-level events (read with an empty list in their
    place), and the events, their document's last field as writers write them, are cut
    before an event starting with its offset, at about every :data:`PIECE_BYTES`.

    ``None`` (the document is then read whole, for the same result, error or warning)
    unless the document is a valid cassette ending with its events, with only known header
    fields and every event plain (see :func:`adopt_plain_events`). Its values are the whole
    parse's: JSON values read the same wherever they stand."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        found = _header_fields(data)
        close = _closing_bracket(data)
        if found is None or close < found[1] or not found[0].keys() <= _HEADER_KEYS:
            return None
        header = _checked_header(found[0])
        events = _events_in_pieces(data, found[1], close)
    except (ValueError, RecursionError):  # msgspec's errors and CassetteError too
        return None
    return None if events is None else (header, events)


def _events_in_pieces(data: bytes, start: int, close: int) -> tuple[RecordedEvent, ...] | None:
    """The events between ``start`` and the bracket at ``close``, a piece at a time
    (``None`` at the first piece holding an event that is not plain or data refused)."""
    shared: dict[Any, Any] = {}
    events: list[RecordedEvent] = []
    while start <= close:
        piece = _piece(data, start, close)
        if piece is None:
            return None
        alone = not events and piece[1] > close  # a document of one piece
        made = _plain_events(*piece[0], shared, alone)
        if made is None or _piece_problems(made):
            return None
        events += made
        start = piece[1]
    return tuple(events)


def _plain_events(
    rows: list[Any], typed: bool, shared: dict[Any, Any], alone: bool
) -> list[RecordedEvent] | None:
    """The events of a piece's rows, plain ones (``None`` if not); ``typed``: rows msgspec
    already found plain, whose names and sources are still to share, unless ``alone``:
    a whole document of at most :data:`TYPED_BYTES`, which sharing would make smaller
    by a few hundred KB at most, for 0.1 ms per 1,000 events."""
    if not typed:
        return adopt_plain_events(rows, shared)
    if not alone:
        share_names(rows, shared)
    return adopt_rows(rows)


def _piece(data: bytes, start: int, close: int) -> tuple[tuple[list[Any], bool], int] | None:
    """The events from ``start`` to the first comma between events past
    :data:`PIECE_BYTES` (or to ``close``) and where the next piece starts; ``None`` when
    the first few such commas all stand inside an event, or when the rest of the events,
    with no such comma, is longer than :data:`LAST_PIECE_BYTES`."""
    after = start + PIECE_BYTES
    for _ in range(_CUTS_TRIED):
        cut = _NEXT_EVENT.search(data, after, close) if after < close else None
        if cut is None and close - start > LAST_PIECE_BYTES:
            return None
        end = close if cut is None else cut.end() - 1
        try:
            return _rows(b"".join((b"[", memoryview(data)[start:end], b"]"))), end + 1
        except ValueError:
            if cut is None:
                raise
            after = cut.end()
    return None


def _rows(text: bytes) -> tuple[list[Any], bool]:
    """A piece's rows, and whether they are typed (see :func:`codec.plain_event_rows`,
    tried on a piece of at most :data:`TYPED_BYTES`); else parsed as any JSON (a
    ``ValueError`` when the piece is not JSON)."""
    rows = codec.plain_event_rows(text) if len(text) <= TYPED_BYTES else None
    return (_decode(text), False) if rows is None else (rows, True)


TYPED_BYTES = 1 << 19
"""Typed rows, a struct and then a dict each, beat dicts checked in Python on a small
piece (a 1,000-event cassette read 1.57 -> 1.37 ms), not on a whole 2 MB one, whose
dicts are made while the first structs are long out of the CPU's caches (a 200k-event
``.json`` read 330 -> 370 ms)."""


_NEXT_EVENT = re.compile(rb'\}[ \t\n\r]*,(?=[ \t\n\r]*\{[ \t\n\r]*"timestamp_offset_ms")')
"""A comma that may stand between two events: the one before it ends with a brace and
the next starts with its offset (the first field writers write). Inside an event, the
text up to it is not valid JSON, which is how such a comma is told from one between."""
PIECE_BYTES = 1 << 21
"""Bytes of events parsed at a time (about 12,000 small events)."""
LAST_PIECE_BYTES = 1 << 23
"""Events with no comma to cut at (not starting with their offset, or a few huge ones)
are read whole beyond this size: their piece, a copy, would add to the peak."""
_CUTS_TRIED = 4


def _header_fields(data: bytes) -> tuple[dict[str, Any], int] | None:
    """The document's fields before its top-level events (with an empty list as events),
    and where its events start. The text before the top-level key ``"events"`` is the
    one whose fields, an empty list of events and a brace make a whole JSON object: up to
    a key anywhere else (in a string, a nested object), they cannot."""
    for key in islice(_EVENTS_KEY.finditer(data), _CUTS_TRIED):  # more: nested "events"
        with contextlib.suppress(ValueError):
            fields = _decode(data[: key.start()] + b'"events": []}')
            return (fields, key.end()) if type(fields) is dict else None
    return None


_EVENTS_KEY = re.compile(rb'"events"[ \t\n\r]*:[ \t\n\r]*\[')
_HEADER_KEYS = frozenset((*(f.name for f in dataclasses.fields(CassetteHeader)), "events"))


def _closing_bracket(data: bytes) -> int:
    """Where the bracket closing the events is when they are the document's last field:
    the last ``]``, followed only by ``}`` and whitespace (-1 when there is none)."""
    end = len(data)
    for expected in b"}]":
        while end and data[end - 1] in b" \t\n\r":
            end -= 1
        end -= 1
        if end < 0 or data[end] != expected:
            return -1
    return end


def _decode_text(data: bytes) -> Any:
    return _DECODER.decode(data.decode("utf-8"))


_MSGSPEC = msgspec is not None
_decode: Callable[[bytes], Any] = _decode_text if msgspec is None else msgspec.json.Decoder().decode
"""One JSON text, by msgspec straight from the bytes when installed: with no retry by the
standard library (as :func:`codec.loads` does), a refusal is the end of a piece."""


def _piece_problems(events: list[RecordedEvent], *, finite: bool = _MSGSPEC) -> bool:
    """:func:`_data_problems`, with dicts of plain values (the usual event data, and
    metadata such as ``{"caused_by": 3}``) passed by C loops (the walk costs 0.35 us an
    event and a metadata). msgspec refuses numbers beyond the float range; the standard
    library reads them as infinities, looked for then (``finite``: whether msgspec parsed
    all the events)."""
    metadata = list(filter(None, map(_METADATA, events)))
    try:
        values = list(chain.from_iterable(map(dict.values, map(_EVENT_DATA, events))))
        values += chain.from_iterable(map(dict.values, metadata))
    except TypeError:  # data or metadata that is not a dict
        return _data_problems(events)
    finite = finite or not (_INF in values or -_INF in values)
    return not (finite and _FLAT.issuperset(map(type, values))) and _data_problems(events)


_FLAT = frozenset((str, int, float, bool, type(None)))
_INF = math.inf


SHARE_ROWS = 1 << 14
"""Rows of a whole document adopted at a time (see :func:`_adopted_slices`)."""


def _adopted(rows: list[Any]) -> tuple[RecordedEvent, ...]:
    """The events of a whole document's rows (the parsed list, emptied meanwhile)."""
    return tuple(chain.from_iterable(_adopted_slices(rows)))


def _adopted_slices(rows: list[Any]) -> Iterator[list[RecordedEvent]]:
    """The events a slice at a time, their names and sources shared, each slice's rows
    dropped from the parsed list before the next: the end of the parse is then the peak
    of memory. (All the events made at once, with their list, its tuple and the parsed
    list held together, peaked at 1.11x json.load's at 1M events.)"""
    shared: dict[Any, Any] = {}
    start = 0
    while rows:
        part = adopt_events(rows[:SHARE_ROWS], start, shared)
        del rows[:SHARE_ROWS]
        start += len(part)
        yield part


def _recount(header: CassetteHeader, events: tuple[RecordedEvent, ...]) -> CassetteHeader:
    """Trust the events over the header's counters (hand-edited files drift)."""
    last = max(map(_OFFSET, events), default=0.0)  # map, not a generator: 0.05 -> 0.03 ms at 1k
    return CassetteHeader(
        session_name=header.session_name,
        start_time=header.start_time,
        duration_ms=max(header.duration_ms, last),
        total_events=len(events),
        version=header.version,
        metadata=header.metadata,
    )


# --------------------------------------------------------------------------- writing


def write_cassette(
    path: str | os.PathLike[str], cassette: Cassette, *, fresh: bool = False
) -> Path:
    """Write a cassette atomically: a crash leaves the old file or the new one, never half.
    Returns where it landed (see :func:`write_events` for ``fresh``)."""
    return write_events(path, cassette.header, cassette.events, fresh=fresh)


def write_events(
    path: str | os.PathLike[str],
    header: CassetteHeader,
    events: Iterable[RecordedEvent],
    *,
    owned: int | None = None,
    fresh: bool = False,
) -> Path:
    """Write a header and events (an iterable, streamed for ``.jsonl``) atomically, and
    return the path written. ``fresh``: never replace a file, take the first free name of
    ``path``, ``<name>_2<suffix>``, ``<name>_3<suffix>``...; see :func:`atomic_writer`
    for ``owned``."""
    p = Path(path)
    fmt, gz = cassette_format(p)
    p.parent.mkdir(parents=True, exist_ok=True)
    with _atomic_draft(p, owned, fresh) as draft:
        raw = draft.file
        if gz:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
                counted = _Counting(packed)
                _WRITERS[fmt](counted, header, events)
            if owned is None:  # a stream's own rewrite: its events are on disk already
                _check_readable_back(p, counted.count, raw.tell())
        else:
            _WRITERS[fmt](raw, header, events)
    return draft.path


class _Counting:
    """A sink counting the bytes written through it."""

    def __init__(self, out: _Sink) -> None:
        self.out = out
        self.count = 0

    def write(self, data: bytes, /) -> int:
        self.count += len(data)
        return self.out.write(data)


def _check_readable_back(path: Path, inflated: int, size: int) -> None:
    """A .gz that readers would refuse as a gzip bomb is not written."""
    limit = _inflate_limit(size)
    if inflated > limit:
        raise CassetteError(
            f"would inflate to {inflated:,} bytes, more than readers accept ({limit:,}: "
            f"{MAX_INFLATE_RATIO}x its size); write it as .jsonl, uncompressed, which streams",
            path=path,
        )


def _document(header: CassetteHeader, events: Iterable[RecordedEvent]) -> dict[str, JSONValue]:
    evs = tuple(events)
    doc = _recount(header, evs).to_dict()
    doc["events"] = [e.to_dict() for e in evs]
    return doc


def _write_json(out: _Sink, header: CassetteHeader, events: Iterable[RecordedEvent]) -> None:
    text = _as_text(_json_dump, _document(header, events))
    out.write(text.encode("utf-8", _JSON_ESCAPE) + b"\n")


def _write_yaml(out: _Sink, header: CassetteHeader, events: Iterable[RecordedEvent]) -> None:
    text = _as_text(yamlformat.dump, _document(header, events))
    out.write(text.encode("utf-8"))


def _write_jsonl(out: _Sink, header: CassetteHeader, events: Iterable[RecordedEvent]) -> None:
    out.write(encode_line(header.to_dict()))
    for event in events:
        out.write(encode_line(event.to_dict()))


_WRITERS = {"json": _write_json, "yaml": _write_yaml, "jsonl": _write_jsonl}
_JSON_ESCAPE = "backslashreplace"
"""A lone surrogate (text decoded with ``surrogateescape``...) has no UTF-8 form; only JSON
strings can hold one, and there its ``\\udXXX`` escape reads back as the same code point."""
_Text = TypeVar("_Text", str, bytes)


def encode_line(obj: dict[str, JSONValue]) -> bytes:
    """One JSON Lines record."""
    return _as_text(codec.dumps_line, obj)


def _as_text(dump: Callable[[Any], _Text], doc: JSONValue) -> _Text:
    """``dump(doc)``; an int too long to write as text (``sys.get_int_max_str_digits``)
    becomes an unserializable marker instead of failing the whole write (or the publish).

    Data nested deeper than Python can walk (a hand-made file) is a ``ValueError``."""
    try:
        try:
            return dump(doc)
        except ValueError:
            return dump(_mark_long_ints(doc))
    except RecursionError:
        raise ValueError("event data is nested too deeply to write in this format") from None


def _mark_long_ints(value: JSONValue) -> JSONValue:
    if type(value) is dict:
        return {key: _mark_long_ints(item) for key, item in value.items()}
    if type(value) is list:
        return [_mark_long_ints(item) for item in value]
    if type(value) is int and value.bit_length() > _INT_TEXT_BITS:
        return {
            UNSERIALIZABLE_TAG: "builtins.int",
            "reason": f"an integer of {value.bit_length()} bits is too long to write as text",
        }
    return value


_json_dump = codec.dumps_indented


# A little under the bits of the shortest int that text conversion refuses (0: no limit).
_INT_TEXT_BITS = int((getattr(sys, "get_int_max_str_digits", int)() or 10**9) * 3.3)


@contextlib.contextmanager
def atomic_writer(path: Path, *, owned: int | None = None) -> Iterator[IO[bytes]]:
    """A binary file that replaces ``path`` only once fully written and synced, unless
    another recorder streams to ``path`` (:class:`StreamInUseError`). ``owned``: the open
    file through which the caller itself holds the path's lock."""
    with _atomic_draft(path, owned, fresh=False) as draft:
        yield draft.file


class _Draft:
    def __init__(self, file: IO[bytes], path: Path) -> None:
        self.file = file
        self.path = path
        """Where the file lands: decided once it is written when the name must be fresh."""


@contextlib.contextmanager
def _atomic_draft(path: Path, owned: int | None, fresh: bool) -> Iterator[_Draft]:
    fd, tmp_name = _draft_for(path)
    tmp = Path(tmp_name)
    try:
        os.chmod(fd, _mode_for(path))  # mkstemp makes 0600; a cassette is an ordinary file
        with os.fdopen(fd, "wb") as out:
            draft = _Draft(out, path)
            yield draft
            out.flush()
            os.fsync(out.fileno())
        if fresh:
            draft.path = _place_fresh(tmp, path)
        else:
            _replace_unowned(tmp, path, owned)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.filename is None and exc.errno is not None:  # a full disk names no file
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _draft_for(path: Path) -> tuple[int, str]:
    """A temporary file beside ``path``; an error (a read-only folder) names ``path``."""
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or what a plain ``open()`` would give a new file."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def _read_umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it; done once, at import
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _place_fresh(tmp: Path, path: Path) -> Path:
    """Give the written file the first name of ``path``, ``<name>_2<suffix>``, ... that no
    file has, and return it. ``os.link`` fails rather than replace: two writers racing for
    a name never both get it."""
    for number in range(1, 10_000):
        candidate = path if number == 1 else _numbered(path, number)
        try:
            os.link(tmp, candidate)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            if not _claim(candidate):
                continue
            os.replace(tmp, candidate)  # over our own empty placeholder
            return candidate
        tmp.unlink()
        return candidate
    raise FileExistsError(errno.EEXIST, "no free name left beside this file", str(path))


_NO_HARD_LINKS = frozenset((errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK))
"""What ``os.link`` says on file systems without hard links (FAT, some network shares)."""


def _claim(candidate: Path) -> bool:
    """Create ``candidate`` empty, only if no file has that name."""
    try:
        os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return False
    return True


def _numbered(path: Path, number: int) -> Path:
    """``x_20250101_120000.json.gz`` -> ``x_20250101_120000_2.json.gz``."""
    _, gz = cassette_format(path)
    suffix = "".join(path.suffixes[-2:]) if gz else path.suffix
    return path.with_name(f"{path.name[: -len(suffix)]}_{number}{suffix}")


def _replace_unowned(tmp: Path, path: Path, owned: int | None = None) -> None:
    """``os.replace(tmp, path)``, refused when another recorder holds ``path``'s lock.

    The check and the rename happen under the folder's lock, which every writer here takes,
    so no stream can start on ``path`` between them."""
    with _folder_locked(path.parent):
        _check_not_owned(path, owned)
        os.replace(tmp, path)


def _check_not_owned(path: Path, owned: int | None) -> None:
    try:  # non-blocking: a FIFO under a cassette's name must not hang the writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return  # nothing there (or unreadable, so not a stream of ours): the rename decides
    try:
        if owned is not None and os.path.sameopenfile(fd, owned):
            return
        if not _try_lock(fd):
            raise StreamInUseError(
                errno.EBUSY,
                "another recorder is streaming to this file; stream or save to another "
                "path, or stop that recorder first",
                str(path),
            )
    finally:
        os.close(fd)  # and with it the lock this check may have taken


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock of an open file; ``False`` when another open file has it.

    ``flock`` locks belong to the open file, not the process: a second recorder in the same
    process is refused too, and closing an unrelated descriptor releases nothing."""
    if sys.platform == "win32":  # no advisory locks there; README says so
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks (some network ones): nothing to go by
        return True
    return True


@contextlib.contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    """Held for a moment around each check-then-rename in ``folder``."""
    fd = None
    if sys.platform != "win32":
        with contextlib.suppress(OSError):  # a folder we may not open: per-file checks only
            fd = os.open(folder, os.O_RDONLY)
    try:
        if fd is not None and sys.platform != "win32":
            with contextlib.suppress(OSError):  # no locks there: per-file checks only
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a directory be synced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class EventStream:
    """Appends events to a ``.jsonl`` (or ``.jsonl.gz``) file as they happen.

    Each event reaches the operating system before :meth:`append` returns (unless told to
    hold it back until the next one: a batch), so a process killed with SIGKILL keeps every
    appended event; ``fsync=True`` also survives power loss.
    The stream holds the file's lock until closed: a second stream (or a save) on the same
    path, from any process, is a :class:`StreamInUseError` and leaves the file alone.
    """

    def __init__(
        self, path: str | os.PathLike[str], header: CassetteHeader, *, fsync: bool = False
    ) -> None:
        self.path = Path(path)
        fmt, gz = cassette_format(self.path)
        if fmt != "jsonl":
            raise CassetteError("streaming needs a .jsonl or .jsonl.gz file", path=self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        # Written aside, then renamed over the path once the header is down: a full disk or
        # a kill right at the start leaves the previous file there, never an empty one.
        fd, tmp = _draft_for(self.path)
        self._raw = os.fdopen(fd, "wb")
        self._packed = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0) if gz else None
        try:
            _try_lock(fd)  # a fresh file: the lock is ours before the rename makes it visible
            os.chmod(fd, _mode_for(self.path))
            self._write(encode_line(header.to_dict()))
            _replace_unowned(Path(tmp), self.path)
        except BaseException:  # do not leak the open file nor leave the draft behind
            with contextlib.suppress(OSError):  # closing flushes: the full disk fails again
                self._raw.close()
            Path(tmp).unlink(missing_ok=True)
            raise

    def append(self, event: RecordedEvent, *, flush: bool = True) -> None:
        """Write ``event``; ``flush=False`` holds it in the buffer until the next append
        that flushes, or :meth:`flush` (one write for a batch, not one per event)."""
        self._write(encode_line(event.to_dict()), flush)

    def _write(self, line: bytes, flush: bool = True) -> None:
        (self._raw if self._packed is None else self._packed).write(line)
        if flush:
            self.flush()

    def flush(self) -> None:
        """Hand what is held back to the operating system."""
        if self._packed is not None:
            self._packed.flush(zlib.Z_SYNC_FLUSH)  # a readable gzip prefix after every flush
        self._raw.flush()
        if self._fsync:
            os.fsync(self._raw.fileno())

    @property
    def closed(self) -> bool:
        return self._raw.closed

    def close(self) -> None:
        if self._raw.closed:
            return
        try:
            self._end()
        finally:  # a full disk must not leak the file: it is closed whatever failed
            self._raw.close()

    def _end(self) -> None:
        """Everything written and synced; the file stays open, so its lock stays held."""
        if self._packed is not None:
            self._packed.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())

    def finalize(self, header: CassetteHeader) -> None:
        """Rewrite the file atomically with the final header (counts, duration), then close.

        The lock is held until the rewrite is in place: no other recorder can start on the
        path in between and have its file replaced by this one."""
        if self._raw.closed:  # closed already: nothing of ours left to guard
            write_events(self.path, header, iter_events(self.path))
            return
        try:
            self._end()
            write_events(self.path, header, iter_events(self.path), owned=self._raw.fileno())
        finally:
            self._raw.close()
