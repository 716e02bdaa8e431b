"""Stress a system by replaying a large recording much faster than it happened.

    python examples/event_recorder/performance_test.py [--events 200000]

A day of trading is written as a ``.jsonl`` cassette (streamed to disk: never held in
memory), then replayed three ways into an order-book subscriber:

* as fast as possible (``speed_multiplier=float("inf")``), streaming from disk;
* its first 200 events fast-forwarded into one second, to see the schedule held;
* asynchronously, into an asyncio bus whose ``publish`` is a coroutine.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_eventrecorder import CassetteHeader, EventReplayer, RecordedEvent, write_events

DAY_MS = 24 * 3600 * 1000.0


class ServiceBus:
    def __init__(self) -> None:
        self.handlers: list[Any] = []

    def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        for handler in self.handlers:
            handler(event_name, event)


class AsyncServiceBus:
    def __init__(self) -> None:
        self.received = 0

    async def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        await asyncio.sleep(0)
        self.received += 1


class OrderBook:
    """Last price and traded volume per symbol."""

    def __init__(self) -> None:
        self.last: dict[str, float] = {}
        self.volume: dict[str, float] = defaultdict(float)
        self.arrivals: list[int] = []

    def __call__(self, event_name: str, event: dict[str, Any]) -> None:
        self.arrivals.append(time.perf_counter_ns())
        self.last[event["symbol"]] = event["price"]
        self.volume[event["symbol"]] += event["volume"]


def trading_day(events: int) -> Iterator[RecordedEvent]:
    gap = DAY_MS / events
    for i in range(events):
        symbol = ("BTC/USDT", "ETH/USDT")[i % 2]
        data = {"symbol": symbol, "price": 67_500.0 + (i % 500) / 10, "volume": 0.01 * (i % 7)}
        yield RecordedEvent(round(i * gap, 3), "MarketDataReceived", data, "MarketDataAgent")


def instant(path: Path) -> None:
    book, bus = OrderBook(), ServiceBus()
    bus.handlers.append(book)
    began = time.perf_counter()
    result = EventReplayer(path).replay(bus, speed_multiplier=float("inf"))
    seconds = time.perf_counter() - began
    print(
        f"Instant replay: {result.published:,} events in {seconds:.2f} s "
        f"({result.published / seconds:,.0f} events/s); last BTC price {book.last['BTC/USDT']}"
    )


def fast_forward(path: Path, events: int = 200, seconds: float = 1.0) -> None:
    """The first ``events`` events, at the speed that plays them in ``seconds``."""
    replayer = EventReplayer(path)
    boundary = next(itertools.islice(replayer, events, None)).timestamp_offset_ms
    head = replayer.slice(0, boundary)  # just those, in memory
    span_ms = head.events[-1].timestamp_offset_ms - head.events[0].timestamp_offset_ms
    speed = span_ms / (seconds * 1000)
    book, bus = OrderBook(), ServiceBus()
    bus.handlers.append(book)
    head.replay(bus, speed_multiplier=speed)
    first = head.events[0].timestamp_offset_ms
    errors = [
        (at - book.arrivals[0]) / 1e6 - (e.timestamp_offset_ms - first) / speed
        for at, e in zip(book.arrivals, head.events, strict=True)
    ]
    print(
        f"{speed:,.0f}x replay of {span_ms / 60_000:.1f} minutes ({len(errors)} events): "
        f"drift of the last event {errors[-1]:+.3f} ms, worst {max(map(abs, errors)):.3f} ms"
    )


def asynchronous(path: Path) -> None:
    bus = AsyncServiceBus()
    replayer = EventReplayer(path).slice(0, 600_000)  # ten minutes
    result = asyncio.run(replayer.replay_async(bus, speed_multiplier=float("inf")))
    print(f"Async replay: {result.published} events awaited, {bus.received} received")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events in the day")
    args = parser.parse_args()

    path = Path("recordings") / "normal_trading_day.jsonl"
    header = CassetteHeader("normal_trading_day", "2025-10-17T00:00:00.000Z")
    began = time.perf_counter()
    write_events(path, header, trading_day(args.events))
    size_mb = path.stat().st_size / 1e6
    print(f"Wrote {args.events:,} events ({size_mb:.1f} MB) in {time.perf_counter() - began:.2f} s")

    instant(path)
    fast_forward(path)
    asynchronous(path)


if __name__ == "__main__":
    main()
