"""A stand-in for an exchange's price stream: fixed series, published tick by tick."""

from __future__ import annotations

import time

from .bus import ServiceBus
from .events import PriceTick

SERIES: dict[str, tuple[float, ...]] = {
    "BTC": (100.0, 101.0, 100.5, 97.0, 96.5, 98.0, 100.2, 99.0, 95.0, 97.5, 99.1, 101.0),
    "ETH": (50.0, 50.2, 49.9, 50.1, 48.6, 49.0, 50.4, 50.0, 49.8, 50.1),
    "FLAT": (10.0, 10.0, 10.01, 9.99, 10.0, 10.0),
}


def live_feed(bus: ServiceBus, symbol: str, *, interval_s: float = 0.002) -> None:
    """Publish the symbol's series as ``PriceTick`` events from the ``exchange`` source."""
    for price in SERIES[symbol]:
        bus.publish("PriceTick", PriceTick(symbol, price, time.time()), "exchange")
        time.sleep(interval_s)
