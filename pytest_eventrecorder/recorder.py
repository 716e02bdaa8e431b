"""EventRecorder: capture every event a bus carries, with its timing, into a cassette."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from itertools import chain, islice, pairwise, repeat
from operator import attrgetter, gt
from pathlib import Path
from time import perf_counter_ns
from types import TracebackType
from typing import cast

from .adapters import BusAdapter, EventSink, adapter_for
from .adapters.payload import without_stale_bytes
from .cassette import (
    Cassette,
    CassetteHeader,
    JSONValue,
    RecordedEvent,
    make_event,
    utc_now_iso,
)
from .codec import gc_paused
from .formats import EventStream, cassette_format, iter_events, write_cassette, write_events
from .serialize import (
    DEFAULT_REDACTION,
    NO_REDACTION,
    Kept,
    Redaction,
    event_type_of,
    keep,
    snapshot,
    snapshot_unpacked,
    type_name,
    unpack,
    unpack_all,
)

log = logging.getLogger("pytest_eventrecorder")

BeforeRecord = Callable[[RecordedEvent], "RecordedEvent | bool | None"]
"""Called on each event before it is kept: return the event (changed or not) or ``True`` to
keep it, ``False`` or ``None`` to drop it."""

_Entry = tuple[
    int, str, "JSONValue | Kept", "str | None", "type | None", "Mapping[str, JSONValue] | None"
]
"""An event as the hot path keeps it: (perf_counter_ns, name, snapshot, source, class of the
published object, metadata), or with the snapshot :func:`~.serialize.keep`-ed and no class;
it becomes a :class:`RecordedEvent` when first asked for."""

Fields = tuple[str, "str | None", JSONValue, "Mapping[str, JSONValue] | None"]
"""What comparing an event reads of it: (name, source, data, metadata)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class EventRecorder:
    """Records events published on one or more buses.

    ``stream_to`` names a ``.jsonl`` (or ``.jsonl.gz``) file that receives every event before
    the publish call returns, so a crash loses nothing that was published. With
    ``keep_events=False`` as well, events live only in that file (memory stays flat however
    long the recording); :attr:`events` and :meth:`save` read them back from it.
    ``redaction`` picks the keys whose values are recorded as ``[REDACTED]`` (default: keys
    that look like credentials; ``NO_REDACTION`` for none).
    """

    def __init__(
        self,
        session_name: str,
        output_dir: str | os.PathLike[str] = "recordings",
        *,
        stream_to: str | os.PathLike[str] | None = None,
        before_record: BeforeRecord | None = None,
        metadata: Mapping[str, JSONValue] | None = None,
        keep_events: bool = True,
        redaction: Redaction = DEFAULT_REDACTION,
    ) -> None:
        if not isinstance(session_name, str) or not session_name.strip():
            raise ValueError("session_name must be a non-empty string")
        if not keep_events and stream_to is None:
            raise ValueError("keep_events=False needs stream_to: the events must be kept somewhere")
        self.session_name = session_name
        self.output_dir = Path(output_dir)
        self.stream_to = None if stream_to is None else Path(stream_to)
        if self.stream_to is not None:
            cassette_format(self.stream_to)  # reject a bad suffix now, not at the first event
        self.before_record = before_record
        self.metadata = dict(metadata or {})
        self.keep_events = keep_events
        self.redaction = redaction
        self._on_disk = 0
        """Events kept only in the stream file (``keep_events=False``), before any in memory."""
        self._unflushed: list[RecordedEvent] = []
        """The last of the ``_on_disk`` events, while a batch holds them in the stream's buffer."""
        self.stream_error: OSError | None = None
        self._lock = threading.Lock()
        self._events: list[RecordedEvent | _Entry] = []
        self._built = 0
        """How many of ``_events``, from the start, are RecordedEvents already."""
        self._cutoff: int | None = None
        """How many of ``_events`` were there when recording stopped (later ones are left out)."""
        self._adapters: list[BusAdapter] = []
        self._stream: EventStream | None = None
        self._recording = False
        self._start_ns = 0
        self._written_ns = 0
        self._stop_ns: int | None = None
        self._start_time = ""

    # ------------------------------------------------------------------ lifecycle

    def start_recording(self, service_bus: object | None = None) -> None:
        """Start the clock and capture what ``service_bus`` carries (``None``: manual only).

        Calling it again while recording attaches one more bus to the same session.
        """
        adapter = None if service_bus is None else adapter_for(service_bus)
        with self._lock:
            began = not self._recording
            if began:
                self._begin()
        if adapter is None:
            return
        try:
            # The adapter ignores what the sink returns; record() returns the event for callers.
            adapter.attach(cast(EventSink, self._keep))
        except BaseException:
            if began:
                self.stop_recording()
            raise
        with self._lock:
            self._adapters.append(adapter)
        log.info("Recording %r from %s", self.session_name, adapter.name)

    def _begin(self) -> None:
        self._events = []
        self._on_disk = 0
        self._unflushed = []
        self._built = 0
        self._cutoff = None
        self._start_ns = self._written_ns = perf_counter_ns()
        self._stop_ns = None
        self._start_time = utc_now_iso()
        if self.stream_to is not None:
            self._stream = EventStream(self.stream_to, self._header())
        self._recording = True

    def stop_recording(self) -> list[RecordedEvent]:
        """Detach from every bus, restoring it exactly; returns the recorded events (read
        back from the stream file with ``keep_events=False``: see :meth:`halt`)."""
        self.halt()
        return self.events

    def halt(self) -> None:
        """:meth:`stop_recording` without handing the events back: with
        ``keep_events=False`` they stay in the stream file, and memory stays flat."""
        with self._lock:
            adapters, self._adapters = self._adapters, []
        for adapter in reversed(adapters):
            adapter.detach()
        with self._lock:
            was_recording, self._recording = self._recording, False
            if self._unflushed and self._stream is not None:  # a failure puts them in memory
                self._append_to_stream(self._stream, None)
            if was_recording:
                self._stop_ns = perf_counter_ns()
                # A publish that got past the check in _keep() before this may still append.
                self._cutoff = len(self._events)
            stream, self._stream = self._stream, None
        if stream is not None:
            self._finish_stream(stream)
        if was_recording:
            log.info("Recorded %d events in %r", self.event_count, self.session_name)

    def _finish_stream(self, stream: EventStream) -> None:
        try:
            stream.finalize(self._header())
        except OSError as exc:
            self._stream_failed(exc)

    def __enter__(self) -> EventRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._recording:
            self.halt()

    # ------------------------------------------------------------------ capture

    def record(
        self,
        event_name: str,
        event: object,
        source: str | None = None,
        metadata: Mapping[str, JSONValue] | None = None,
    ) -> RecordedEvent | None:
        """Record one event; never raises into the caller.

        Returns the event as recorded (equal to the one :attr:`events` will hold, and sharing
        nothing with it: changing it changes nothing recorded), or ``None`` when not
        recording or dropped by ``before_record``.
        """
        kept = self._keep(event_name, event, source, metadata, in_order=True)
        return kept if isinstance(kept, RecordedEvent) else None  # in order: built at once

    def _keep(
        self,
        event_name: str,
        event: object,
        source: str | None = None,
        metadata: Mapping[str, JSONValue] | None = None,
        in_order: bool = False,
        *,
        received_ns: int | None = None,
        more: bool = False,
        fresh: bool = False,
    ) -> RecordedEvent | _Entry | None:
        """What adapters call on every publish; never raises into the publisher.

        The event is kept as an entry that becomes a RecordedEvent when the events are
        asked for, unless a ``before_record`` hook or a stream needs it now. ``in_order``
        reads the clock and appends under the lock, and returns the RecordedEvent.
        ``received_ns`` stamps an event an adapter received earlier than it hands it over;
        ``more`` says another follows at once (a batch): a stream may hold this one in its
        buffer until a call without ``more``, so the batch reaches the file in one write.
        ``fresh``: the caller made ``metadata`` for this event alone, as plain JSON data it
        then lets go of (the plugin's ``caused_by``): it is kept without a snapshot."""
        if not self._recording:
            return None
        try:
            if type(event_name) is not str:
                event_name = str(event_name)
            if source is not None and type(source) is not str:
                source = str(source)
            redaction = self.redaction
            if not metadata:
                extra = None
            else:
                extra = metadata if fresh else snapshot(dict(metadata), redaction)
            if self.before_record is not None or self._stream is not None:
                data = snapshot(event, redaction)
                kept = self._keep_now(event_name, event, data, source, extra, received_ns, more)
                # record()'s caller gets its own: the kept one is this very object
                return _detached(kept) if in_order and kept is not None else kept
            # Snapshots are taken outside any lock, so threads take them in parallel.
            packed = keep(event, redaction)
            if packed is None:
                data, cls = snapshot_unpacked(event, redaction), type(event)
            else:
                data, cls = packed, None
            if in_order:
                return self._append_in_order(event_name, data, source, cls, extra)
            entry = (received_ns or perf_counter_ns(), event_name, data, source, cls, extra)
            # No lock (it would double the cost): list.append is atomic, entries are put in
            # clock order when built, and stop_recording() cuts off what comes after it.
            self._events.append(entry)
            return entry
        except Exception:  # an event that cannot even be named must not break the publisher
            log.exception("could not record event %r; it is left out", event_name)
            return None

    def _append_in_order(
        self,
        name: str,
        data: JSONValue | Kept,
        source: str | None,
        cls: type | None,
        extra: Mapping[str, JSONValue] | None,
    ) -> RecordedEvent | None:
        """Keeps the entry and returns its event, both under the lock: the offset is final,
        and belongs to this recording even if another thread restarts it right after."""
        with self._lock:
            if not self._recording:
                return None
            entry = (perf_counter_ns(), name, data, source, cls, extra)
            self._events.append(entry)
            built = self._built_event(entry)
        # The entry is built again when the events are asked for: a walked snapshot (a
        # class) and the metadata would be shared with the caller's (a packed or encoded
        # one is unpacked afresh each time).
        return _detached(built) if cls is not None or extra is not None else built

    def _keep_now(
        self,
        name: str,
        event: object,
        data: JSONValue,
        source: str | None,
        extra: Mapping[str, JSONValue] | None,
        received_ns: int | None = None,
        more: bool = False,
    ) -> RecordedEvent | None:
        """:meth:`_keep` when the RecordedEvent is needed now: for the caller of
        :meth:`record`, a ``before_record`` hook or a stream. It is built under the lock, so
        it is the very one kept (and written), and none is kept after :meth:`stop_recording`
        returns."""
        kind = event_type_of(event)
        hook = self.before_record
        if hook is not None:
            hooked = self._hooked(hook, name, data, source, kind, extra)
            if hooked is None:
                if not more:  # the end of a batch: what it held back goes out all the same
                    self._flush_stream()
                return None
            name, data, source, kind, extra = hooked
        with self._lock:
            if not self._recording:
                return None
            now = perf_counter_ns() if received_ns is None else received_ns
            self._written_ns = now = max(now, self._written_ns)  # a stream stays in time order
            recorded = make_event(self._offset(now), name, data, source, kind, extra)
            stream = self._stream
            if (
                stream is not None
                and self._append_to_stream(stream, recorded, more)
                and (
                    not self.keep_events and not self._events  # once in memory, always after
                )
            ):
                self._on_disk += 1
                if more:
                    self._unflushed.append(recorded)
                else:
                    self._unflushed.clear()
            else:
                self._events.append(recorded)
        return recorded

    def _hooked(
        self,
        hook: BeforeRecord,
        name: str,
        data: JSONValue,
        source: str | None,
        kind: str | None,
        extra: Mapping[str, JSONValue] | None,
    ) -> tuple[str, JSONValue, str | None, str | None, Mapping[str, JSONValue] | None] | None:
        """The event's fields as ``before_record`` leaves them (``None``: dropped)."""
        offset = self._offset(perf_counter_ns())  # the final one is read under the lock
        changed = self._before_record(hook, make_event(offset, name, data, source, kind, extra))
        if changed is None:
            return None
        # The hook may hand back anything: keep the file writable. It saw the redacted
        # event, so what it answers is kept as it is.
        meta = snapshot(dict(changed.metadata), NO_REDACTION) if changed.metadata else None
        data = snapshot(changed.event_data, NO_REDACTION)
        source = None if changed.source is None else str(changed.source)
        return (
            str(changed.event_name),
            data,
            source,
            changed.event_type,
            without_stale_bytes(cast("dict[str, JSONValue] | None", meta), data),
        )

    def _offset(self, now_ns: int) -> float:
        return (now_ns - self._start_ns) / 1e6

    def _offset_of(self, entry: RecordedEvent | _Entry) -> float:
        return self._offset(entry[0]) if isinstance(entry, tuple) else entry.timestamp_offset_ms

    def _built_event(
        self, entry: _Entry, unpacked: tuple[JSONValue, str | None] | None = None
    ) -> RecordedEvent:
        """``unpacked``: the entry's packed data, already unpacked."""
        now, name, data, source, cls, extra = entry
        if cls is None:
            data, kind = unpacked or unpack(cast(Kept, data))
        else:
            kind = type_name(cls)
        return make_event(self._offset(now), name, data, source, kind, extra)

    def _built_all(self, entries: list[RecordedEvent | _Entry]) -> list[RecordedEvent]:
        """:meth:`_built_event` of each entry, the packed data unpacked together (one
        decoder call for many events: see :func:`unpack_all`)."""
        packed = [cast(Kept, e[2]) for e in entries if type(e) is tuple and e[4] is None]
        unpacked = iter(unpack_all(packed))
        return [
            e
            if isinstance(e, RecordedEvent)
            else self._built_event(e, next(unpacked) if e[4] is None else None)
            for e in entries
        ]

    def _before_record(self, hook: BeforeRecord, event: RecordedEvent) -> RecordedEvent | None:
        """The hook's verdict: the event to keep, or ``None``. A hook that fails, or answers
        something else, drops the event: it may have been about to redact it."""
        try:
            answer = hook(event)
        except Exception:
            log.exception("before_record hook failed; the event is left out")
            return None
        try:
            return kept_by(answer, event, "before_record")
        except TypeError as exc:
            log.error("%s: the event is left out", exc)
            return None

    def _flush_stream(self) -> None:
        with self._lock:
            if self._stream is not None:
                self._append_to_stream(self._stream, None)

    def _append_to_stream(
        self, stream: EventStream, event: RecordedEvent | None, more: bool = False
    ) -> bool:
        """Whether ``event`` (``None``: only what is held back) reached the stream (if not,
        streaming stops: memory keeps it)."""
        try:
            if event is None:
                stream.flush()
            elif more:
                stream.append(event, flush=False)
            else:
                stream.append(event)
        except OSError as exc:
            self._stream = None
            with contextlib.suppress(OSError):  # the disk that just failed may fail again
                stream.close()
            self._reclaim_unflushed()
            self._stream_failed(exc)
            return False
        if event is None or not more:
            self._unflushed.clear()
        return True

    def _reclaim_unflushed(self) -> None:
        """Back into memory with the events a failed write lost from the stream's buffer:
        they were counted as in the file, and memory keeps everything after them."""
        self._on_disk -= len(self._unflushed)
        self._events.extend(self._unflushed)
        self._unflushed.clear()

    def _stream_failed(self, exc: OSError) -> None:
        self.stream_error = exc
        log.error(
            "Streaming to %s failed (%s); events from now on stay in memory, call save() to "
            "keep them all",
            self.stream_to,
            exc,
        )

    # ------------------------------------------------------------------ results

    @property
    def is_recording(self) -> bool:
        return self._recording

    @property
    def events(self) -> list[RecordedEvent]:
        """The events recorded so far, oldest first (a copy; with ``keep_events=False``,
        read back from the stream file)."""
        with self._lock:
            on_disk, in_memory = self._settled()
        return [*self._from_disk(on_disk), *in_memory] if on_disk else in_memory

    def _settled(self) -> tuple[int, list[RecordedEvent]]:
        """How many events are only in the stream file, and the events in memory (call with
        the lock held). A batch may still hold some of the former in the stream's buffer:
        they are flushed first, or reading the file back would miss them."""
        if self._on_disk and self._stream is not None:
            self._append_to_stream(self._stream, None)
        return self._on_disk, self._built_events()

    def _from_disk(self, count: int) -> Iterator[RecordedEvent]:
        """The first ``count`` events of the stream file: exactly those written whole."""
        assert self.stream_to is not None
        return islice(iter_events(self.stream_to), count)

    def _built_events(self) -> list[RecordedEvent]:
        """A copy of the events, each entry the hot path kept built into its RecordedEvent
        once, in place (call with the lock held)."""
        events, start = self._events, self._built
        end = self._in_memory()
        if start < end:
            with gc_paused():  # decoded snapshots hold no cycles; each collection would walk them
                fresh = self._built_all(events[start:end])
            floor = cast(RecordedEvent, events[start - 1]).timestamp_offset_ms if start else 0.0
            events[start:end] = _in_clock_order(fresh, floor)
            self._built = end
        return cast(list[RecordedEvent], events[:end])

    def kept_fields(self) -> list[Fields] | None:
        """:data:`Fields` of each event :attr:`events` holds, in its order, without building
        the events: what verifying a replay reads (making 500 events was a third of it).
        ``None`` when only the events will do: some are only in the stream file, or threads
        appended some out of clock order (building them sorts them)."""
        with self._lock:
            if self._on_disk:
                return None
            start, end = self._built, self._in_memory()
            built = cast(list[RecordedEvent], self._events[:start])
            fresh = self._events[start:end]
        packed = [cast(Kept, e[2]) for e in fresh if type(e) is tuple and e[4] is None]
        encoded = len(packed) == len(fresh)  # the usual outputs: read with no call per event
        clock: Sequence[float] = (
            [cast(_Entry, e)[0] for e in fresh]  # in ns: their offsets keep their order
            if encoded
            else list(map(self._offset_of, fresh))
        )
        if any(map(gt, clock, islice(clock, 1, None))):
            return None
        with gc_paused():  # decoded snapshots hold no cycles
            unpacked = unpack_all(packed)
            if encoded:
                entries = cast(list[_Entry], fresh)
                read = [(e[1], e[3], u[0], e[5]) for e, u in zip(entries, unpacked, strict=True)]
            else:
                read = list(map(_entry_fields, fresh, repeat(iter(unpacked))))
            return [*map(_fields_of, built), *read]

    @property
    def elapsed_ms(self) -> float:
        """Milliseconds since recording started (until it stopped): the offset an event
        published now would get."""
        if not self._start_ns:
            return 0.0
        return self._offset(self._stop_ns if self._stop_ns is not None else perf_counter_ns())

    @property
    def event_count(self) -> int:
        """How many events are recorded so far, without copying them."""
        return self._on_disk + self._in_memory()

    def _in_memory(self) -> int:
        return len(self._events) if self._cutoff is None else self._cutoff

    def _header(self) -> CassetteHeader:
        end = self._stop_ns if self._stop_ns is not None else perf_counter_ns()
        return CassetteHeader(
            session_name=self.session_name,
            start_time=self._start_time or utc_now_iso(),
            duration_ms=(end - self._start_ns) / 1e6 if self._start_ns else 0.0,
            total_events=self.event_count,
            metadata=self.metadata,
        )

    def to_cassette(self) -> Cassette:
        """The recording so far as a :class:`Cassette` (works while still recording)."""
        with self._lock:
            on_disk, in_memory = self._settled()
            header = self._header()
        events = (*self._from_disk(on_disk), *in_memory) if on_disk else tuple(in_memory)
        duration = max(header.duration_ms, events[-1].timestamp_offset_ms if events else 0.0)
        return Cassette(
            CassetteHeader(
                header.session_name,
                header.start_time,
                duration,
                len(events),
                header.version,
                header.metadata,
            ),
            events,
        )

    def default_filename(self) -> str:
        """``<session>_<YYYYmmdd_HHMMSS>.json``, with unsafe characters replaced."""
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
        return f"{_UNSAFE.sub('_', self.session_name).strip('._') or 'session'}_{stamp}.json"

    def save(self, filename: str | os.PathLike[str] | None = None) -> Path:
        """Write the recording atomically; a relative name goes in ``output_dir``. Returns
        the path written.

        The suffix picks the format (``.json``, ``.yaml``, ``.jsonl``, each ``+ .gz``). A
        name given here replaces that file; the default name never replaces one: when it
        is taken (two saves in one second), ``_2``, ``_3``... is added before the suffix.
        """
        fresh = filename is None
        path = Path(filename) if filename is not None else Path(self.default_filename())
        if not path.suffix:
            path = path.with_name(path.name + ".json")
        if not path.is_absolute():
            path = self.output_dir / path
        if self._on_disk:
            path = self._save_from_disk(path, fresh)
        else:
            path = write_cassette(path, self.to_cassette(), fresh=fresh)
        log.info("Saved %d events to %s", self.event_count, path)
        return path

    def _save_from_disk(self, path: Path, fresh: bool) -> Path:
        """Copy the stream file's events to the cassette as they are read: memory stays flat."""
        with self._lock:
            on_disk, in_memory = self._settled()
            header = self._header()
        return write_events(path, header, chain(self._from_disk(on_disk), in_memory), fresh=fresh)


