"""Clocks the replayer schedules on.

Deadlines are absolute (one anchor, ``anchor + offset / speed``), so a late event never
delays the ones after it: there is no cumulative drift.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

SPIN_NS = 1_500_000
"""The last stretch before a deadline is spun, not slept: ``sleep`` overshoots by up to ~1 ms."""


class Clock(Protocol):
    def now_ns(self) -> int:
        """Monotonic nanoseconds."""

    def sleep_until(self, deadline_ns: int, interrupt: threading.Event) -> None:
        """Return at ``deadline_ns``, or as soon as ``interrupt`` is set."""


class RealClock:
    """The process's monotonic clock, sleeping then spinning to hit deadlines precisely."""

    def __init__(self, spin_ns: int = SPIN_NS) -> None:
        self.spin_ns = spin_ns

    def now_ns(self) -> int:
        return time.perf_counter_ns()

    def sleep_until(self, deadline_ns: int, interrupt: threading.Event) -> None:
        now = time.perf_counter_ns
        while not interrupt.is_set():
            remaining = deadline_ns - now()
            if remaining <= 0:
                return
            if remaining > self.spin_ns:
                interrupt.wait((remaining - self.spin_ns) / 1e9)
            else:
                time.sleep(0)  # yield the GIL while spinning the last stretch


class VirtualClock:
    """A clock that jumps to each deadline at once: instant, deterministic replays in tests."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns
        self.sleeps: list[int] = []
        """Every deadline slept until, in order (for assertions on scheduling)."""

    def now_ns(self) -> int:
        return self._now

    def sleep_until(self, deadline_ns: int, interrupt: threading.Event) -> None:
        self.sleeps.append(deadline_ns)
        self._now = max(self._now, deadline_ns)

    def advance(self, ns: int) -> None:
        """Move time forward, as if that much had passed."""
        self._now += ns
