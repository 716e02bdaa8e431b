"""asyncio under the recorded clock: the running loop's timers fire on recorded time.

An asyncio loop reads ``time.monotonic()`` (which :class:`.VirtualTime` moves) and, with
nothing ready to run, blocks in its selector until the next timer is due. For the replay
the loop's selector is wrapped: when the loop would wait for a timer and no I/O is ready,
recorded time jumps to the timer instead (at instant speed), or the wait is the recorded
one divided by the replay speed. ``asyncio.sleep``, ``call_later`` and ``wait_for``
timeouts then fire between the recorded events, in order, without waiting in real time.

Like trio's ``MockClock(autojump_threshold=0)``, but on the loop the test already runs:
the selector is swapped on the running loop for the replay only (``loop._selector``, which
CPython's selector loops - the default on Linux and macOS - all have), and put back in
``finally``.
"""

from __future__ import annotations

import asyncio
import math
import selectors
from typing import Any

from .timetravel import VirtualTime

DRAIN_LIMIT_S = 3600.0
"""``drain=True`` fires timers due up to this long after the last event (a client's
periodic ping would otherwise be fired forever)."""


class JumpingSelector:
    """Wraps a loop's selector: waiting for a timer moves recorded time instead."""

    def __init__(self, inner: selectors.BaseSelector, clock: VirtualTime, speed: float) -> None:
        self.inner = inner
        self.clock = clock
        self.speed = speed
        self.drained: asyncio.Future[None] | None = None
        """Set while draining: resolved when no timer is due before :attr:`drain_until_ns`."""
        self.drain_until_ns = 0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self.inner.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None or self._past_drain(timeout):
            if self.drained is not None:  # nothing more to fire: the drain is over
                self._end_drain()
                return []
            return self.inner.select(timeout)  # only I/O can wake the loop: wait for it
        if not math.isinf(self.speed):
            ready = self.inner.select(timeout / self.speed)
            if ready:
                return ready  # I/O came first; recorded time stands still for it
        self.clock.advance(max(1, round(timeout * 1e9)))
        return []

    def _past_drain(self, timeout: float) -> bool:
        return self.drained is not None and (
            self.clock.offset_ns + timeout * 1e9 > self.drain_until_ns
        )

    def _end_drain(self) -> None:
        assert self.drained is not None
        if not self.drained.done():
            self.drained.set_result(None)
        self.drained = None

    def __getattr__(self, name: str) -> Any:  # register, unregister, get_key, close...
        return getattr(self.inner, name)


class LoopTime:
    """For one async replay: the running loop's timers on recorded time."""

    def __init__(self, clock: VirtualTime, speed: float) -> None:
        self.loop = asyncio.get_running_loop()
        inner = getattr(self.loop, "_selector", None)
        if not isinstance(inner, selectors.BaseSelector):
            raise TypeError(
                f"clock='recorded' with an async bus needs one of asyncio's selector event "
                f"loops (the default on Linux and macOS); {type(self.loop).__name__} is not one"
            )
        self.inner = inner
        self.selector = JumpingSelector(inner, clock, speed)

    def __enter__(self) -> LoopTime:
        self.loop._selector = self.selector  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.loop._selector = self.inner  # type: ignore[attr-defined]

    async def sleep_until(self, offset_ns: int) -> None:
        """Let recorded time run to ``offset_ns``, firing the timers due before it."""
        delay = offset_ns - self.selector.clock.offset_ns
        if delay > 0:
            await asyncio.sleep(delay / 1e9)

    async def drain(self, limit_s: float) -> None:
        """Fire the timers due within ``limit_s`` of recorded time from now, in order."""
        self.selector.drain_until_ns = self.selector.clock.offset_ns + round(limit_s * 1e9)
        self.selector.drained = self.loop.create_future()
        await self.selector.drained
