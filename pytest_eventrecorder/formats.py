"""Reading and writing cassette files.

The suffix picks the format: ``.json`` (the seed's format, indented), ``.yaml``/``.yml``,
``.jsonl`` (a header line, then one event per line, read lazily), each optionally ``.gz``.
Every problem with a file's content surfaces as :class:`CassetteError`; writes are atomic.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import math
import os
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Literal

import yaml

from .cassette import Cassette, CassetteError, CassetteHeader, JSONValue, RecordedEvent

log = logging.getLogger("pytest_eventrecorder")

Format = Literal["json", "yaml", "jsonl"]
SUFFIXES: dict[str, Format] = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".jsonl": "jsonl"}


class TruncatedCassetteWarning(UserWarning):
    """The last line of a ``.jsonl`` cassette was cut short (a crash while writing); it was skipped."""


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
        raise CassetteError(f"unknown cassette format; the name must end in one of {known} (+ .gz)", path=p)
    return fmt, gz


def is_cassette_path(path: str | os.PathLike[str]) -> bool:
    """Whether a file name has a cassette suffix."""
    try:
        cassette_format(path)
    except CassetteError:
        return False
    return True


# --------------------------------------------------------------------------- reading


def read_cassette(path: str | os.PathLike[str]) -> Cassette:
    """Load a whole cassette into memory."""
    fmt, _ = cassette_format(path)
    if fmt == "jsonl":
        header = read_header(path)
        events = tuple(iter_events(path))
        return Cassette(_recount(header, events), events)
    raw = _load_document(Path(path), fmt)
    header, events = _split_document(raw, Path(path))
    return Cassette(_recount(header, events), events)


def read_header(path: str | os.PathLike[str]) -> CassetteHeader:
    """The header alone; cheap for ``.jsonl`` (one line), a full parse otherwise."""
    fmt, _ = cassette_format(path)
    p = Path(path)
    if fmt != "jsonl":
        return read_cassette(p).header
    with _open_lines(p) as lines:
        first = next(lines, None)
        if first is None:
            raise CassetteError("the file is empty; a .jsonl cassette starts with a header line", path=p)
        return _parse_header_line(first, p)


def iter_events(path: str | os.PathLike[str]) -> Iterator[RecordedEvent]:
    """The events of a cassette one at a time; ``.jsonl`` files are never loaded whole."""
    fmt, _ = cassette_format(path)
    p = Path(path)
    if fmt != "jsonl":
        yield from read_cassette(p).events
        return
    with _open_lines(p) as lines:
        first = next(lines, None)
        if first is None:
            raise CassetteError("the file is empty; a .jsonl cassette starts with a header line", path=p)
        _parse_header_line(first, p)
        yield from _jsonl_events(lines, p)


def _jsonl_events(lines: Iterator[bytes], path: Path) -> Iterator[RecordedEvent]:
    from_dict = RecordedEvent.from_dict
    loads = json.loads
    index = 0
    pending = next(lines, None)
    while pending is not None:
        line = pending
        pending = next(lines, None)
        lineno = index + 2
        if not line.strip():
            continue
        try:
            raw = loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            if pending is None and not line.endswith(b"\n"):
                _warn_truncated(path, lineno)
                return
            raise _decode_error(exc, path, lineno) from None
        try:
            yield from_dict(raw, index=index)
        except CassetteError as exc:
            raise exc.located(path=path, line=lineno) from None
        index += 1


def _warn_truncated(path: Path, lineno: int) -> None:
    message = f"{path}: line {lineno} is incomplete (the writer stopped mid-event); it was skipped"
    log.warning(message)
    warnings.warn(message, TruncatedCassetteWarning, stacklevel=4)


def _parse_header_line(line: bytes, path: Path) -> CassetteHeader:
    try:
        raw = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _decode_error(exc, path, 1) from None
    if isinstance(raw, dict) and "events" in raw:
        raise CassetteError("line 1 holds a whole JSON cassette; name the file .json", path=path)
    try:
        return CassetteHeader.from_dict(raw)
    except CassetteError as exc:
        raise exc.located(path=path, line=1) from None


@contextlib.contextmanager
def _open_lines(path: Path) -> Iterator[Iterator[bytes]]:
    """Binary lines of a file, transparently gunzipped; a cut-off gzip stream just ends."""
    _, gz = cassette_format(path)
    with open(path, "rb") as raw:
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw
        yield _tolerant_lines(stream, path)


def _tolerant_lines(stream: IO[bytes], path: Path) -> Iterator[bytes]:
    try:
        yield from stream
    except EOFError:
        log.warning("%s: the gzip stream ends early (the writer stopped); reading what is there", path)
    except (OSError, zlib.error) as exc:
        raise CassetteError(f"not a readable gzip file ({exc})", path=path) from None


def _load_document(path: Path, fmt: Format) -> JSONValue:
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CassetteError(f"not valid UTF-8 (byte {exc.start})", path=path, line=line) from None
    if fmt == "yaml":
        return _load_yaml(text, path)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise CassetteError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno) from None
    except CassetteError as exc:
        raise exc.located(path=path) from None
    except RecursionError:
        raise CassetteError("nested too deeply to read", path=path) from None


def _read_bytes(path: Path) -> bytes:
    _, gz = cassette_format(path)
    data = path.read_bytes()
    if not gz:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise CassetteError(f"not a readable gzip file ({exc})", path=path) from None


def _reject_constant(name: str) -> None:
    raise CassetteError(f"{name} is not a JSON number; cassettes hold finite numbers only")


def _load_yaml(text: str, path: Path) -> JSONValue:
    try:
        raw = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise CassetteError(f"not valid YAML: {exc.problem}", path=path, line=line) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise CassetteError(f"not valid YAML: {exc}", path=path) from None
    try:
        return _plain(raw)
    except CassetteError as exc:
        raise exc.located(path=path) from None


def _plain(value: Any) -> JSONValue:
    """YAML values brought down to what JSON can hold (YAML reads bare dates as dates)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CassetteError(f"mapping keys must be strings, got {key!r}")
            out[key] = _plain(item)
        return out
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise CassetteError(f"{value!r} is not allowed; cassettes hold finite numbers only")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise CassetteError(f"YAML type {type(value).__name__} has no JSON equivalent")


