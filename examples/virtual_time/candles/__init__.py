"""One-minute candles from a trade feed: code whose behaviour depends on the clock."""

from .aggregator import CandleAggregator
from .bus import AsyncBus

__all__ = ["AsyncBus", "CandleAggregator"]
