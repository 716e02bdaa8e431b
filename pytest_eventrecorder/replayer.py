"""EventReplayer: publish a recording back into a bus on its original schedule."""

from __future__ import annotations

import asyncio
import glob
import inspect
import logging
import math
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from .adapters import BusAdapter, adapter_for
from .cassette import Cassette, CassetteHeader, RecordedEvent, summarize
from .clock import Clock, RealClock
from .formats import cassette_format, iter_events, read_cassette, read_header
from .serialize import import_events_module, rebuild

log = logging.getLogger("pytest_eventrecorder")

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
    """What a replay did."""

    published: int = 0
    total: int = 0
    stopped: bool = False
    errors: list[ReplayError] = field(default_factory=list)


@dataclass
class _Plan:
    """Everything a replay loop needs, resolved once before the first event."""

    adapter: BusAdapter
    speed: float
    module: ModuleType | None
    start_ms: float
    keep: EventPredicate
    progress: ProgressCallback | None
    total: int
    continue_on_error: bool


class EventReplayer:
    """Loads a recording (any format, or a :class:`Cassette`) and replays it.

    ``.jsonl`` files are streamed from disk on every pass; other formats are loaded once.
    A glob pattern picks the newest matching file.
    """

    def __init__(self, recording_file: str | os.PathLike[str] | Cassette, *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or RealClock()
        self.path: Path | None = None
        self._cassette: Cassette | None = None
        if isinstance(recording_file, Cassette):
            self._cassette = recording_file
            self.header = recording_file.header
        else:
            self.path = _resolve(recording_file)
            if cassette_format(self.path)[0] == "jsonl":
                self.header = read_header(self.path)
            else:
                self._cassette = read_cassette(self.path)
                self.header = self._cassette.header
        self._interrupt = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._stopped = False
        self.state = "idle"
        self.position = 0
        self.current_offset_ms = 0.0

    @classmethod
    def from_events(cls, events: Iterable[RecordedEvent], session_name: str = "replay") -> EventReplayer:
        """A replayer over events held in memory."""
        return cls(Cassette.build(session_name, events))

    # ------------------------------------------------------------------ the events

    def __iter__(self) -> Iterator[RecordedEvent]:
        if self._cassette is not None:
            return iter(self._cassette.events)
        assert self.path is not None
        return iter_events(self.path)

    def __len__(self) -> int:
        if self._cassette is not None:
            return len(self._cassette.events)
        return sum(1 for _ in self)

    @property
    def events(self) -> list[RecordedEvent]:
        """All events, in memory (a ``.jsonl`` file is read whole for this)."""
        return list(self)

    @property
    def session_name(self) -> str:
        return self.header.session_name

    def to_cassette(self) -> Cassette:
        return self._cassette if self._cassette is not None else Cassette(self.header, tuple(self))

    # ------------------------------------------------------------------ analysis

    def get_event_summary(self) -> dict[str, int]:
        """Counts per event name, most common first."""
        return summarize(self)

    def print_timeline(self, max_events: int = 50, *, file: IO[str] | None = None) -> None:
        """Print ``offset  name  source`` for the first ``max_events`` events."""
        out = file or sys.stdout
        shown = 0
        for shown, event in enumerate(self, start=1):
            if shown > max_events:
                print(f"... (showing the first {max_events} events)", file=out)
                return
            print(f"{event.timestamp_offset_ms:>12.3f} ms  {event.event_name:<32} {event.source or '-'}", file=out)
        if shown == 0:
            print("(no events)", file=out)

    def filter_events(
        self, predicate: NameFilter | None = None, *, where: EventPredicate | None = None
    ) -> EventReplayer:
        """A new in-memory replayer with the events whose name passes ``predicate``
        (and which pass ``where``, a test on the whole event)."""
        keep = _combine(predicate, where)
        return self._derived(e for e in self if keep(e))

    def slice(self, start_ms: float = 0.0, end_ms: float = math.inf, *, rebase: bool = True) -> EventReplayer:
        """A new replayer with the events in ``[start_ms, end_ms)``, offsets rebased to 0."""
        picked = (e for e in self if start_ms <= e.timestamp_offset_ms < end_ms)
        return self._derived(e.shifted(-start_ms) for e in picked) if rebase else self._derived(picked)

    def _derived(self, events: Iterable[RecordedEvent]) -> EventReplayer:
        cassette = Cassette.build(
            self.header.session_name, events,
            start_time=self.header.start_time, metadata=self.header.metadata,
        )
        return EventReplayer(cassette, clock=self.clock)

    # ------------------------------------------------------------------ control

    def pause(self) -> None:
        """Hold the replay before its next event (safe from any thread)."""
        if self.state == "playing":
            self.state = "paused"
            self._resume.clear()
            self._interrupt.set()

    def resume(self) -> None:
        """Continue a paused replay; the remaining schedule shifts by the time spent paused."""
        if self.state == "paused":
            self.state = "playing"
            self._interrupt.clear()
            self._resume.set()

    def stop(self) -> None:
        """End the replay before its next event (safe from any thread)."""
        self._stopped = True
        self._interrupt.set()
        self._resume.set()

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
    ) -> ReplayResult:
        """Publish the events into ``service_bus`` at their recorded offsets / speed.

        ``float("inf")`` replays as fast as possible. A subscriber's exception stops the
        replay and propagates, unless ``continue_on_error`` collects them in the result.
        """
        plan = self._plan(service_bus, speed_multiplier, events_module_name, event_filter,
                          progress_callback, where, start_at_ms, continue_on_error)
        result = ReplayResult(total=plan.total)
        anchor = self._start()
        try:
            for index, event in self._scheduled(plan):
                deadline = self._deadline(anchor, event, plan)
                anchor += self._wait(deadline)
                if self._stopped:
                    break
                self._publish(plan, index, event, result, plan.adapter.publish)
        finally:
            self._finish(result)
        return result

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
    ) -> ReplayResult:
        """:meth:`replay` for asyncio: sleeps with ``asyncio.sleep`` and awaits coroutine publishes."""
        plan = self._plan(service_bus, speed_multiplier, events_module_name, event_filter,
                          progress_callback, where, start_at_ms, continue_on_error)
        result = ReplayResult(total=plan.total)
        anchor = self._start()
        try:
            for index, event in self._scheduled(plan):
                deadline = self._deadline(anchor, event, plan)
                anchor += await self._wait_async(deadline)
                if self._stopped:
                    break
                pending = self._publish(plan, index, event, result, plan.adapter.publish)
                if inspect.isawaitable(pending):
                    await self._settle(plan, index, event, result, pending)
        finally:
            self._finish(result)
        return result

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
        if not isinstance(start_ms, int | float) or not math.isfinite(start_ms) or start_ms < 0:
            raise ValueError(f"start_at_ms must be a finite number >= 0, got {start_ms!r}")
        module = import_events_module(module_name) if module_name else None
        keep = _combine(name_filter, where)
        if start_ms:
            keep = _after(start_ms, keep)
        total = sum(1 for e in self if keep(e)) if progress else -1
        return _Plan(adapter_for(bus), speed, module, float(start_ms), keep, progress, total,
                     continue_on_error)

    def _start(self) -> int:
        if self.state in ("playing", "paused"):
            raise RuntimeError("this replayer is already replaying; stop() it or use another one")
        self._stopped = False
        self._interrupt.clear()
        self._resume.set()
        self.state = "playing"
        self.position = 0
        return self.clock.now_ns()

    def _finish(self, result: ReplayResult) -> None:
        result.stopped = self._stopped
        if result.total < 0:
            result.total = result.published
        self.state = "stopped" if self._stopped else "finished"

    def _scheduled(self, plan: _Plan) -> Iterator[tuple[int, RecordedEvent]]:
        keep = plan.keep
        for index, event in enumerate(self):
            if keep(event):
                yield index, event

    def _deadline(self, anchor: int, event: RecordedEvent, plan: _Plan) -> int:
        self.current_offset_ms = event.timestamp_offset_ms
        if plan.speed == math.inf:
            return anchor
        return anchor + round((event.timestamp_offset_ms - plan.start_ms) * 1e6 / plan.speed)

    def _wait(self, deadline: int) -> int:
        """Sleep until the deadline; returns how long was spent paused (to shift the anchor)."""
        paused_ns = 0
        while not self._stopped:
            self.clock.sleep_until(deadline + paused_ns, self._interrupt)
            if self._resume.is_set():
                if self.clock.now_ns() >= deadline + paused_ns or self._stopped:
                    return paused_ns
                continue
            began = self.clock.now_ns()
            self._resume.wait()
            paused_ns += self.clock.now_ns() - began
        return paused_ns

    async def _wait_async(self, deadline: int) -> int:
        paused_ns = 0
        while not self._stopped:
            if not self._resume.is_set():
                began = self.clock.now_ns()
                while not self._resume.is_set():
                    await asyncio.sleep(0.01)
                paused_ns += self.clock.now_ns() - began
                continue
            remaining = deadline + paused_ns - self.clock.now_ns()
            if remaining <= 0:
                return paused_ns
            await asyncio.sleep(min(remaining / 1e9, 0.05))
        return paused_ns

    def _publish(
        self, plan: _Plan, index: int, event: RecordedEvent, result: ReplayResult,
        publish: Callable[[RecordedEvent, object], Any],
    ) -> Any:
        try:
            outcome = publish(event, rebuild(event, plan.module))
        except Exception as exc:
            if not plan.continue_on_error:
                raise
            result.errors.append(ReplayError(index, event, exc))
            outcome = None
        if not inspect.isawaitable(outcome):
            self._count(plan, result)
        return outcome

    async def _settle(
        self, plan: _Plan, index: int, event: RecordedEvent, result: ReplayResult, pending: Any
    ) -> None:
        try:
            await pending
        except Exception as exc:
            if not plan.continue_on_error:
                raise
            result.errors.append(ReplayError(index, event, exc))
        self._count(plan, result)

    def _count(self, plan: _Plan, result: ReplayResult) -> None:
        result.published += 1
        self.position = result.published
        if plan.progress is not None:
            plan.progress(result.published, plan.total)


