"""EventReplayer: publish a recording back into a bus on its original schedule."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import inspect
import logging
import math
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn

from .adapters import BusAdapter, adapter_for
from .cassette import Cassette, RecordedEvent, shift_iso, summarize
from .causality import handling, mark, marked_now, set_marked, unmark
from .clock import Clock, RealClock
from .formats import (
    EventBlock,
    cassette_format,
    iter_event_blocks,
    may_hold_tags,
    read_cassette,
    read_document_bytes,
    read_header,
)
from .replayclock import timed_replay, timed_replay_async
from .serialize import Rebuilder, RebuildWarning, import_events_module, restore
from .timetravel import Timeline

log = logging.getLogger("pytest_eventrecorder")
now_ns = time.perf_counter_ns

PAUSE_POLL_S = 0.005
"""How often a paused async replay looks whether it was resumed."""

NameFilter = Callable[[str], bool]
EventPredicate = Callable[[RecordedEvent], bool]
ProgressCallback = Callable[[int, int], None]


@dataclass
class ReplayError:
    """A subscriber's exception, kept when replaying with ``continue_on_error=True``."""

    index: int
    event: RecordedEvent
    error: BaseException


@dataclass
class ReplayResult:
    """What a replay did.

    ``total`` is how many events the replay was to publish: known up front for recordings in
    memory, or when a progress callback asked for it (a streamed file is then read twice);
    otherwise it is the number published. ``not_rebuilt`` counts, per recorded event type,
    the events replayed as plain data because their class was not found; ``warnings`` says
    why, with anything else the replay could not do faithfully (each also a warning).
    """

    published: int = 0
    total: int = 0
    stopped: bool = False
    errors: list[ReplayError] = field(default_factory=list)
    not_rebuilt: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    """Everything a replay loop needs, resolved once before the first event."""

    adapter: BusAdapter
    speed: float
    rebuild: Rebuilder
    start_ms: float
    keep: EventPredicate | None
    """Applied while streaming; ``None`` when there is no filter or it was applied already."""
    selected: list[tuple[int, RecordedEvent]] | None
    """For a filtered recording in memory: the (index, event) pairs that passed."""
    progress: ProgressCallback | None
    total: int
    continue_on_error: bool
    hand_over: bool
    """Whether freshly parsed payloads may go to the bus uncopied: nothing rebuilds them,
    and no user code holds their events (a ``where`` predicate saw each one; an error kept
    by ``continue_on_error`` would show what its subscriber did to the payload)."""

    @property
    def instant(self) -> bool:
        return self.speed == math.inf

    def deadline(self, anchor_ns: int, event: RecordedEvent) -> int:
        """When ``event`` is due: one anchor for the whole replay, so lateness never adds up."""
        return anchor_ns + round((event.timestamp_offset_ms - self.start_ms) * 1e6 / self.speed)


def _refuse_coroutine(outcome: Coroutine[Any, Any, Any]) -> NoReturn:
    """A sync replay into a bus whose publish() is a coroutine function: nothing was sent."""
    outcome.close()  # never awaited: closed so Python does not warn about it
    raise TypeError(
        "the bus's publish() is a coroutine function; use `await replayer.replay_async(...)`"
    )


