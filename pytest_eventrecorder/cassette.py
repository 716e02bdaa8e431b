"""The cassette data model: a header and a sequence of recorded events.

Pure data and validation; reading and writing files lives in :mod:`formats`.
"""

from __future__ import annotations

import contextlib
import math
import sys
import warnings
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from itertools import repeat
from pathlib import Path
from typing import Any, cast

FORMAT_VERSION = 1
"""Version written into every cassette; files without a version are the seed's format (0)."""

JSONValue = Any
"""Data made only of dict/list/str/int/float/bool/None, as :func:`serialize.snapshot` makes."""

_EVENT_KEYS = frozenset(
    ("timestamp_offset_ms", "event_name", "event_data", "source", "event_type", "metadata")
)
_HEADER_KEYS = frozenset(
    ("version", "session_name", "start_time", "duration_ms", "total_events", "metadata", "events")
)


class UnknownFieldWarning(UserWarning):
    """A cassette holds fields its format does not define: they are read past, and
    converting or saving it does not keep them."""


_NOTED: ContextVar[dict[str, None] | None] = ContextVar("unknown_fields_noted", default=None)


@contextlib.contextmanager
def collecting_unknown_fields() -> Iterator[dict[str, None]]:
    """Within the block, unknown-field notices are gathered (each once, in order) in the
    dict it gives, instead of being warned: for tools that report them their own way."""
    token = _NOTED.set({})
    try:
        noted = _NOTED.get()
        assert noted is not None
        yield noted
    finally:
        _NOTED.reset(token)


def _warn_unknown(raw: dict[str, Any], known: frozenset[str], where: str) -> None:
    extra = raw.keys() - known
    if not extra:
        return
    names = ", ".join(repr(str(k)) for k in sorted(extra, key=str))
    text = (
        f"{where} field(s) {names} are not part of the cassette format: they are read past, "
        "and converting or saving does not keep them"
    )
    noted = _NOTED.get()
    if noted is not None:
        noted[text] = None
    else:
        warnings.warn(UnknownFieldWarning(text), stacklevel=3)


_INF = math.inf
_FLOAT_MAX = sys.float_info.max
"""Numbers are compared with this, not infinity: an integer above it passes ``< inf`` but
cannot become a float (``OverflowError`` wherever it is used as one)."""
MAX_NESTING = 100
"""Levels of lists and objects event data may nest in a file. The recorder cuts data at 64;
far deeper data breaks whatever walks it (replay, compare, the dashboard) with a
RecursionError, so readers refuse it up front."""
_new = object.__new__
_set = object.__setattr__


