"""Record a trading bot's event bus, then replay the recording to reproduce what it did.

    python examples/event_recorder/basic_recording.py

A market-data feed publishes prices on a small in-process ServiceBus; a trading bot
subscribes and opens or closes positions. EventRecorder captures every publish; the
recording is saved under ``recordings/`` and replayed (at 5x) into a fresh bus with a fresh
bot, which makes the same decisions: the bug, or the behaviour, reproduces.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pytest_eventrecorder import EventRecorder, EventReplayer

# --------------------------------------------------------------------------- the system


@dataclass
class MarketDataReceived:
    symbol: str
    price: float
    volume: float
    at: datetime


@dataclass
class PositionOpened:
    symbol: str
    side: str
    size: float
    entry_price: float


@dataclass
class PositionClosed:
    symbol: str
    exit_price: float
    pnl: float


class ServiceBus:
    """Subscribers per event name, called in the order they subscribed."""

    def __init__(self) -> None:
        self.subscribers: dict[str, list[Callable[[Any], None]]] = {}

    def subscribe(self, event_name: str, handler: Callable[[Any], None]) -> None:
        self.subscribers.setdefault(event_name, []).append(handler)

    def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        for handler in self.subscribers.get(event_name, []):
            handler(event)


class TradingBot:
    """Buys when the price dips 0.5% under its running average, sells 0.5% above entry."""

    def __init__(self, bus: ServiceBus) -> None:
        self.bus = bus
        self.prices: list[float] = []
        self.position: PositionOpened | None = None
        self.trades: list[str] = []
        bus.subscribe("MarketDataReceived", self.on_market_data)

    def on_market_data(self, tick: MarketDataReceived) -> None:
        self.prices.append(tick.price)
        average = sum(self.prices[-10:]) / len(self.prices[-10:])
        if self.position is None and tick.price < average * 0.995:
            self.position = PositionOpened(tick.symbol, "buy", 0.1, tick.price)
            self.trades.append(f"buy  {tick.symbol} @ {tick.price:,.2f}")
            self.bus.publish("PositionOpened", self.position, "TradingBot")
        elif self.position is not None and tick.price > self.position.entry_price * 1.005:
            pnl = (tick.price - self.position.entry_price) * self.position.size
            self.trades.append(f"sell {tick.symbol} @ {tick.price:,.2f} (pnl {pnl:+.2f})")
            self.bus.publish(
                "PositionClosed", PositionClosed(tick.symbol, tick.price, pnl), "TradingBot"
            )
            self.position = None


def run_market(bus: ServiceBus, ticks: int, seed: int = 8) -> None:
    """A random walk around 67,500 USDT, one tick every 5 ms."""
    rng = random.Random(seed)
    price = 67_500.0
    for _ in range(ticks):
        price *= 1 + rng.gauss(0, 0.004)
        tick = MarketDataReceived(
            "BTC/USDT", round(price, 2), round(rng.uniform(0.1, 5), 3), datetime.now(timezone.utc)
        )
        bus.publish("MarketDataReceived", tick, "MarketDataAgent")
        time.sleep(0.005)


# --------------------------------------------------------------------------- the example


def main() -> None:
    bus = ServiceBus()
    bot = TradingBot(bus)

    with EventRecorder("bull_run_2025", "recordings") as recorder:
        recorder.start_recording(bus)
        run_market(bus, ticks=60)
        path = recorder.save()
    print(f"Recorded {len(recorder.events)} events; recording saved to: {path}")
    print("Live trades:")
    for trade in bot.trades:
        print(f"  {trade}")

    replayer = EventReplayer(path)
    print("\nEvent summary:")
    for event_name, count in replayer.get_event_summary().items():
        print(f"  {event_name}: {count}x")
    print()
    replayer.print_timeline(max_events=5)

    # A fresh bot on a fresh bus sees only the market data; it must trade the same way.
    fresh_bus = ServiceBus()
    fresh_bot = TradingBot(fresh_bus)
    result = replayer.replay(
        fresh_bus,
        speed_multiplier=5.0,
        events_module_name="__main__",  # the event classes live in this script
        event_filter=lambda name: name == "MarketDataReceived",
    )
    print(f"\nReplayed {result.published} market-data events at 5x into a fresh bot.")
    same = fresh_bot.trades == bot.trades
    print(f"Replayed trades match the live ones: {same}")
    if not same:
        raise SystemExit("the replay did not reproduce the live trades")


if __name__ == "__main__":
    main()