def _split_document(raw: JSONValue, path: Path) -> tuple[CassetteHeader, tuple[RecordedEvent, ...]]:
    try:
        header = CassetteHeader.from_dict(raw)
        events_raw = raw.get("events")
        if not isinstance(events_raw, list):
            raise CassetteError("required list is missing or not a list", field="events")
        from_dict = RecordedEvent.from_dict
        events = tuple(from_dict(item, index=i) for i, item in enumerate(events_raw))
    except CassetteError as exc:
        raise exc.located(path=path) from None
    return header, events


def _recount(header: CassetteHeader, events: tuple[RecordedEvent, ...]) -> CassetteHeader:
    """Trust the events over the header's counters (hand-edited files drift)."""
    last = max((e.timestamp_offset_ms for e in events), default=0.0)
    return CassetteHeader(
        session_name=header.session_name,
        start_time=header.start_time,
        duration_ms=max(header.duration_ms, last),
        total_events=len(events),
        version=header.version,
        metadata=header.metadata,
    )


def _decode_error(exc: Exception, path: Path, lineno: int) -> CassetteError:
    if isinstance(exc, UnicodeDecodeError):
        return CassetteError(f"not valid UTF-8 (byte {exc.start})", path=path, line=lineno)
    return CassetteError(f"not valid JSON: {exc}", path=path, line=lineno)


# --------------------------------------------------------------------------- writing


def write_cassette(path: str | os.PathLike[str], cassette: Cassette) -> Path:
    """Write a cassette atomically: a crash leaves the old file or the new one, never half."""
    return write_events(path, cassette.header, cassette.events)


def write_events(
    path: str | os.PathLike[str], header: CassetteHeader, events: Iterable[RecordedEvent]
) -> Path:
    """Write a header and events (an iterable, streamed for ``.jsonl``) atomically."""
    p = Path(path)
    fmt, gz = cassette_format(p)
    p.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(p) as raw:
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if gz else raw
        with stream if gz else contextlib.nullcontext(stream):
            _WRITERS[fmt](stream, header, events)
    return p


def _write_json(out: IO[bytes], header: CassetteHeader, events: Iterable[RecordedEvent]) -> None:
    evs = tuple(events)
    doc = _recount(header, evs).to_dict()
    doc["events"] = [e.to_dict() for e in evs]
    text = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
    out.write(text.encode("utf-8") + b"\n")


def _write_yaml(out: IO[bytes], header: CassetteHeader, events: Iterable[RecordedEvent]) -> None:
    evs = tuple(events)
    doc = _recount(header, evs).to_dict()
    doc["events"] = [e.to_dict() for e in evs]
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False)
    out.write(text.encode("utf-8"))


def _write_jsonl(out: IO[bytes], header: CassetteHeader, events: Iterable[RecordedEvent]) -> None:
    out.write(encode_line(header.to_dict()))
    for event in events:
        out.write(encode_line(event.to_dict()))


_WRITERS = {"json": _write_json, "yaml": _write_yaml, "jsonl": _write_jsonl}


def encode_line(obj: dict[str, JSONValue]) -> bytes:
    """One JSON Lines record."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode() + b"\n"


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that replaces ``path`` only once fully written and synced."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class EventStream:
    """Appends events to a ``.jsonl`` (or ``.jsonl.gz``) file as they happen.

    Each event reaches the operating system before :meth:`append` returns, so a process
    killed with SIGKILL keeps every appended event; ``fsync=True`` also survives power loss.
    """

    def __init__(self, path: str | os.PathLike[str], header: CassetteHeader, *, fsync: bool = False) -> None:
        self.path = Path(path)
        fmt, self._gz = cassette_format(self.path)
        if fmt != "jsonl":
            raise CassetteError("streaming needs a .jsonl or .jsonl.gz file", path=self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._raw = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._out: IO[bytes] = (
            gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0) if self._gz else self._raw
        )
        self._write(encode_line(header.to_dict()))

    def append(self, event: RecordedEvent) -> None:
        self._write(encode_line(event.to_dict()))

    def _write(self, line: bytes) -> None:
        self._out.write(line)
        if self._gz:
            assert isinstance(self._out, gzip.GzipFile)
            self._out.flush(zlib.Z_SYNC_FLUSH)
        self._raw.flush()
        if self._fsync:
            os.fsync(self._raw.fileno())

    def close(self) -> None:
        if self._raw.closed:
            return
        if self._gz:
            self._out.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()

    def finalize(self, header: CassetteHeader) -> None:
        """Close, then rewrite the file atomically with the final header (counts, duration)."""
        self.close()
        write_events(self.path, header, iter_events(self.path))
