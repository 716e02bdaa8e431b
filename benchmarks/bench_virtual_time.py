"""What ``clock="recorded"`` costs.

1. Per replayed event: an instant replay of 20,000 events into a bus whose subscriber does
   nothing, with and without the clock (CPU time, best of 5 each, interleaved). Target:
   the clock adds <= 5 us per event.
2. A 1-hour recording with timers, on an asyncio bus under the clock: 3,600 events (one a
   second), each handler arming a 5 s ``asyncio.sleep`` timer. Its wall time is compared
   with a 1-minute recording of the same number of events and timers: the replay time
   should follow the number of events and timers, not recorded time (ratio ~1, limit 2),
   and be far from an hour.

Usage: ``python benchmarks/bench_virtual_time.py``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pytest_eventrecorder import Cassette, EventReplayer, RecordedEvent

EVENTS = 20_000
TIMERS = 3_600
TARGET_US = 5.0
RATIO_LIMIT = 2.0
START = "2024-03-01T12:00:00.000Z"


class Bus:
    def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        pass


class TimerBus:
    """Each event arms a 5 s timer; ``fired`` counts the ones that went off."""

    def __init__(self) -> None:
        self.fired = 0
        self.tasks: set[asyncio.Task[None]] = set()

    async def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        task = asyncio.get_running_loop().create_task(self._later())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _later(self) -> None:
        await asyncio.sleep(5)
        self.fired += 1


def replayer(count: int, every_ms: float) -> EventReplayer:
    events = [RecordedEvent(i * every_ms, "Tick", {"n": i}, "feed") for i in range(count)]
    return EventReplayer(Cassette.build("bench", events, start_time=START))


def cpu_per_event_us(clock: str | None, source: EventReplayer) -> float:
    bus = Bus()
    best = float("inf")
    for _ in range(5):
        began = time.process_time_ns()
        source.replay(bus, float("inf"), clock=clock)
        best = min(best, time.process_time_ns() - began)
    return best / EVENTS / 1000


def timed_wall_s(every_ms: float) -> tuple[float, int]:
    bus = TimerBus()
    source = replayer(TIMERS, every_ms)

    async def run() -> None:
        await source.replay_async(bus, float("inf"), clock="recorded")

    began = time.perf_counter()
    asyncio.run(run())
    return time.perf_counter() - began, bus.fired


def main() -> int:
    source = replayer(EVENTS, 10.0)
    plain, clocked = [], []
    for _ in range(3):
        plain.append(cpu_per_event_us(None, source))
        clocked.append(cpu_per_event_us("recorded", source))
    added = min(clocked) - min(plain)
    print(f"instant replay of {EVENTS:,} events, CPU per event:")
    print(f"  real clock {min(plain):.2f} us, recorded clock {min(clocked):.2f} us")
    verdict = "OK" if added <= TARGET_US else "OVER"
    print(f"  the clock adds {added:.2f} us per event (target <= {TARGET_US:g} us) {verdict}")
    hour_s, hour_fired = timed_wall_s(1000.0)
    minute_s, minute_fired = timed_wall_s(1000.0 / 60)
    ratio = hour_s / minute_s
    print(f"asyncio, {TIMERS:,} events each arming a 5 s timer, under the clock:")
    print(f"  1-hour recording: {hour_s:.3f} s wall ({hour_fired:,} timers fired)")
    print(f"  1-minute recording: {minute_s:.3f} s wall ({minute_fired:,} timers fired)")
    verdict = "OK" if ratio <= RATIO_LIMIT else "OVER"
    print(f"  ratio {ratio:.2f} (limit {RATIO_LIMIT:g}: time follows events and timers) {verdict}")
    return 0 if added <= TARGET_US and ratio <= RATIO_LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())
