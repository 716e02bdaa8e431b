"""Replay only the events that matter: by name, by content, or by time.

    python examples/event_recorder/filtered_replay.py

A trading session with failures in it is recorded to a ``.jsonl`` cassette (streamed to
disk while recording, so a crash would not lose it). Then parts of it are replayed into a
risk monitor: only the failures, only one symbol, only a time window, and from an offset.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_eventrecorder import EventRecorder, EventReplayer

SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")


class ServiceBus:
    def __init__(self) -> None:
        self.subscribers: dict[str, list[Callable[[str, Any], None]]] = {}

    def subscribe(self, event_name: str, handler: Callable[[str, Any], None]) -> None:
        self.subscribers.setdefault(event_name, []).append(handler)

    def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        for handler in self.subscribers.get(event_name, []) + self.subscribers.get("*", []):
            handler(event_name, event)


class RiskMonitor:
    """Counts what it is shown, by event name."""

    def __init__(self, bus: ServiceBus) -> None:
        self.seen: list[str] = []
        bus.subscribe("*", lambda name, event: self.seen.append(f"{name} {event['symbol']}"))


def trading_session(bus: ServiceBus, orders: int = 80, seed: int = 3) -> None:
    rng = random.Random(seed)
    for i in range(orders):
        symbol = rng.choice(SYMBOLS)
        price = {"BTC/USDT": 67_500, "ETH/USDT": 3_400, "SOL/USDT": 150}[symbol]
        bus.publish("MarketDataReceived", {"symbol": symbol, "price": price}, "MarketDataAgent")
        order = {"symbol": symbol, "order_id": i, "size": round(rng.uniform(0.01, 2), 2)}
        if rng.random() < 0.15:
            bus.publish("OrderFailed", {**order, "reason": "insufficient margin"}, "TradingBot")
        elif rng.random() < 0.05:
            bus.publish("RiskLimitError", {**order, "limit": "max position"}, "RiskAgent")
        else:
            bus.publish("OrderFilled", order, "TradingBot")


def replay_into_monitor(replayer: EventReplayer, title: str, **options: Any) -> RiskMonitor:
    bus = ServiceBus()
    monitor = RiskMonitor(bus)
    result = replayer.replay(bus, speed_multiplier=float("inf"), **options)
    print(f"{title}: {result.published} events")
    for line in monitor.seen[:4]:
        print(f"    {line}")
    if len(monitor.seen) > 4:
        print(f"    ... and {len(monitor.seen) - 4} more")
    return monitor


def main() -> None:
    live = Path("recordings") / "trading_session.jsonl"
    bus = ServiceBus()
    with EventRecorder("trading_session", "recordings", stream_to=live) as recorder:
        recorder.start_recording(bus)
        trading_session(bus)
    print(f"Recorded {len(recorder.events)} events, streamed to {live}\n")

    replayer = EventReplayer(live)
    failures = replayer.filter_events(lambda name: "Failed" in name or "Error" in name)
    print(f"filter_events kept {len(failures)} failures (in memory, no temporary file)")
    monitor = replay_into_monitor(failures, "Failures only")
    assert all("Failed" in s or "Error" in s for s in monitor.seen)

    replay_into_monitor(
        replayer,
        "ETH/USDT orders only",
        event_filter=lambda name: name.startswith("Order"),
        where=lambda event: event.event_data["symbol"] == "ETH/USDT",
    )

    end_ms = replayer.header.duration_ms
    window = replayer.slice(end_ms / 2, end_ms)
    print(f"\nThe second half of the session, rebased to start at 0 ({len(window)} events):")
    window.print_timeline(max_events=3)

    def progress(current: int, total: int) -> None:
        if current == total:
            print(f"    progress: {current}/{total} ({current / total * 100:.1f}%)")

    replay_into_monitor(
        replayer, "\nFrom the middle on", start_at_ms=end_ms / 2, progress_callback=progress
    )


if __name__ == "__main__":
    main()