def kept_by(
    answer: object, event: RecordedEvent, hook: str, drop: str = "False/None (drop)"
) -> RecordedEvent | None:
    """The event a ``before_record``-style hook's answer keeps: the RecordedEvent it
    returned, or ``event`` for ``True``; ``None`` for ``False`` or ``None``. Any other
    answer is a ``TypeError`` naming ``hook`` and what it may return."""
    if isinstance(answer, RecordedEvent):
        return answer
    if answer is True or answer is False or answer is None:
        return event if answer else None
    raise TypeError(
        f"{hook} returned {type(answer).__name__}; it must return a RecordedEvent, "
        f"True (keep) or {drop}"
    )


def _detached(event: RecordedEvent) -> RecordedEvent:
    """``event`` with data and metadata of its own: what :meth:`EventRecorder.record`
    returns must not be a way to change the recording."""
    metadata = event.metadata
    if metadata is not None:
        metadata = cast(dict[str, JSONValue], _copied(dict(metadata)))
    return make_event(
        event.timestamp_offset_ms,
        event.event_name,
        _copied(event.event_data),
        event.source,
        event.event_type,
        metadata,
    )


def _fields_of(event: RecordedEvent) -> Fields:
    return event.event_name, event.source, event.event_data, event.metadata


def _entry_fields(
    entry: RecordedEvent | _Entry, unpacked: Iterator[tuple[JSONValue, str | None]]
) -> Fields:
    """The fields of an entry of ``_events``; ``unpacked``: the packed entries' data, in turn."""
    if type(entry) is not tuple:
        return _fields_of(cast(RecordedEvent, entry))
    _, name, data, source, cls, extra = entry
    return name, source, next(unpacked)[0] if cls is None else data, extra


def _copied(value: JSONValue) -> JSONValue:
    """A copy of JSON data sharing no dict or list with it."""
    if type(value) is dict:
        return {k: _copied(v) if type(v) in _CONTAINERS else v for k, v in value.items()}
    if type(value) is list:
        return [_copied(v) if type(v) in _CONTAINERS else v for v in value]
    return value


_CONTAINERS = frozenset((dict, list))


def _in_clock_order(events: list[RecordedEvent], floor_ms: float) -> list[RecordedEvent]:
    """``events`` with offsets that only grow: threads append without a lock, so one may
    append after another an event whose clock it read first. A stable sort keeps each
    thread's own order; one read before ``floor_ms`` (the last event already built, or the
    start) is moved up to it."""
    if any(a.timestamp_offset_ms > b.timestamp_offset_ms for a, b in pairwise(events)):
        events.sort(key=_offset_ms)
    for i, event in enumerate(events):
        if event.timestamp_offset_ms >= floor_ms:
            break
        events[i] = replace(event, timestamp_offset_ms=floor_ms)
    return events


_offset_ms = attrgetter("timestamp_offset_ms")