class EventReplayer:
    """Loads a recording (any format, or a :class:`Cassette`) and replays it.

    ``.jsonl`` files are streamed from disk on every pass (so a broken line further down
    stops a replay there, with a :class:`CassetteError` naming it); other formats are loaded
    and checked whole, once. A ``.json``'s first replay hands each payload to the bus as
    parsed, when nothing else has seen it: no copy (later passes, and readers, get a fresh
    parse of its bytes, held since loading). A glob pattern picks the newest matching file.
    """

    def __init__(
        self, recording_file: str | os.PathLike[str] | Cassette, *, clock: Clock | None = None
    ) -> None:
        self.clock: Clock = clock or RealClock()
        self.path: Path | None = None
        self._cassette: Cassette | None = None
        self._source: bytes | None = None
        """A ``.json``'s bytes, parsed again once a replay handed its parsed data out."""
        self._unseen = False
        """Whether nothing but this replayer holds the data of ``_cassette`` (see _take)."""
        self._spent = False
        """Whether a replay handed ``_cassette``'s data out: ``_source`` is parsed again
        when it is needed."""
        if isinstance(recording_file, Cassette):
            self._cassette = recording_file
            self.header = recording_file.header
        else:
            self.path = _resolve(recording_file)
            fmt = cassette_format(self.path)[0]
            if fmt == "jsonl":
                self.header = read_header(self.path)
            else:
                self.header = self._load(fmt).header
        self._lock = threading.Lock()
        self._interrupt = threading.Event()
        """Set to cut a wait short: on pause and on stop."""
        self._resumed = threading.Event()
        self._resumed.set()
        self._stop_requested = False
        self._attention = False
        """Cheap per-event check: has pause() or stop() been called?"""
        self._paused_at = 0
        self._pause_debt_ns = 0
        """Time spent paused that the schedule has not been shifted by yet."""
        self.state = "idle"
        self.position = 0
        self.current_offset_ms = 0.0

    @classmethod
    def from_events(
        cls, events: Iterable[RecordedEvent], session_name: str = "replay"
    ) -> EventReplayer:
        """A replayer over events held in memory."""
        return cls(Cassette.build(session_name, events))

    # ------------------------------------------------------------------ the events

    def _load(self, fmt: str) -> Cassette:
        """Read a whole-document file. A ``.json``'s bytes are kept (as ``json.load`` would
        hold them while parsing): replaying it then costs no copy of each payload."""
        assert self.path is not None
        if fmt != "json":  # a yaml key may be unquoted: its bytes cannot rule out tags
            self._cassette = read_cassette(self.path)
            return self._cassette
        self._source = read_document_bytes(self.path)
        return self._parse()

    def _parse(self) -> Cassette:
        """A fresh parse of the kept ``.json`` bytes: what was loaded, whatever the file
        holds now (it may have been rewritten or deleted since)."""
        assert self.path is not None
        assert self._source is not None
        # Tagged values (bytes...) are restored, so copied, anyway.
        self._unseen = not may_hold_tags(self._source)
        self._cassette = read_cassette(self.path, data=self._source)
        return self._cassette

    def _held(self, shown: bool) -> Cassette | None:
        """The recording in memory (``None`` for a streamed ``.jsonl``), parsed again if a
        replay handed its data out; ``shown``: it is going where a replay cannot see who
        holds it, so replays copy its data from then on."""
        with self._lock:
            if self._spent:
                self._spent = False
                self._parse()
            self._unseen = self._unseen and not shown
            return self._cassette

    def _take(self) -> tuple[Cassette | None, bool]:
        """The recording for one replay pass, and whether the pass may hand each payload to
        the bus as parsed: only when nobody else has seen it, which leaves it spent (what
        a subscriber does to the payloads never reaches a later pass or reader)."""
        cassette = self._held(shown=False)
        with self._lock:
            if self._cassette is not cassette:  # parsed again meanwhile, by another thread
                return cassette, False
            handover, self._unseen = self._unseen, False
            self._spent = self._spent or handover
            return cassette, handover

    def __iter__(self) -> Iterator[RecordedEvent]:
        cassette = self._held(shown=True)
        if cassette is not None:
            return iter(cassette.events)
        return (event for block in self._blocks() for event in block.events)

    def __len__(self) -> int:
        cassette = self._held(shown=False)
        if cassette is not None:
            return len(cassette.events)
        return sum(1 for _ in self)

    def _blocks(self) -> Iterator[EventBlock]:
        assert self.path is not None
        return iter_event_blocks(self.path)

    def _runs(
        self, plan: _Plan, hand_over: bool
    ) -> Iterator[tuple[Iterable[tuple[int, RecordedEvent]], bool]]:
        """The events to replay as runs of (index, event) pairs, each with whether its
        events may be handed to the bus as they are (freshly read, nothing to restore);
        ``hand_over=False`` for a replay that must copy them all (see
        :attr:`_Plan.hand_over`; an in-memory recording then stays unspent)."""
        if plan.selected is not None:
            yield plan.selected, False
            return
        for first_index, events, fresh in self._event_runs(hand_over):
            yield enumerate(events, first_index), fresh

    def _event_runs(self, hand_over: bool) -> Iterator[tuple[int, Sequence[RecordedEvent], bool]]:
        """Every event, as runs of consecutive events: each with its first index and whether
        its events may be handed over (see :meth:`_runs`)."""
        if self._cassette is not None:
            cassette, fresh = self._take() if hand_over else (self._held(shown=False), False)
            assert cassette is not None
            yield 0, cassette.events, fresh
            return
        for block in self._blocks():
            yield block.first_index, block.events, hand_over and not block.tagged

    @property
    def events(self) -> list[RecordedEvent]:
        """All events, in memory (a ``.jsonl`` file is read whole for this)."""
        return list(self)

    @property
    def session_name(self) -> str:
        return self.header.session_name

    def to_cassette(self) -> Cassette:
        cassette = self._held(shown=True)
        if cassette is not None:
            return cassette
        assert self.path is not None
        return read_cassette(self.path)

    # ------------------------------------------------------------------ analysis

    def get_event_summary(self) -> dict[str, int]:
        """Counts per event name, most common first (ties in order of first appearance)."""
        return summarize(self)

    def print_timeline(self, max_events: int = 50, *, file: IO[str] | None = None) -> None:
        """Print ``offset  name  source`` for the first ``max_events`` events."""
        if max_events < 0:
            raise ValueError(f"max_events must be >= 0, got {max_events!r}")
        out = file or sys.stdout
        print(f"Timeline of {self.session_name!r}", file=out)
        shown = 0
        for event in self:
            if shown == max_events:
                print(f"... and {len(self) - shown} more events", file=out)
                return
            source = event.source or "-"
            print(
                f"{event.timestamp_offset_ms:>12.3f} ms  {event.event_name:<32} {source}", file=out
            )
            shown += 1
        if shown == 0:
            print("(no events)", file=out)

    def filter_events(
        self, predicate: NameFilter | None = None, *, where: EventPredicate | None = None
    ) -> EventReplayer:
        """A new in-memory replayer with the events whose name passes ``predicate``
        (and which pass ``where``, a test on the whole event)."""
        keep = _combine(predicate, where)
        return self._derived((e for e in self if keep is None or keep(e)), 0.0)

    def slice(
        self, start_ms: float = 0.0, end_ms: float = math.inf, *, rebase: bool = True
    ) -> EventReplayer:
        """A new in-memory replayer with the events in ``[start_ms, end_ms)``.

        With ``rebase`` the offsets (and the start time) move so the slice starts at 0.
        """
        if not (0 <= start_ms <= end_ms) or math.isnan(end_ms):
            raise ValueError(f"need 0 <= start_ms <= end_ms, got {start_ms!r}, {end_ms!r}")
        picked = (e for e in self if start_ms <= e.timestamp_offset_ms < end_ms)
        if not rebase:
            return self._derived(picked, 0.0)
        return self._derived((e.shifted(-start_ms) for e in picked), start_ms)

    def _derived(self, events: Iterable[RecordedEvent], moved_ms: float) -> EventReplayer:
        start_time = self.header.start_time
        if moved_ms:
            try:
                start_time = shift_iso(start_time, moved_ms)
            except ValueError as exc:  # not ISO-8601, or moved past the year 9999
                log.debug("start time kept as it is in the slice: %s", exc)
        cassette = Cassette.build(
            self.header.session_name,
            events,
            start_time=start_time,
            metadata=self.header.metadata,
        )
        return EventReplayer(cassette, clock=self.clock)

    # ------------------------------------------------------------------ control

    def pause(self) -> None:
        """Hold the replay before its next event (safe from any thread)."""
        with self._lock:
            if self.state == "playing":
                self.state = "paused"
                self._paused_at = self.clock.now_ns()
                self._resumed.clear()
                self._attention = True
                self._interrupt.set()

    def resume(self) -> None:
        """Continue a paused replay; the remaining schedule shifts by the time spent paused."""
        with self._lock:
            if self.state == "paused":
                self.state = "playing"
                self._pause_debt_ns += self.clock.now_ns() - self._paused_at
                self._attention = self._stop_requested
                if not self._stop_requested:
                    self._interrupt.clear()
                self._resumed.set()

    def stop(self) -> None:
        """End a running replay before its next event (safe from any thread)."""
        with self._lock:
            if self.state in ("playing", "paused"):
                self._stop_requested = True
                self._attention = True
                self._interrupt.set()
                self._resumed.set()

    # ------------------------------------------------------------------ replay

    def replay(
        self,
        service_bus: object,
        speed_multiplier: float = 1.0,
        events_module_name: str | None = None,
        event_filter: NameFilter | None = None,
        progress_callback: ProgressCallback | None = None,
        *,
        where: EventPredicate | None = None,
        start_at_ms: float = 0.0,
        continue_on_error: bool = False,
        clock: str | Timeline | None = None,
    ) -> ReplayResult:
        """Publish the events into ``service_bus`` at their recorded offsets / speed.

        ``float("inf")`` replays as fast as possible. ``event_filter`` tests event names,
        ``where`` whole events; ``start_at_ms`` skips the events before that offset and
        starts the schedule there. A subscriber's exception stops the replay and
        propagates, unless ``continue_on_error`` collects them in the result.
        ``clock="recorded"``: the code under test reads the recording's time (see README).
        """
        plan = self._plan(
            service_bus,
            speed_multiplier,
            events_module_name,
            event_filter,
            progress_callback,
            where,
            start_at_ms,
            continue_on_error,
        )
        with (
            self._session(plan, service_bus) as (result, anchor),
            timed_replay(clock, self.header.start_time, plan) as timed,
        ):
            self._run(timed, result, anchor)
        return result

    @contextlib.contextmanager
    def _session(self, plan: _Plan, bus: object) -> Iterator[tuple[ReplayResult, int]]:
        """One replay's bookkeeping: its result and start anchor, its final state, and the
        release of an adapter made for it (from a URL...)."""
        result = ReplayResult(total=plan.total)
        connect = getattr(plan.adapter, "open_publisher", None)
        if callable(connect):  # a broker connects before the clock starts, not in event 1
            connect()
        anchor = self._start()
        try:
            yield result, anchor
            _flush(plan.adapter, bus)
        except BaseException:
            self._finish(result, failed=True)
            raise
        finally:
            if plan.adapter is not bus:
                plan.adapter.close()
        self._finish(result)
        _report(plan, result)

    def _run(self, plan: _Plan, result: ReplayResult, anchor: int) -> None:
        if plan.instant and plan.keep is None and plan.selected is None and plan.progress is None:
            self._run_instant(plan, result, anchor)
            return
        publish, progress, total = plan.adapter.publish, plan.progress, plan.total
        rebuild, keep, instant = plan.rebuild, plan.keep, plan.instant
        plain = rebuild.module is None  # plain data then has no class to look for
        published = 0
        try:
            for run, handover in self._runs(plan, hand_over=plan.hand_over):
                for index, event in run:
                    if keep is not None and not keep(event):
                        continue
                    if not instant or self._attention:
                        self.position = published  # kept current while waiting, for status
                        anchor, stopped = self._await(plan, event, anchor)
                        if stopped:
                            return
                        self.current_offset_ms = event.timestamp_offset_ms
                    marked = mark(event, self)  # what it causes is recorded as such
                    try:
                        if event.event_type is not None or not plain:
                            outcome = publish(event, rebuild(event))
                        else:  # as read when fresh, else a copy: 0.4 us, Rebuilder's 0.7
                            data = event.event_data
                            outcome = publish(event, data if handover else restore(data))
                    except Exception as exc:
                        self._failed(plan, result, index, event, exc)
                        outcome = None
                    finally:
                        unmark(marked)
                    if outcome is not None and inspect.iscoroutine(outcome):
                        _refuse_coroutine(outcome)
                    published += 1
                    if progress is not None:
                        progress(published, total)
                if instant and published:  # an instant replay updates its status per run
                    self.position = published
                    self.current_offset_ms = event.timestamp_offset_ms
        finally:
            result.published = self.position = published

    def _run_instant(self, plan: _Plan, result: ReplayResult, anchor: int) -> None:
        """:meth:`_run` for an instant replay of every event with no progress callback,
        where per-event checks and calls are most of the cost beyond decoding: no schedule,
        no filter, and each event's index is how many were published before it."""
        publish, rebuild = plan.adapter.publish, plan.rebuild
        published = 0
        # Each event's mark replaces the last one (no reset per event: only this loop runs
        # between two publishes); the mark found here is put back at the end.
        outer = set_marked(marked_now())
        try:
            for _, events, handover in self._event_runs(plan.hand_over):
                for event in events:
                    if self._attention:  # pause() or stop() was called
                        self.position = published
                        anchor, stopped = self._await(plan, event, anchor)
                        if stopped:
                            return
                        self.current_offset_ms = event.timestamp_offset_ms
                    # mark(), inlined: what it causes is recorded as such
                    set_marked((event, self, now_ns(), None))
                    try:
                        if handover and event.event_type is None:
                            outcome = publish(event, event.event_data)
                        else:
                            outcome = publish(event, rebuild(event))
                    except Exception as exc:
                        self._failed(plan, result, published, event, exc)
                        outcome = None
                    if outcome is not None and inspect.iscoroutine(outcome):
                        _refuse_coroutine(outcome)
                    published += 1
                if published:
                    self.position = published
                    self.current_offset_ms = event.timestamp_offset_ms
        finally:
            unmark(outer)
            result.published = self.position = published

    def _await(self, plan: _Plan, event: RecordedEvent, anchor: int) -> tuple[int, bool]:
        """Wait for the event's turn; returns the anchor (moved by any pause) and whether
        the replay was stopped meanwhile."""
        while True:
            self._resumed.wait()  # at once, unless paused
            anchor += self._settle_pause()
            if self._stop_requested:
                return anchor, True
            if plan.instant:
                return anchor, False
            deadline = plan.deadline(anchor, event)
            self.clock.sleep_until(deadline, self._interrupt)
            if self._playing_on() and self.clock.now_ns() >= deadline:
                return anchor, False

    async def replay_async(
        self,
        service_bus: object,
        speed_multiplier: float = 1.0,
        events_module_name: str | None = None,
        event_filter: NameFilter | None = None,
        progress_callback: ProgressCallback | None = None,
        *,
        where: EventPredicate | None = None,
        start_at_ms: float = 0.0,
        continue_on_error: bool = False,
        clock: str | Timeline | None = None,
        drain: bool | float = True,
    ) -> ReplayResult:
        """:meth:`replay` for asyncio: waits without blocking the loop, awaits coroutine
        publishes (a subscriber's exception propagates unless ``continue_on_error``).
        Under ``clock="recorded"`` the loop's timers run on recorded time and ``drain``
        fires those due after the last event before returning."""
        plan = self._plan(
            service_bus,
            speed_multiplier,
            events_module_name,
            event_filter,
            progress_callback,
            where,
            start_at_ms,
            continue_on_error,
        )
        with self._session(plan, service_bus) as (result, anchor):
            async with timed_replay_async(clock, self.header.start_time, plan, drain) as timed:
                await self._run_async(timed, result, anchor)
        return result

    async def _run_async(self, plan: _Plan, result: ReplayResult, anchor: int) -> None:
        for run, _fresh in self._runs(plan, hand_over=False):
            for index, event in run:
                if plan.keep is not None and not plan.keep(event):
                    continue
                anchor, stopped = await self._await_async(plan, event, anchor)
                if stopped:
                    return
                self.current_offset_ms = event.timestamp_offset_ms
                try:
                    with handling(event, self):  # tasks the handlers start inherit it
                        outcome = plan.adapter.publish(event, plan.rebuild(event))
                        if inspect.isawaitable(outcome):
                            await outcome
                except Exception as exc:
                    self._failed(plan, result, index, event, exc)
                self._count(plan, result)

    async def _await_async(
        self, plan: _Plan, event: RecordedEvent, anchor: int
    ) -> tuple[int, bool]:
        while True:
            while not self._resumed.is_set():
                await asyncio.sleep(PAUSE_POLL_S)
            anchor += self._settle_pause()
            if self._stop_requested:
                return anchor, True
            deadline = anchor if plan.instant else plan.deadline(anchor, event)
            await self.clock.sleep_until_async(deadline, self._interrupt)
            if self._playing_on() and self.clock.now_ns() >= deadline:
                return anchor, False

    def _settle_pause(self) -> int:
        """The pause time to shift the schedule by, now that the replay goes on."""
        with self._lock:
            debt, self._pause_debt_ns = self._pause_debt_ns, 0
        return debt

    def _playing_on(self) -> bool:
        """Neither paused nor stopped."""
        return self._resumed.is_set() and not self._stop_requested

    # ------------------------------------------------------------------ shared steps

    def _plan(
        self,
        bus: object,
        speed: float,
        module_name: str | None,
        name_filter: NameFilter | None,
        progress: ProgressCallback | None,
        where: EventPredicate | None,
        start_ms: float,
        continue_on_error: bool,
    ) -> _Plan:
        speed = _check_speed(speed)
        start_ms = _check_start(start_ms)
        module = import_events_module(module_name) if module_name else None
        keep = _combine(name_filter, where)
        if start_ms:
            keep = _after(start_ms, keep)
        adapter = adapter_for(bus)
        selected = None
        cassette = self._held(shown=where is not None)  # the predicate may keep what it sees
        if cassette is not None:
            events = cassette.events
            if keep is not None:  # filtered up front: each predicate runs once per event
                selected = [(i, e) for i, e in enumerate(events) if keep(e)]
            keep, total = None, len(events if selected is None else selected)
        elif progress is not None:  # a second pass over the file, only to know the total
            total = len(self) if keep is None else sum(1 for e in self if keep(e))
        else:
            total = -1
        return _Plan(
            adapter,
            speed,
            Rebuilder(module),
            start_ms,
            keep,
            selected,
            progress,
            total,
            continue_on_error,
            hand_over=module is None and where is None and not continue_on_error,
        )

    def _start(self) -> int:
        with self._lock:
            if self.state in ("playing", "paused"):
                raise RuntimeError("this replayer is already replaying; stop() it or use another")
            self._stop_requested = False
            self._attention = False
            self._pause_debt_ns = 0
            self._interrupt.clear()
            self._resumed.set()
            self.state = "playing"
            self.position = 0
            self.current_offset_ms = 0.0
        return self.clock.now_ns()

    def _finish(self, result: ReplayResult, *, failed: bool = False) -> None:
        with self._lock:
            result.stopped = self._stop_requested
            if result.total < 0:
                result.total = result.published
            self.state = "stopped" if self._stop_requested or failed else "finished"
            self._resumed.set()

    def _failed(
        self, plan: _Plan, result: ReplayResult, index: int, event: RecordedEvent, exc: Exception
    ) -> None:
        if not plan.continue_on_error:
            raise exc
        log.warning("Event %d (%s) raised %r; replay continues", index, event.event_name, exc)
        self._show()  # the caller keeps the event: a later replay must not hand it out
        result.errors.append(ReplayError(index, event, exc))

    def _show(self) -> None:
        """The held recording's events went to the caller: replays copy them from now on."""
        with self._lock:
            self._unseen = False

    def _count(self, plan: _Plan, result: ReplayResult) -> None:
        result.published += 1
        self.position = result.published
        if plan.progress is not None:
            plan.progress(result.published, plan.total)


