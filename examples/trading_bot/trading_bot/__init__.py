"""A tiny trading bot wired to an in-process service bus (the pytest-eventrecorder example)."""

from .bot import AGGRESSIVE, CAUTIOUS, Strategy, TradingBot
from .bus import ServiceBus
from .events import DailyReport, OrderPlaced, PositionClosed, PriceTick
from .feed import SERIES, live_feed

__all__ = [
    "AGGRESSIVE",
    "CAUTIOUS",
    "SERIES",
    "DailyReport",
    "OrderPlaced",
    "PositionClosed",
    "PriceTick",
    "ServiceBus",
    "Strategy",
    "TradingBot",
    "live_feed",
]