def _check_speed(speed: object) -> float:
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not speed > 0:
        raise ValueError(f"speed_multiplier must be a positive number (or float('inf')), got {speed!r}")
    return float(speed)


def _combine(name_filter: NameFilter | None, where: EventPredicate | None) -> EventPredicate:
    if name_filter is None and where is None:
        return lambda _event: True
    if where is None:
        assert name_filter is not None
        return lambda event: bool(name_filter(event.event_name))
    if name_filter is None:
        return lambda event: bool(where(event))
    return lambda event: bool(name_filter(event.event_name)) and bool(where(event))


def _after(start_ms: float, keep: EventPredicate) -> EventPredicate:
    return lambda event: event.timestamp_offset_ms >= start_ms and keep(event)


def _resolve(recording_file: str | os.PathLike[str]) -> Path:
    """The file to load; a glob pattern (as in the seed's ``name_*.json``) picks the newest match."""
    path = Path(recording_file)
    if path.exists() or not glob.has_magic(str(path)):
        if not path.is_file():
            raise FileNotFoundError(f"recording not found: {path}")
        return path
    matches = [Path(p) for p in glob.glob(str(path)) if Path(p).is_file()]
    if not matches:
        raise FileNotFoundError(f"no recording matches {path}")
    newest = max(matches, key=lambda p: (p.stat().st_mtime, p.name))
    if len(matches) > 1:
        log.info("%d recordings match %s; replaying the newest, %s", len(matches), path, newest)
    return newest
