"""Clocks the replayer schedules on.

Deadlines are absolute (one anchor, ``anchor + offset / speed``), so a late event never
delays the ones after it: there is no cumulative drift.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol

SPIN_NS = 1_500_000
"""The last stretch before a deadline is spun, not slept: a timed wait can overshoot ~1 ms."""


class Clock(Protocol):
    def now_ns(self) -> int:
        """Monotonic nanoseconds."""

    def sleep_until(self, deadline_ns: int, interrupt: threading.Event) -> None:
        """Return at ``deadline_ns``, or as soon as ``interrupt`` is set."""

    async def sleep_until_async(self, deadline_ns: int, interrupt: threading.Event) -> None:
        """:meth:`sleep_until` without blocking the event loop (``interrupt`` is polled)."""


class RealClock:
    """The process's monotonic clock, sleeping then spinning to hit deadlines precisely."""

    def __init__(self, spin_ns: int = SPIN_NS, poll_ns: int = 50_000_000) -> None:
        self.spin_ns = spin_ns
        self._counter = time.perf_counter_ns
        """Bound now: a replay under clock="recorded" moves ``time.perf_counter_ns``."""
        self.poll_ns = poll_ns
        """Longest asyncio sleep between two looks at the interrupt."""

    def now_ns(self) -> int:
        return self._counter()

    def sleep_until(self, deadline_ns: int, interrupt: threading.Event) -> None:
        now = self._counter
        while not interrupt.is_set():
            remaining = deadline_ns - now()
            if remaining <= 0:
                return
            if remaining > self.spin_ns:
                interrupt.wait((remaining - self.spin_ns) / 1e9)
            else:
                time.sleep(0)  # let other threads run while spinning the last stretch

    async def sleep_until_async(self, deadline_ns: int, interrupt: threading.Event) -> None:
        now = self._counter
        while not interrupt.is_set():
            remaining = deadline_ns - now()
            if remaining <= 0:
                return
            nap = min(remaining - self.spin_ns, self.poll_ns)
            await asyncio.sleep(nap / 1e9 if nap > 0 else 0)


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

    async def sleep_until_async(self, deadline_ns: int, interrupt: threading.Event) -> None:
        self.sleep_until(deadline_ns, interrupt)
        await asyncio.sleep(0)  # still a scheduling point, as a real sleep would be

    def advance(self, ns: int) -> None:
        """Move time forward, as if that much had passed."""
        self._now += ns