class CassetteError(ValueError):
    """Anything wrong with a cassette file: its bytes, its structure or a field's value.

    The message names the file and, where known, the line, the event index and the field.
    """

    def __init__(
        self,
        problem: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        index: int | None = None,
        field: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = None if path is None else Path(path)
        self.line = line
        self.index = index
        self.field = field
        super().__init__(self._message())

    def _message(self) -> str:
        where = [str(self.path)] if self.path is not None else []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.index is not None:
            where.append(f"event {self.index}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.problem}" if where else self.problem

    def located(self, *, path: str | Path | None = None, line: int | None = None) -> CassetteError:
        """The same error with the file (and line) it came from filled in."""
        return CassetteError(
            self.problem,
            path=path if self.path is None else self.path,
            line=line if self.line is None else self.line,
            index=self.index,
            field=self.field,
        )


# No slots: an event read from a file adopts the validated JSON object as its __dict__,
# which makes streaming a million events several times cheaper than field-by-field setup.
@dataclass(frozen=True)
class RecordedEvent:
    """One event as it crossed the bus, with its offset from the start of the recording."""

    timestamp_offset_ms: float
    event_name: str
    event_data: JSONValue
    source: str | None = None
    event_type: str | None = None
    metadata: Mapping[str, JSONValue] | None = None

    def to_dict(self) -> dict[str, JSONValue]:
        """The event as written in a cassette (optional fields only when set)."""
        out: dict[str, JSONValue] = {
            "timestamp_offset_ms": self.timestamp_offset_ms,
            "event_name": self.event_name,
            "event_data": self.event_data,
            "source": self.source,
        }
        if self.event_type is not None:
            out["event_type"] = self.event_type
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out

    @classmethod
    def from_dict(cls, raw: object, *, index: int | None = None) -> RecordedEvent:
        """Validate one event read from a file; raises :class:`CassetteError` naming the field.

        Unknown keys are ignored, so files from newer versions still load.
        """
        if type(raw) is dict and cls is RecordedEvent:
            event = adopt_event(dict(raw), index)
        else:
            event = _checked_event(cls, raw, index)
        check_data(event, index)
        return event

    def shifted(self, delta_ms: float) -> RecordedEvent:
        """A copy whose offset is moved by ``delta_ms`` (used when slicing), without the
        rounding noise of the sum: 60000.307 - 60000 gives 0.307, not 0.3070000000006985.
        Offsets finer than a nanosecond are kept as they are."""
        if not delta_ms:
            return self
        offset = self.timestamp_offset_ms
        moved = offset + delta_ms
        tidy = round(moved, 6)
        noise = 2 * math.ulp(max(abs(offset), abs(delta_ms)))
        return replace(self, timestamp_offset_ms=tidy if abs(tidy - moved) <= noise else moved)


def make_event(
    offset_ms: float,
    event_name: str,
    event_data: JSONValue,
    source: str | None = None,
    event_type: str | None = None,
    metadata: Mapping[str, JSONValue] | None = None,
) -> RecordedEvent:
    """``RecordedEvent(...)`` without the dataclass ``__init__`` cost, for trusted values."""
    fields = {
        "timestamp_offset_ms": offset_ms,
        "event_name": event_name,
        "event_data": event_data,
        "source": source,
    }
    # Unset optional fields are left to the class defaults: a smaller dict per event.
    if event_type is not None:
        fields["event_type"] = event_type
    if metadata is not None:
        fields["metadata"] = metadata
    event = _new(RecordedEvent)
    _set(event, "__dict__", fields)
    return event


def adopt_event(raw: object, index: int | None = None) -> RecordedEvent:
    """:meth:`RecordedEvent.from_dict` for a freshly parsed object nobody else holds: the
    event takes it over instead of copying it (the hot path when streaming a file)."""
    return adopt_events([raw], index)[0]


def adopt_events(
    rows: list[Any], first_index: int | None = 0, shared: dict[Any, Any] | None = None
) -> list[RecordedEvent]:
    """:func:`adopt_event` for many parsed rows at once; a bad row raises the
    :class:`CassetteError` of the full check, with its index (``first_index`` + position).
    ``shared``: for rows held together, equal names and sources become one string object
    (see :func:`_all_plain`)."""
    events = adopt_plain_events(rows, shared)
    return _adopt_each(rows, first_index) if events is None else events


def adopt_plain_events(
    rows: list[Any], shared: dict[Any, Any] | None = None
) -> list[RecordedEvent] | None:
    """The events of ``rows`` when every row is one the full check takes as it is (the
    common case: they are made by C loops, map); ``None``, with nothing raised or warned,
    when one is not. ``shared``: as for :func:`adopt_events`."""
    return adopt_rows(rows) if _all_plain(rows, shared) else None


def adopt_rows(rows: list[dict[str, Any]]) -> list[RecordedEvent]:
    """The events adopting rows known to be ones the full check takes as they are."""
    events = list(map(_new, repeat(RecordedEvent, len(rows))))
    deque(map(_set_dict, events, rows), 0)
    return events


_set_dict = RecordedEvent.__dict__["__dict__"].__set__
"""``_set(event, "__dict__", row)`` without the look-up of the attribute by name: the
``__dict__`` descriptor itself (0.17 -> 0.14 us per adopted event)."""


def _all_plain(rows: list[Any], shared: dict[Any, Any] | None) -> bool:
    """Whether every row is an event object the full check would take as it is; with
    ``shared``, the names and sources of the rows checked are replaced by the first equal
    string met (the parser makes one per row: 134 bytes per event of a document held
    whole, freed while it is adopted, so before the events add to the peak)."""
    for raw in rows:
        if type(raw) is not dict:
            return False
        try:
            offset = raw["timestamp_offset_ms"]
            name, source = raw["event_name"], raw["source"]
            if not (
                type(offset) in _NUMBERS
                and 0 <= offset <= _FLOAT_MAX  # rejects NaN, inf and giant ints too
                and type(name) is str
                and type(source) in _OPTIONAL_TEXT
                and "event_data" in raw
                and (len(raw) == 4 or _known_extras(raw))
            ):
                return False
        except KeyError:
            return False
        if shared is not None:
            share = shared.setdefault
            raw["event_name"], raw["source"] = share(name, name), share(source, source)
    return True


def share_names(rows: list[dict[str, Any]], shared: dict[Any, Any]) -> None:
    """The names and sources of event rows replaced by the first equal string met (see
    :func:`_all_plain`)."""
    share = shared.setdefault
    for raw in rows:
        name, source = raw["event_name"], raw["source"]
        raw["event_name"], raw["source"] = share(name, name), share(source, source)


def _adopt_each(rows: list[Any], first_index: int | None) -> list[RecordedEvent]:
    """:func:`adopt_events` row by row: the plain ones adopted, the others fully checked."""
    events: list[RecordedEvent] = []
    append = events.append
    for raw in rows:
        if type(raw) is dict:
            try:  # the common case, checked fast; anything else gets the full check
                offset = raw["timestamp_offset_ms"]
                if (
                    type(offset) in _NUMBERS
                    and 0 <= offset <= _FLOAT_MAX  # rejects NaN, inf and giant ints too
                    and type(raw["event_name"]) is str
                    and type(raw["source"]) in _OPTIONAL_TEXT
                    and "event_data" in raw
                    and (len(raw) == 4 or _known_extras(raw))
                ):
                    event = _new(RecordedEvent)
                    _set(event, "__dict__", raw)
                    append(event)
                    continue
            except KeyError:
                pass
        index = None if first_index is None else first_index + len(events)
        append(_checked_event(RecordedEvent, raw, index))
    return events


_NUMBERS = frozenset((int, float))
_OPTIONAL_TEXT = frozenset((str, type(None)))
_OPTIONAL_MAPPING = frozenset((dict, type(None)))


def _known_extras(raw: dict[str, Any]) -> bool:
    """Only the optional fields besides the seed's four, well-typed."""
    return (
        raw.keys() <= _EVENT_KEYS
        and type(raw.get("event_type")) in _OPTIONAL_TEXT
        and type(raw.get("metadata")) in _OPTIONAL_MAPPING
    )


def check_data(event: RecordedEvent, index: int | None = None) -> None:
    """Raise a :class:`CassetteError` naming the field when the event's data or metadata
    nests deeper than :data:`MAX_NESTING` or holds a non-finite float (a file's ``1e400``
    reads as infinity, which JSON cannot hold). Iterative: any depth is walked safely."""
    for field_name in ("event_data", "metadata"):
        problem = data_problem(getattr(event, field_name))
        if problem is not None:
            raise CassetteError(problem, index=index, field=field_name)


def data_problem(value: object) -> str | None:
    """Why ``value`` cannot be event data read from a file, or ``None`` (see
    :func:`check_data`)."""
    kind = type(value)
    if kind is float:
        return None if -_INF < value < _INF else _not_finite(value)  # type: ignore[operator]
    if kind is not dict and kind is not list:
        return None
    if kind is dict and _flat_and_finite(cast("dict[Any, Any]", value)):  # the usual event
        return None
    stack: list[tuple[Any, int]] = [(value, 1)]  # containers only: most values are not
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            return f"nested deeper than {MAX_NESTING} levels"
        for child in item.values() if type(item) is dict else item:
            kind = type(child)
            if kind is float:
                if not -_INF < child < _INF:
                    return _not_finite(child)
            elif kind is dict or kind is list:
                stack.append((child, depth + 1))
    return None


def _flat_and_finite(data: dict[Any, Any]) -> bool:
    """Whether ``data`` holds only text, ints, bools, nulls and finite floats (``False``
    leaves it to the walk, which finds what, if anything, is wrong)."""
    for child in data.values():
        kind = type(child)
        if kind is float:
            if not -_INF < child < _INF:
                return False
        elif kind not in _SCALARS:
            return False
    return True


_SCALARS = frozenset((str, int, bool, type(None)))


def _not_finite(value: object) -> str:
    return f"{value!r} is not a finite number (cassettes hold finite numbers only)"


def _checked_event(cls: type[RecordedEvent], raw: object, index: int | None) -> RecordedEvent:
    if not isinstance(raw, dict):
        raise CassetteError(f"an event must be an object, got {_kind(raw)}", index=index)
    for key in ("timestamp_offset_ms", "event_name", "event_data"):
        if key not in raw:
            raise CassetteError("required field is missing", index=index, field=key)
    _warn_unknown(raw, _EVENT_KEYS, "event")
    return cls(
        timestamp_offset_ms=_offset(raw["timestamp_offset_ms"], index),
        event_name=_text(raw, "event_name", index, optional=False),
        event_data=raw["event_data"],
        source=_text(raw, "source", index, optional=True),
        event_type=_text(raw, "event_type", index, optional=True),
        metadata=_mapping(raw, "metadata", index),
    )


@dataclass(frozen=True, slots=True)
class CassetteHeader:
    """Everything in a cassette except its events."""

    session_name: str
    start_time: str
    duration_ms: float = 0.0
    total_events: int = 0
    version: int = FORMAT_VERSION
    metadata: Mapping[str, JSONValue] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JSONValue]:
        out: dict[str, JSONValue] = {
            "version": self.version,
            "session_name": self.session_name,
            "start_time": self.start_time,
            "duration_ms": self.duration_ms,
            "total_events": self.total_events,
        }
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out

    @classmethod
    def from_dict(cls, raw: object) -> CassetteHeader:
        """Validate a header; ``session_name`` and ``start_time`` are required, the counters
        are derived from the events when missing."""
        if not isinstance(raw, dict):
            raise CassetteError(f"a cassette must be an object, got {_kind(raw)}")
        for key in ("session_name", "start_time"):
            if key not in raw:
                raise CassetteError("required field is missing", field=key)
        session = raw["session_name"]
        if not isinstance(session, str) or not session:
            raise CassetteError(
                f"must be a non-empty string, got {session!r}", field="session_name"
            )
        _warn_unknown(raw, _HEADER_KEYS, "header")
        return cls(
            session_name=session,
            start_time=_start_time(raw["start_time"]),
            duration_ms=_number(raw.get("duration_ms", 0.0), "duration_ms"),
            total_events=_count(raw.get("total_events", 0)),
            version=_version(raw.get("version", 0)),
            metadata=_mapping(raw, "metadata", None) or {},
        )


@dataclass(frozen=True, slots=True)
class Cassette:
    """A whole recording held in memory."""

    header: CassetteHeader
    events: tuple[RecordedEvent, ...]

    @classmethod
    def build(
        cls,
        session_name: str,
        events: Iterable[RecordedEvent],
        *,
        start_time: str | None = None,
        metadata: Mapping[str, JSONValue] | None = None,
    ) -> Cassette:
        """A cassette whose duration and count are derived from its events."""
        evs = tuple(events)
        header = CassetteHeader(
            session_name=session_name,
            start_time=start_time or utc_now_iso(),
            duration_ms=max((e.timestamp_offset_ms for e in evs), default=0.0),
            total_events=len(evs),
            metadata=dict(metadata or {}),
        )
        return cls(header, evs)

    @property
    def session_name(self) -> str:
        return self.header.session_name

    def with_events(
        self, events: Iterable[RecordedEvent], *, session_name: str | None = None
    ) -> Cassette:
        """A cassette with the same header fields but other events (counts recomputed)."""
        return Cassette.build(
            session_name or self.header.session_name,
            events,
            start_time=self.header.start_time,
            metadata=self.header.metadata,
        )

    def to_dict(self) -> dict[str, JSONValue]:
        out = self.header.to_dict()
        out["events"] = [e.to_dict() for e in self.events]
        return out


def summarize(events: Iterable[RecordedEvent]) -> dict[str, int]:
    """Counts per event name, most common first (ties keep first-seen order)."""
    return dict(Counter(e.event_name for e in events).most_common())


def utc_now_iso() -> str:
    """Now, as the seed writes ``start_time``: ISO-8601 UTC with a ``Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """An ISO-8601 timestamp; a trailing ``Z`` is accepted on every Python version."""
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)


def shift_iso(text: str, delta_ms: float) -> str:
    """``text`` moved by ``delta_ms``, written back the way :func:`utc_now_iso` writes.

    A ``ValueError`` (never an ``OverflowError``) when the result is past the year 9999."""
    try:
        moved = parse_iso(text) + timedelta(milliseconds=delta_ms)
        if moved.tzinfo is None:
            return moved.isoformat(timespec="milliseconds")
        utc = moved.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(
            f"start time {text} moved by {delta_ms:g} ms is outside the years 1 to 9999"
        ) from None
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _offset(value: object, index: int | None) -> float:
    field_name = "timestamp_offset_ms"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CassetteError(f"must be a number, got {_kind(value)}", index=index, field=field_name)
    if not 0 <= value <= _FLOAT_MAX:
        raise CassetteError(
            f"must be a finite number >= 0, got {_shown(value)}", index=index, field=field_name
        )
    return value


def _number(value: object, field_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value <= _FLOAT_MAX:
        raise CassetteError(f"must be a finite number, got {_shown(value)}", field=field_name)
    if value < 0:
        raise CassetteError(f"must be >= 0, got {_shown(value)}", field=field_name)
    return value


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_COUNT:
        raise CassetteError(
            f"must be a whole number >= 0, got {_shown(value)}", field="total_events"
        )
    return value


_MAX_COUNT = 2**63


def _shown(value: object) -> str:
    """``repr(value)``, but a giant integer by its length (its digits help no one)."""
    if type(value) is int and abs(value) > _FLOAT_MAX:
        digits = int(abs(value).bit_length() * math.log10(2)) + 1
        return f"an integer of about {digits} digits, too large for a float"
    return repr(value)


def _version(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CassetteError(f"must be a whole number >= 0, got {value!r}", field="version")
    if value > FORMAT_VERSION:
        raise CassetteError(
            f"cassette format version {value} is newer than this tool understands "
            f"({FORMAT_VERSION}); upgrade pytest-eventrecorder",
            field="version",
        )
    return value


def _start_time(value: object) -> str:
    if not isinstance(value, str):
        raise CassetteError(f"must be an ISO-8601 string, got {_kind(value)}", field="start_time")
    try:
        parse_iso(value)
    except ValueError:
        raise CassetteError(
            f"must be an ISO-8601 timestamp, got {value!r}", field="start_time"
        ) from None
    return value


def _text(raw: dict[str, object], key: str, index: int | None, *, optional: bool) -> Any:
    value = raw.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        expected = "a string or null" if optional else "a string"
        raise CassetteError(f"must be {expected}, got {_kind(value)}", index=index, field=key)
    return value


def _mapping(raw: dict[str, object], key: str, index: int | None) -> dict[str, JSONValue] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise CassetteError(f"must be an object, got {_kind(value)}", index=index, field=key)
    return value
