"""What ``replay(..., clock="recorded")`` wraps around a replay: the recorded clock set,
each event delivered at its recorded time, everything put back afterwards.

A replay's plan is handed in and a plan handed back, with its adapter wrapped: the
replayer's loops stay as they are, and a replay without the clock costs nothing more.
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any

from .cassette import RecordedEvent
from .timetravel import TimedAdapter, Timeline, VirtualTime, check_clock
from .virtualloop import DRAIN_LIMIT_S, LoopTime


@contextlib.contextmanager
def timed_replay(clock: object, start_time: str, plan: Any) -> Iterator[Any]:
    """``plan`` as it is, or (``clock="recorded"``) publishing each event at its time."""
    chosen = check_clock(clock)
    if chosen is None:
        yield plan
        return
    with _virtual_time(chosen, start_time, plan) as now:
        yield replace(plan, adapter=TimedAdapter(plan.adapter, now))


@contextlib.asynccontextmanager
async def timed_replay_async(
    clock: object, start_time: str, plan: Any, drain: bool | float = True
) -> AsyncIterator[Any]:
    """:func:`timed_replay` for asyncio: the running loop's timers follow recorded time,
    and (``drain``) the timers due after the last event fire before the replay returns:
    ``True`` those due within an hour of recorded time, a number within that many s."""
    limit = _drain_limit(drain)
    chosen = check_clock(clock)
    if chosen is None:
        yield plan
        return
    with _virtual_time(chosen, start_time, plan) as now, LoopTime(now, plan.speed) as loop:
        # The loop paces the replay (and the code's timers) now, on recorded time.
        yield replace(plan, speed=math.inf, adapter=_AsyncTimedAdapter(plan.adapter, now, loop))
        if limit:
            await loop.drain(limit)


def _virtual_time(clock: str | Timeline, start_time: str, plan: Any) -> VirtualTime:
    timeline = clock if isinstance(clock, Timeline) else None
    return VirtualTime(start_time, plan.start_ms, timeline)


def _drain_limit(drain: object) -> float:
    if drain is True:
        return DRAIN_LIMIT_S
    if drain is False:
        return 0.0
    if isinstance(drain, int | float) and math.isfinite(drain) and drain >= 0:
        return float(drain)
    raise ValueError(f"drain must be True, False or a number of seconds >= 0, got {drain!r}")


@dataclass
class _AsyncTimedAdapter(TimedAdapter):
    loop: LoopTime | None = None

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        return self._publish(event, payload)

    async def _publish(self, event: RecordedEvent, payload: object) -> Any:
        assert self.loop is not None
        await self.loop.sleep_until(round(event.timestamp_offset_ms * 1e6))
        self.time.at_event(event)
        outcome = self.inner.publish(event, payload)
        return await outcome if inspect.isawaitable(outcome) else outcome
