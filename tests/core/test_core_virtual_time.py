"""Virtual time: under ``clock="recorded"`` the code under test reads the recording's time,
its asyncio timers fire between recorded events, and the real clock is back afterwards."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from typing import Any

import pytest
from core_helpers import ServiceBus

from pytest_eventrecorder import Cassette, EventReplayer, RecordedEvent

START = "2024-03-01T12:00:00.000Z"
START_S = dt.datetime(2024, 3, 1, 12, tzinfo=dt.timezone.utc).timestamp()
CLOCKS = (time.time, time.monotonic, time.perf_counter, time.monotonic_ns, time.perf_counter_ns)


def replayer(*offsets: float, name: str = "Tick") -> EventReplayer:
    events = [RecordedEvent(o, name, {"seq": i}, "feed") for i, o in enumerate(offsets)]
    return EventReplayer(Cassette.build("clocked", events, start_time=START))


def clocks_untouched() -> bool:
    now = (time.time, time.monotonic, time.perf_counter, time.monotonic_ns, time.perf_counter_ns)
    return now == CLOCKS and abs(time.time() - dt.datetime.now().timestamp()) < 1


def test_the_code_under_test_reads_recorded_time_at_every_speed() -> None:
    bus, seen = ServiceBus(), []
    bus.subscribe(
        "Tick",
        lambda _e: seen.append(
            (
                time.time(),
                time.time_ns(),
                dt.datetime.now(dt.timezone.utc),
                dt.datetime.utcnow(),
                dt.date.today(),
                time.monotonic(),
                time.perf_counter_ns(),
            )
        ),
    )
    for speed in (float("inf"), 200.0):
        seen.clear()
        began = time.perf_counter()
        replayer(0, 1500.25, 60_000).replay(bus, speed, clock="recorded")
        took = time.perf_counter() - began
        assert [s[0] for s in seen] == [START_S, START_S + 1.50025, START_S + 60]
        assert [s[1] - seen[0][1] for s in seen] == [0, 1_500_250_000, 60_000_000_000]
        assert seen[2][2] == dt.datetime(2024, 3, 1, 12, 1, tzinfo=dt.timezone.utc)
        assert seen[1][3] == dt.datetime(2024, 3, 1, 12, 0, 1, 500250)
        assert seen[0][4] == dt.date(2024, 3, 1)
        assert seen[2][5] - seen[0][5] == pytest.approx(60.0, abs=1e-9)
        assert seen[1][6] - seen[0][6] == 1_500_250_000
        assert took < (1.0 if speed == float("inf") else 60 / speed + 1.0)
        assert clocks_untouched()


def test_the_real_clock_is_back_when_a_subscriber_raises() -> None:
    bus = ServiceBus()
    bus.subscribe("Tick", lambda _e: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        replayer(0, 10).replay(bus, float("inf"), clock="recorded")
    assert clocks_untouched()


def test_start_at_ms_starts_the_clock_there() -> None:
    bus, seen = ServiceBus(), []
    bus.subscribe("Tick", lambda _e: seen.append(time.time()))
    replayer(0, 100, 2000).replay(bus, float("inf"), clock="recorded", start_at_ms=50)
    assert seen == [START_S + 0.1, START_S + 2]


def test_a_bad_clock_or_a_missing_extra_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="clock must be one of 'real', 'recorded'"):
        replayer(0).replay(ServiceBus(), float("inf"), clock="virtual")
    monkeypatch.setitem(sys.modules, "time_machine", None)
    with pytest.raises(ImportError, match=r"pytest-eventrecorder\[time\]"):
        replayer(0).replay(ServiceBus(), float("inf"), clock="recorded")
    assert clocks_untouched()


def test_no_clock_means_the_real_one() -> None:
    bus, seen = ServiceBus(), []
    bus.subscribe("Tick", lambda _e: seen.append(time.time()))
    replayer(0, 60_000).replay(bus, float("inf"), clock="real")
    assert abs(seen[1] - seen[0]) < 1


# --------------------------------------------------------------------------- asyncio


class AsyncBus:
    """An asyncio bus whose handlers are coroutines; ``log`` is what happened, when."""

    def __init__(self) -> None:
        self.log: list[tuple[str, float]] = []
        self.handlers: dict[str, Any] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def at(self, what: str) -> None:
        self.log.append((what, round(time.time() - START_S, 6)))

    async def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        self.at(f"{event_name}{event['seq']}")
        handler = self.handlers.get(event_name)
        if handler is not None:
            self.tasks.append(asyncio.get_running_loop().create_task(handler(event)))


def async_replayer() -> EventReplayer:
    events = [
        RecordedEvent(0, "Order", {"seq": 0}),
        RecordedEvent(3000, "Order", {"seq": 1}),
        RecordedEvent(10_000, "Order", {"seq": 2}),
    ]
    return EventReplayer(Cassette.build("async", events, start_time=START))


def wire(bus: AsyncBus) -> None:
    never = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def handle(event: Any) -> None:
        seq = event["seq"]
        if seq == 0:
            await asyncio.sleep(5)
            bus.at("slept5")
        elif seq == 1:
            loop.call_later(1, bus.at, "later1")
            try:
                await asyncio.wait_for(never.wait(), timeout=2)
            except asyncio.TimeoutError:
                bus.at("timeout2")
        else:
            await asyncio.sleep(30)
            bus.at("after-last")

    bus.handlers["Order"] = handle


EXPECTED = [
    ("Order0", 0.0),
    ("Order1", 3.0),
    ("later1", 4.0),
    ("slept5", 5.0),
    ("timeout2", 5.0),
    ("Order2", 10.0),
    ("after-last", 40.0),
]


@pytest.mark.asyncio
async def test_asyncio_timers_fire_between_recorded_events_without_waiting() -> None:
    bus = AsyncBus()
    wire(bus)
    began = time.perf_counter()
    result = await async_replayer().replay_async(bus, float("inf"), clock="recorded")
    assert time.perf_counter() - began < 1.0
    assert result.published == 3
    assert bus.log == EXPECTED
    assert clocks_untouched()


@pytest.mark.asyncio
async def test_without_drain_the_timers_after_the_last_event_stay_pending() -> None:
    bus = AsyncBus()
    wire(bus)
    await async_replayer().replay_async(bus, float("inf"), clock="recorded", drain=False)
    assert bus.log == EXPECTED[:-1]
    assert not bus.tasks[-1].done()
    bus.tasks[-1].cancel()
    assert clocks_untouched()


@pytest.mark.asyncio
async def test_a_paced_async_replay_keeps_the_interleaving() -> None:
    bus = AsyncBus()
    wire(bus)
    began = time.perf_counter()
    await async_replayer().replay_async(bus, 100.0, clock="recorded", drain=35)
    took = time.perf_counter() - began
    assert bus.log == EXPECTED
    assert 0.3 < took < 2.0  # 40 s of recorded time at x100
    assert clocks_untouched()


@pytest.mark.asyncio
async def test_the_loop_is_back_when_an_async_replay_raises() -> None:
    loop = asyncio.get_running_loop()
    selector = loop._selector  # type: ignore[attr-defined]

    class Failing(AsyncBus):
        async def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
            await asyncio.sleep(1)
            raise LookupError("handler bug")

    with pytest.raises(LookupError):
        await async_replayer().replay_async(Failing(), float("inf"), clock="recorded")
    assert loop._selector is selector  # type: ignore[attr-defined]
    assert clocks_untouched()
    await asyncio.sleep(0.01)  # and the loop still waits in real time


@pytest.mark.asyncio
async def test_a_bad_drain_says_what_it_takes() -> None:
    with pytest.raises(ValueError, match="drain must be True, False or a number of seconds"):
        await async_replayer().replay_async(AsyncBus(), clock="recorded", drain=-1)
    assert clocks_untouched()


def test_broker_adapters_stamp_what_they_receive_on_the_real_clock() -> None:
    """The recorder's offsets are on the real clock; what a broker's thread receives during a
    replay under the recorded clock must be too."""
    from pytest_eventrecorder.adapters.brokers import base
    from pytest_eventrecorder.timetravel import REAL_PERF_COUNTER_NS, VirtualTime

    with VirtualTime(START) as now:
        now.advance(3_600 * 10**9)
        assert abs(base.received_ns() - REAL_PERF_COUNTER_NS()) < 10**9
        assert time.perf_counter_ns() - REAL_PERF_COUNTER_NS() > 3_500 * 10**9
