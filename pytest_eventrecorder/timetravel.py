"""The recorded clock: while a replay runs with ``clock="recorded"``, the code under test
reads the recording's time, not the machine's.

The wall clock (``time.time()``, ``time.time_ns()``, ``datetime.now()``, ``utcnow()``,
``date.today()``...) is moved by time-machine, which patches those at the C level. The
monotonic clocks (``time.monotonic``, ``perf_counter`` and their ``_ns`` twins) are
replaced in the ``time`` module for the replay only: time-machine 3 no longer mocks them.
Both stand still between events and jump to each event's offset as it is delivered; an
asyncio loop's timers move them too (see :mod:`.virtualloop`). Everything is put back in
``finally``, whatever the replay or the test does.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .cassette import RecordedEvent, parse_iso

RECORDED = "recorded"
CLOCKS = ("real", RECORDED)
EXTRA_HINT = "pip install 'pytest-eventrecorder[time]'"

_PATCHED = ("monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns")
REAL_MONOTONIC_NS = time.monotonic_ns
REAL_PERF_COUNTER_NS = time.perf_counter_ns
"""Captured at import: what paces a replay must not read the clock it moves."""


class Timeline:
    """Pass as ``clock=`` instead of ``"recorded"`` to learn, afterwards, what recorded time
    it was at each real moment of the replay (for stamping what the code under test
    published with recorded time)."""

    def __init__(self) -> None:
        self.real_ns: list[int] = []
        self.offset_ns: list[int] = []

    def mark(self, offset_ns: int) -> None:
        self.real_ns.append(REAL_PERF_COUNTER_NS())
        self.offset_ns.append(offset_ns)

    def offset_ms_at(self, real_ns: int) -> float | None:
        """The recorded time (ms) at ``time.perf_counter_ns()`` value ``real_ns``, read
        before the replay; ``None`` outside the replays followed."""
        at = bisect.bisect_right(self.real_ns, real_ns) - 1
        return None if at < 0 else self.offset_ns[at] / 1e6


def check_clock(value: object) -> str | Timeline | None:
    """``None`` for the machine's clock (``None`` or ``"real"``), ``"recorded"`` (or a
    :class:`Timeline`), or a ``ValueError`` naming the choices."""
    if value is None or value == "real":
        return None
    if value == RECORDED or isinstance(value, Timeline):
        return value
    raise ValueError(f"clock must be one of {', '.join(map(repr, CLOCKS))} or None, got {value!r}")


def epoch_ns(start_time: str) -> int:
    """The recording's ``start_time`` in ns since the epoch (a naive one is local time)."""
    try:
        moment = parse_iso(start_time)
    except (TypeError, ValueError):
        raise ValueError(
            f"clock='recorded' needs the recording's start_time as ISO-8601, got {start_time!r}"
        ) from None
    whole = moment.replace(microsecond=0)
    return int(whole.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


class VirtualTime:
    """One replay's time: ``offset_ns`` past the recording's start, moved only forward.

    Use as a context manager: entering starts the travel, leaving ends it.
    """

    def __init__(
        self, start_time: str, start_ms: float = 0.0, timeline: Timeline | None = None
    ) -> None:
        self._epoch_ns = epoch_ns(start_time)
        self.offset_ns = round(start_ms * 1e6)
        self._timeline = timeline
        self._travel: Any = None
        self._traveller: Any = None
        self._saved: dict[str, Callable[[], float | int]] = {}

    @property
    def offset_ms(self) -> float:
        return self.offset_ns / 1e6

    def at_event(self, event: RecordedEvent) -> None:
        """The event is being delivered: time is its recorded offset (never earlier than now)."""
        target = round(event.timestamp_offset_ms * 1e6)
        if target > self.offset_ns:
            self.advance(target - self.offset_ns)

    def advance(self, ns: int) -> None:
        """Let ``ns`` of recorded time pass (``ns`` > 0)."""
        self.offset_ns += ns
        self._traveller.shift(ns / 1e9)  # a float: time-machine reads an int as seconds
        if self._timeline is not None:
            self._timeline.mark(self.offset_ns)

    def __enter__(self) -> VirtualTime:
        time_machine = _time_machine()
        seconds, ns = divmod(self._epoch_ns + self.offset_ns, 1_000_000_000)
        # A timestamp, not a datetime: an aware datetime would also set the TZ variable.
        self._travel = time_machine.travel(seconds, tick=False)
        self._traveller = self._travel.start()
        try:
            if ns:
                self._traveller.shift(ns / 1e9)
            self._patch_monotonic()
            if self._timeline is not None:
                self._timeline.mark(self.offset_ns)
        except BaseException:
            self._travel.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            for name, original in self._saved.items():
                setattr(time, name, original)
            self._saved.clear()
        finally:
            self._travel.stop()

    def _patch_monotonic(self) -> None:
        """``monotonic``/``perf_counter`` keep their value at the start of the replay and
        advance with recorded time (offsets are what these clocks are for)."""
        mono0 = REAL_MONOTONIC_NS() - self.offset_ns
        perf0 = REAL_PERF_COUNTER_NS() - self.offset_ns

        def monotonic_ns() -> int:
            return mono0 + self.offset_ns

        def monotonic() -> float:
            return (mono0 + self.offset_ns) / 1e9

        def perf_counter_ns() -> int:
            return perf0 + self.offset_ns

        def perf_counter() -> float:
            return (perf0 + self.offset_ns) / 1e9

        fakes = (monotonic, monotonic_ns, perf_counter, perf_counter_ns)
        for name, fake in zip(_PATCHED, fakes, strict=True):
            self._saved[name] = getattr(time, name)
            setattr(time, name, fake)


def _time_machine() -> Any:
    try:
        import time_machine
    except ImportError:
        raise ImportError(
            f"clock='recorded' moves the clocks with time-machine, which is not installed: "
            f"{EXTRA_HINT}"
        ) from None
    return time_machine


@dataclass
class TimedAdapter:
    """A bus adapter that sets the recorded time before publishing each event."""

    inner: Any
    time: VirtualTime

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        self.time.at_event(event)
        return self.inner.publish(event, payload)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