def _flush(adapter: object, bus: object) -> None:
    """A caller's broker adapter reports, before the replay returns, what the broker never
    acknowledged or refused (one the replay made for itself does it as it closes)."""
    flush = getattr(adapter, "flush", None)
    if adapter is bus and callable(flush):
        flush()


def _report(plan: _Plan, result: ReplayResult) -> None:
    """Puts what the replay could not do faithfully in the result, and warns of it."""
    result.not_rebuilt = dict(plan.rebuild.missed)
    notes = getattr(plan.adapter, "replay_warnings", None)
    result.warnings = plan.rebuild.warnings() + (list(notes) if notes else [])
    for line in plan.rebuild.warnings():
        warnings.warn(line, RebuildWarning, stacklevel=5)  # at the caller of replay()


def _check_speed(speed: object) -> float:
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not speed > 0:
        raise ValueError(
            f"speed_multiplier must be a positive number (or float('inf')), got {speed!r}"
        )
    return float(speed)


def _check_start(start_ms: object) -> float:
    if (
        isinstance(start_ms, bool)
        or not isinstance(start_ms, int | float)
        or not math.isfinite(start_ms)
        or start_ms < 0
    ):
        raise ValueError(f"start_at_ms must be a finite number >= 0, got {start_ms!r}")
    return float(start_ms)


def _combine(name_filter: NameFilter | None, where: EventPredicate | None) -> EventPredicate | None:
    if name_filter is None:
        return where
    if where is None:
        return lambda event: bool(name_filter(event.event_name))
    return lambda event: bool(name_filter(event.event_name)) and bool(where(event))


def _after(start_ms: float, keep: EventPredicate | None) -> EventPredicate:
    if keep is None:
        return lambda event: event.timestamp_offset_ms >= start_ms
    return lambda event: event.timestamp_offset_ms >= start_ms and keep(event)


def _resolve(recording_file: str | os.PathLike[str]) -> Path:
    """The file to load; a glob pattern (the seed's ``name_*.json``) picks the newest match."""
    path = Path(recording_file)
    if path.exists() or not glob.has_magic(str(path)):
        if not path.is_file():
            raise FileNotFoundError(f"recording not found: {path}")
        return path
    return newest_match(path)


def newest_match(pattern: str | os.PathLike[str]) -> Path:
    """The newest file a glob pattern matches (the seed's ``name_*.json``), or
    ``FileNotFoundError``."""
    matches = [Path(p) for p in glob.glob(str(pattern)) if Path(p).is_file()]
    if not matches:
        raise FileNotFoundError(f"no recording matches {pattern}")
    newest = max(matches, key=lambda p: (p.stat().st_mtime_ns, p.name))
    if len(matches) > 1:
        log.info("%d recordings match %s; using the newest, %s", len(matches), pattern, newest)
    return newest
